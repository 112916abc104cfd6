import { parseArgs } from 'node:util';

export const STATUSES = ['PENDING', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export const OPERATIONS = ['INSERT', 'UPDATE', 'DELETE'] as const;
export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export interface ChangeFilter {
  ids?: string[];
  statuses?: string[];
  operations?: string[];
}

export interface WatchArgs {
  /** The graphql-ws endpoint, always ws:// or wss://. */
  url: string;
  /** The URL as the user gave it (or the default), for the resume hint. */
  givenUrl: string;
  where: ChangeFilter | undefined;
  after: string | undefined;
  json: boolean;
  help: boolean;
  /** A JWT for servers with authentication on (--token, else ORDERS_TOKEN); never in the resume hint. */
  token: string | undefined;
}

export class UsageError extends Error {}

export const USAGE = `Usage: npm run watch -- [options]

Prints every change to the orders as it happens, one line each.

Options
  --status S       only changes to orders whose status is (or was) S: ${STATUSES.join(', ').toLowerCase()}
  --operation OP   only these operations: insert, update, delete
  --id ID          only changes to this order
  --after CURSOR   replay everything after CURSOR first, then go on live
  --url URL        the GraphQL endpoint, http(s):// or ws(s):// (default ${DEFAULT_URL})
  --json           one OrderChange JSON object per line, for jq and other programs
  --token JWT      for a server with authentication on (default: the ORDERS_TOKEN variable)
  -h, --help       this text

Filters repeat or take comma-separated values: --status pending,shipped --status delivered
On Ctrl-C the watcher prints the cursor to resume from.`;

export function parseWatchArgs(argv: string[], env: NodeJS.ProcessEnv = {}): WatchArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const statuses = oneOf('--status', list(values.status), STATUSES);
  const operations = oneOf('--operation', list(values.operation), OPERATIONS);
  const ids = list(values.id);
  for (const id of ids) {
    if (!/^[1-9]\d{0,18}$/.test(id)) throw new UsageError(`--id: "${id}" is not an order id`);
  }
  const afters = values.after ?? [];
  if (afters.length > 1) throw new UsageError('--after: give one cursor');
  const after = afters[0]?.trim();
  if (after === '') throw new UsageError('--after: the cursor is empty');
  const givenUrl = values.url?.at(-1) ?? DEFAULT_URL;
  const where: ChangeFilter = {};
  if (statuses.length) where.statuses = statuses;
  if (operations.length) where.operations = operations;
  if (ids.length) where.ids = ids;
  return {
    url: toWebSocketUrl(givenUrl),
    givenUrl,
    where: Object.keys(where).length ? where : undefined,
    after,
    json: values.json ?? false,
    help: values.help ?? false,
    token: token(values.token?.at(-1) ?? env.ORDERS_TOKEN),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      status: { type: 'string', multiple: true },
      operation: { type: 'string', multiple: true },
      id: { type: 'string', multiple: true },
      after: { type: 'string', multiple: true },
      url: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      token: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function token(value: string | undefined): string | undefined {
  const trimmed = value?.trim().replace(/^Bearer\s+/i, '');
  if (trimmed === undefined || trimmed === '') return undefined;
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(trimmed))
    throw new UsageError('--token: not a JWT (three base64url parts)');
  return trimmed;
}

function list(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

function oneOf(flag: string, given: string[], allowed: readonly string[]): string[] {
  const result = new Set<string>();
  for (const value of given) {
    const upper = value.toUpperCase();
    if (!allowed.includes(upper)) {
      throw new UsageError(
        `${flag}: "${value}" is not one of ${allowed.map((a) => a.toLowerCase()).join(', ')}`,
      );
    }
    result.add(upper);
  }
  return [...result];
}

/** http(s) becomes ws(s); a URL without a path gets /graphql. */
export function toWebSocketUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given.includes('://') ? given : `http://${given}`);
  } catch {
    throw new UsageError(`--url: "${given}" is not a URL`);
  }
  const protocols: Record<string, string> = {
    'http:': 'ws:',
    'https:': 'wss:',
    'ws:': 'ws:',
    'wss:': 'wss:',
  };
  const protocol = protocols[url.protocol];
  if (!protocol)
    throw new UsageError(`--url: must start with http://, https://, ws:// or wss:// (got ${given})`);
  url.protocol = protocol;
  if (url.pathname === '/') url.pathname = '/graphql';
  return url.toString();
}

/** The command line that picks up right after `cursor`, with the same filters and output. */
export function resumeCommand(args: WatchArgs, cursor: string): string {
  const parts = ['npm run watch --'];
  if (args.where?.statuses) parts.push(`--status ${args.where.statuses.join(',').toLowerCase()}`);
  if (args.where?.operations) parts.push(`--operation ${args.where.operations.join(',').toLowerCase()}`);
  if (args.where?.ids) parts.push(`--id ${args.where.ids.join(',')}`);
  if (args.givenUrl !== DEFAULT_URL) parts.push(`--url ${shellQuote(args.givenUrl)}`);
  if (args.json) parts.push('--json');
  parts.push(`--after ${shellQuote(cursor)}`);
  return parts.join(' ');
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
