/** An OrderChange as the watcher receives it over GraphQL (JSON, so dates are strings). */
export interface OrderState {
  customerName: string;
  productName: string;
  quantity: number;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Order extends OrderState {
  id: string;
}

export interface OrderChange {
  cursor: string;
  operation: 'INSERT' | 'UPDATE' | 'DELETE';
  order: Order;
  previous: OrderState | null;
  changedFields: string[];
  committedAt: string;
}

const STATE_FIELDS = 'customerName productName quantity status version createdAt updatedAt';

export const ORDER_CHANGE_FIELDS = `
  cursor operation changedFields committedAt
  order { id ${STATE_FIELDS} }
  previous { ${STATE_FIELDS} }`;

const ANSI = {
  reset: '\x1b[0m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  cyan: '\x1b[36m',
};
type Style = keyof typeof ANSI;

const OPERATION_STYLE: Record<OrderChange['operation'], Style> = {
  INSERT: 'green',
  UPDATE: 'yellow',
  DELETE: 'red',
};

// Shown as old → new after the status; version and updatedAt change on every update and say nothing.
const DETAIL_FIELDS = ['customerName', 'productName', 'quantity'] as const;

/** Colour only for a person at a terminal who has not asked for none (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/**
 * One line per change, e.g.
 * `14:03:07  UPDATE  #42  John Doe / Laptop ×2  PENDING → SHIPPED  (status)`
 */
export function formatChange(change: OrderChange, color = false): string {
  const paint = (style: Style, text: string) => (color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const { order, previous, operation } = change;
  const time = formatTime(change.committedAt);
  const status =
    operation === 'INSERT'
      ? `→ ${order.status}`
      : operation === 'DELETE'
        ? `${order.status} → ✕`
        : previous && previous.status !== order.status
          ? `${previous.status} → ${paint('bold', order.status)}`
          : order.status;
  const details =
    operation === 'UPDATE' && previous
      ? DETAIL_FIELDS.filter((field) => change.changedFields.includes(field)).map(
          (field) => `${field} ${show(previous[field])} → ${show(order[field])}`,
        )
      : [];
  const changed =
    operation === 'UPDATE' ? paint('dim', `(${change.changedFields.join(', ') || 'no field changed'})`) : '';
  return [
    paint('dim', time),
    paint(OPERATION_STYLE[operation], operation.padEnd(6)),
    paint('cyan', `#${order.id}`),
    `${order.customerName} / ${order.productName} ×${order.quantity}`,
    status,
    ...details,
    changed,
  ]
    .filter(Boolean)
    .join('  ');
}

/** The whole change as one line of JSON, as the server sent it. */
export function formatJson(change: OrderChange): string {
  return JSON.stringify(change);
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function show(value: string | number): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
