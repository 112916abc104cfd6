import type { ReactNode } from 'react';
import { formatDateTime, formatTime, STATUSES, statusLabel } from '../format.ts';
import type { OrderStatus } from '../gql/graphql.ts';
import type { FeedEntry, Order, PageSpec } from '../live-orders.ts';

const PAGE_SIZES = [10, 20, 50];
const RECENT_MS = 5_000;

interface Props {
  orders: Order[];
  loading: boolean;
  spec: PageSpec;
  pageNumber: number;
  hasNextPage: boolean;
  touched: Map<string, FeedEntry>;
  onFilter(status: OrderStatus | null, size: number): void;
  onPrevious(): void;
  onNext(): void;
  /** Absent for a role that may not write: no Edit and Delete buttons. */
  onEdit?: ((order: Order) => void) | undefined;
  onDelete?: ((order: Order) => void) | undefined;
}

export function OrdersTable(props: Props) {
  const { orders, spec, touched } = props;
  const now = Date.now();
  const recent = (id: string) => {
    const entry = touched.get(id);
    return entry && now - entry.receivedAt < RECENT_MS ? entry : undefined;
  };
  const filterLabel = spec.status ? `${statusLabel(spec.status).toLowerCase()} orders` : 'all orders';
  return (
    <section className="panel orders" aria-labelledby="orders-heading">
      <header className="panel-header">
        <h2 id="orders-heading">Orders</h2>
        <div className="toolbar">
          <label>
            Status
            <select
              value={spec.status ?? ''}
              onChange={(e) => props.onFilter((e.target.value || null) as OrderStatus | null, spec.size)}
            >
              <option value="">All</option>
              {STATUSES.map((status) => (
                <option key={status} value={status}>
                  {statusLabel(status)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Per page
            <select value={spec.size} onChange={(e) => props.onFilter(spec.status, Number(e.target.value))}>
              {PAGE_SIZES.map((size) => (
                <option key={size}>{size}</option>
              ))}
            </select>
          </label>
        </div>
      </header>
      <div className="table-wrap">
        <table aria-busy={props.loading} aria-describedby="orders-page">
          <caption className="visually-hidden">
            {`Page ${props.pageNumber} of ${filterLabel}, by ascending id, updated live`}
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Customer</th>
              <th scope="col">Product</th>
              <th scope="col" className="num">
                Qty
              </th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Ver.
              </th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => {
              const change = recent(order.id);
              const changed = (field: string, content: ReactNode) =>
                change?.operation === 'UPDATE' && change.changedFields.includes(field) ? (
                  <span className="flash" key={change.cursor}>
                    {content}
                  </span>
                ) : (
                  content
                );
              return (
                <tr
                  key={order.id}
                  data-order-id={order.id}
                  className={change?.operation === 'INSERT' ? 'row-inserted' : undefined}
                >
                  <th scope="row" data-label="Order">
                    #{order.id}
                  </th>
                  <td data-label="Customer">{changed('customerName', order.customerName)}</td>
                  <td data-label="Product">{changed('productName', order.productName)}</td>
                  <td data-label="Quantity" className="num">
                    {changed('quantity', order.quantity)}
                  </td>
                  <td data-label="Status">{changed('status', <StatusBadge status={order.status} />)}</td>
                  <td data-label="Version" className="num">
                    {changed('version', `v${order.version}`)}
                  </td>
                  <td data-label="Updated">
                    <time dateTime={order.updatedAt} title={formatDateTime(order.updatedAt)}>
                      {formatTime(order.updatedAt)}
                    </time>
                  </td>
                  <td className="actions">
                    {props.onEdit && (
                      <button type="button" className="small" onClick={() => props.onEdit?.(order)}>
                        Edit<span className="visually-hidden"> order {order.id}</span>
                      </button>
                    )}
                    {props.onDelete && (
                      <button type="button" className="small danger" onClick={() => props.onDelete?.(order)}>
                        Delete<span className="visually-hidden"> order {order.id}</span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {!props.loading && orders.length === 0 && (
          <p className="empty">
            No {filterLabel} on this page yet. New ones appear here as soon as they are committed.
          </p>
        )}
      </div>
      <nav className="pager" aria-label="Pages">
        <button type="button" onClick={props.onPrevious} disabled={props.pageNumber === 1}>
          ← Previous
        </button>
        <span id="orders-page">
          Page {props.pageNumber} · {orders.length} {orders.length === 1 ? 'order' : 'orders'}
        </span>
        <button type="button" onClick={props.onNext} disabled={!props.hasNextPage}>
          Next →
        </button>
      </nav>
    </section>
  );
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`status status-${status.toLowerCase()}`}>{statusLabel(status)}</span>;
}
