import { fieldLabel, formatDateTime, formatTime, formatValue } from '../format.ts';
import type { FeedEntry } from '../live-orders.ts';

const VERBS = { INSERT: 'Created', UPDATE: 'Updated', DELETE: 'Deleted' } as const;
// Bookkeeping fields: the version shows in the heading, the time beside it.
const QUIET = new Set(['version', 'updatedAt', 'createdAt']);

/** The latest changes, newest first; read out to screen readers as they arrive. */
export function ActivityFeed({ entries }: { entries: FeedEntry[] }) {
  return (
    <section className="panel feed" aria-labelledby="feed-heading">
      <header className="panel-header">
        <h2 id="feed-heading">Activity</h2>
        <span className="muted">{entries.length ? `latest ${entries.length}` : ''}</span>
      </header>
      {entries.length === 0 && (
        <p className="empty">Changes made anywhere (this page, the API, psql) appear here live.</p>
      )}
      <ol className="feed-list" aria-live="polite" aria-relevant="additions">
        {entries.map((entry) => (
          <FeedItem key={entry.cursor} entry={entry} />
        ))}
      </ol>
    </section>
  );
}

function FeedItem({ entry }: { entry: FeedEntry }) {
  const { order, previous } = entry;
  const fields = entry.changedFields.filter((field) => !QUIET.has(field));
  return (
    <li
      className={`feed-item op-${entry.operation.toLowerCase()}`}
      data-order-id={order.id}
      data-cursor={entry.cursor}
    >
      <div className="feed-head">
        <span className="op">{VERBS[entry.operation]}</span>
        <strong>order #{order.id}</strong>
        <span className="muted">
          {previous && entry.operation === 'UPDATE'
            ? `v${previous.version} → v${order.version}`
            : `v${order.version}`}
        </span>
        <time dateTime={entry.committedAt} title={formatDateTime(entry.committedAt)}>
          {formatTime(entry.committedAt)}
        </time>
      </div>
      {entry.changedBy ? <p className="feed-actor muted">by {entry.changedBy}</p> : null}
      {entry.operation === 'UPDATE' && previous ? (
        fields.length ? (
          <ul className="diff">
            {fields.map((field) => (
              <li key={field}>
                <span className="field">{fieldLabel(field)}</span>{' '}
                <del>{formatValue(field, previous[field as keyof typeof previous])}</del> →{' '}
                <ins>{formatValue(field, order[field as keyof typeof order])}</ins>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">Saved without changes</p>
        )
      ) : (
        <p className="feed-summary">
          {order.customerName} · {order.productName} × {order.quantity} ·{' '}
          {formatValue('status', order.status)}
        </p>
      )}
    </li>
  );
}
