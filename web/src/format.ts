import type { OrderStatus } from './gql/graphql.ts';

export const STATUSES: OrderStatus[] = ['PENDING', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

export const statusLabel = (status: OrderStatus) => status.charAt(0) + status.slice(1).toLowerCase();

const FIELD_LABELS: Record<string, string> = {
  customerName: 'Customer',
  productName: 'Product',
  quantity: 'Quantity',
  status: 'Status',
  version: 'Version',
  createdAt: 'Created',
  updatedAt: 'Updated',
};

export const fieldLabel = (field: string) => FIELD_LABELS[field] ?? field;

export function formatValue(field: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (field === 'status') return statusLabel(value as OrderStatus);
  if (field === 'createdAt' || field === 'updatedAt') return formatTime(String(value));
  return String(value);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const formatTime = (iso: string) => timeFormat.format(new Date(iso));
export const formatDateTime = (iso: string) => dateTimeFormat.format(new Date(iso));

/** "0 s", "12 s", "4 min", "2 h". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

/** "just now", "12 s ago", "4 min ago". */
export const formatAge = (ms: number) => (ms < 2_000 ? 'just now' : `${formatDuration(ms)} ago`);
