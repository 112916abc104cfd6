import { STATUSES, statusLabel } from '../format.ts';
import type { OrderStatus } from '../gql/graphql.ts';
import type { Order } from '../live-orders.ts';
import { useSession } from '../session-context.ts';

export interface OrderValues {
  customerName: string;
  productName: string;
  quantity: string;
  status: OrderStatus;
}

export const EMPTY_VALUES: OrderValues = {
  customerName: '',
  productName: '',
  quantity: '1',
  status: 'PENDING',
};

export const valuesOf = (order: Order): OrderValues => ({
  customerName: order.customerName,
  productName: order.productName,
  quantity: String(order.quantity),
  status: order.status,
});

interface Props {
  id: string;
  values: OrderValues;
  onChange(values: OrderValues): void;
  /** The field the server refused, with its reason. */
  invalid?: { field: string; message: string } | undefined;
  disabled?: boolean;
}

/** The four inputs of an order, labelled, with the server's complaint beside the field it names. */
export function OrderFields({ id, values, onChange, invalid, disabled }: Props) {
  // A customer's orders always carry its own name; the server refuses any other.
  const { customer } = useSession();
  const set = <K extends keyof OrderValues>(key: K, value: OrderValues[K]) =>
    onChange({ ...values, [key]: value });
  const errorFor = (field: keyof OrderValues) =>
    invalid?.field === field ? { 'aria-invalid': true, 'aria-describedby': `${id}-${field}-error` } : {};
  const message = (field: keyof OrderValues) =>
    invalid?.field === field && (
      <span className="field-error" id={`${id}-${field}-error`}>
        {invalid.message}
      </span>
    );
  return (
    <div className="fields">
      <label className="field">
        <span>Customer</span>
        <input
          name="customerName"
          required
          maxLength={200}
          autoComplete="off"
          value={customer ?? values.customerName}
          readOnly={customer !== undefined}
          disabled={disabled}
          onChange={(e) => set('customerName', e.target.value)}
          {...errorFor('customerName')}
        />
        {message('customerName')}
      </label>
      <label className="field">
        <span>Product</span>
        <input
          name="productName"
          required
          maxLength={200}
          autoComplete="off"
          value={values.productName}
          disabled={disabled}
          onChange={(e) => set('productName', e.target.value)}
          {...errorFor('productName')}
        />
        {message('productName')}
      </label>
      <label className="field narrow">
        <span>Quantity</span>
        <input
          name="quantity"
          type="number"
          inputMode="numeric"
          required
          min={1}
          max={1_000_000}
          step={1}
          value={values.quantity}
          disabled={disabled}
          onChange={(e) => set('quantity', e.target.value)}
          {...errorFor('quantity')}
        />
        {message('quantity')}
      </label>
      <label className="field narrow">
        <span>Status</span>
        <select
          name="status"
          value={values.status}
          disabled={disabled}
          onChange={(e) => set('status', e.target.value as OrderStatus)}
          {...errorFor('status')}
        >
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {statusLabel(status)}
            </option>
          ))}
        </select>
        {message('status')}
      </label>
    </div>
  );
}
