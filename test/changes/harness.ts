import { afterAll, beforeAll, expect } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import { ChangeFeed, type ChangeFeedOptions } from '../../src/changes/feed.ts';
import { MysqlChangeFeed } from '../../src/changes/mysql/feed.ts';
import { decodeCursor } from '../../src/changes/position.ts';
import type { ChangeSource } from '../../src/changes/source.ts';
import { isMysqlUrl } from '../../src/db/mysql.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import { type OrderWriter, openWriter, type WrittenRow } from './order-writer.ts';

/** What a writer saw its committed transaction do: the ground truth deliveries are checked against. */
export interface CommittedChange {
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  id: string;
  version: number;
  /** The writer's own name for the transaction, to check that its changes arrive together. */
  tx: string;
}

export const changeKey = (c: { op: string; id: string; version: number }) => `${c.op}:${c.id}:${c.version}`;
export const receivedKey = (c: OrderChange) =>
  changeKey({ op: c.operation, id: c.order.id, version: c.order.version });

/** The change feed of `database`'s kind (PostgreSQL's or MySQL's), not started yet. */
export function createFeed(database: TestDatabase, options: Partial<ChangeFeedOptions> = {}): ChangeSource {
  const feedOptions = {
    db: database.db,
    connectionString: database.url,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    retentionMs: 7 * 86400e3,
    pollIntervalMs: 200,
    checkIntervalMs: 200,
    checkTimeoutMs: 2_000,
    ...options,
  };
  return isMysqlUrl(database.url) ? new MysqlChangeFeed(feedOptions) : new ChangeFeed(feedOptions);
}

export async function startFeed(database: TestDatabase, options: Partial<ChangeFeedOptions> = {}) {
  const feed = createFeed(database, options);
  await feed.start();
  return feed;
}

/**
 * A test file's own database and its started feed: made before the file's tests, stopped and
 * dropped after them. Read them inside tests and hooks, once the file's beforeAll has run.
 */
export function feedForFile(options: Partial<ChangeFeedOptions> = {}): {
  readonly database: TestDatabase;
  readonly feed: ChangeSource;
} {
  let database: TestDatabase | undefined;
  let feed: ChangeSource | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    feed = await startFeed(database, options);
  });
  afterAll(async () => {
    await feed?.stop();
    await database?.drop();
  });
  const made = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the file's database and feed are made in its beforeAll");
    return value;
  };
  return {
    get database() {
      return made(database);
    },
    get feed() {
      return made(feed);
    },
  };
}

/** Reads an iterator of changes into an array until stopped. */
export function collect(iterator: AsyncIterableIterator<OrderChange>) {
  const changes: OrderChange[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const change of iterator) changes.push(change);
    } catch (error) {
      failure = error;
    }
  })();
  return {
    changes,
    get failure() {
      return failure;
    },
    async stop() {
      await iterator.return?.();
      await done;
    },
  };
}

/**
 * Every committed change arrived exactly once; per order, in commit order (versions rise, INSERT
 * first, DELETE last); each transaction's changes together; cursors strictly increasing byte-wise.
 */
export function expectExactDelivery(received: OrderChange[], committed: CommittedChange[]) {
  const keys = received.map(receivedKey);
  // Sets, not indexOf: a 20,000-row statement would make these checks quadratic (minutes).
  const seen = new Set<string>();
  const duplicates = keys.filter((k) => seen.has(k) || !seen.add(k));
  expect(duplicates, 'duplicates').toEqual([]);
  const expected = new Set(committed.map(changeKey));
  const missing = [...expected].filter((k) => !seen.has(k));
  expect(missing, 'missing changes').toEqual([]);
  const unexpected = keys.filter((k) => !expected.has(k));
  expect(unexpected, 'changes nobody committed').toEqual([]);

  for (let i = 1; i < received.length; i++) {
    const [a, b] = [received[i - 1] as OrderChange, received[i] as OrderChange];
    if (Buffer.compare(Buffer.from(a.cursor), Buffer.from(b.cursor)) >= 0) {
      throw new Error(`cursor ${b.cursor} does not follow ${a.cursor}`);
    }
  }

  const lastVersion = new Map<string, number>();
  const deleted = new Set<string>();
  for (const change of received) {
    const id = change.order.id;
    expect(deleted.has(id), `change to order ${id} after its DELETE`).toBe(false);
    const before = lastVersion.get(id);
    if (change.operation === 'INSERT') expect(before, `INSERT of order ${id} not first`).toBeUndefined();
    if (change.operation === 'UPDATE' && before !== undefined) {
      expect(change.order.version, `order ${id} out of order`).toBeGreaterThan(before);
    }
    if (change.operation === 'DELETE') {
      deleted.add(id);
      if (before !== undefined) expect(change.order.version, `order ${id} deleted out of order`).toBe(before);
    }
    lastVersion.set(id, change.order.version);
  }

  const txOf = new Map(committed.map((c) => [changeKey(c), c.tx]));
  const positions = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const tx = txOf.get(key) as string;
    const indexes = positions.get(tx);
    if (indexes) indexes.push(index);
    else positions.set(tx, [index]);
  });
  for (const [tx, indexes] of positions) {
    const contiguous = indexes.every((index, i) => i === 0 || index === (indexes[i - 1] as number) + 1);
    expect(contiguous, `transaction ${tx} split: ${indexes.join(',')}`).toBe(true);
  }
}

export async function waitForCount(changes: unknown[], count: number, timeoutMs = 30_000) {
  await waitFor(() => changes.length >= count, {
    timeoutMs,
    message: `${count} changes (have ${changes.length})`,
  });
  // Anything extra (a duplicate) would arrive right behind; give it the chance to show up.
  await new Promise((r) => setTimeout(r, 300));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A transaction whose COMMIT got no answer; its id tells afterwards whether it committed. */
export interface UncertainTransaction {
  txid: string;
  changes: CommittedChange[];
}

export interface WorkloadOptions {
  writers: number;
  transactionsPerWriter: number;
  /** Shared orders that writers update concurrently (row locks serialize them). */
  sharedIds: string[];
  /** Fraction of transactions that roll back. */
  rollbackRate?: number;
  /** Pause inside some transactions after their first write: they take seq values early and commit late. */
  slowMs?: number;
  slowRate?: number;
  /**
   * Where a transaction goes whose COMMIT got no answer (the connection died meanwhile): it may or
   * may not have committed. Without this, a writer must never lose its connection.
   */
  uncertain?: UncertainTransaction[];
}

let workloadRuns = 0;

/** A repeatable pseudo-random sequence in [0, 1), so a workload's mix is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Writers on connections of their own (OrderWriter: PostgreSQL or MySQL/MariaDB, as the URL
 * says), recording what each committed transaction did, as the database reported it. Failed
 * transactions (deadlocks) are rolled back and not recorded.
 */
export async function runWorkload(url: string, options: WorkloadOptions): Promise<CommittedChange[]> {
  if (options.uncertain && isMysqlUrl(url))
    throw new Error('uncertain COMMITs are looked up with pg_xact_status(): PostgreSQL only');
  const run = ++workloadRuns;
  const committed: CommittedChange[] = [];
  const random = seededRandom(12345);
  await Promise.all(
    Array.from({ length: options.writers }, async (_, w) => {
      let writer: OrderWriter;
      try {
        writer = await openWriter(url);
      } catch (error) {
        if (options.uncertain) return;
        throw error;
      }
      const own: string[] = [];
      try {
        // A writer whose connection dies stops writing; the error is seen by the failing query.
        for (let t = 0; t < options.transactionsPerWriter && !writer.broken; t++) {
          const tx = `r${run}w${w}t${t}`;
          const changes: CommittedChange[] = [];
          const slow = random() < (options.slowRate ?? 0);
          const rollback = random() < (options.rollbackRate ?? 0);
          const record = (op: CommittedChange['op'], row: WrittenRow | undefined) => {
            if (row) changes.push({ op, id: row.id, version: row.version, tx });
          };
          try {
            await writer.begin();
            // Only asked for when a COMMIT may go unanswered: pg_xact_status() answers later.
            const txid = options.uncertain ? await writer.transactionId() : undefined;
            const steps = 1 + Math.floor(random() * 3);
            for (let s = 0; s < steps; s++) {
              const pick = random();
              if (pick < 0.45 || own.length === 0) {
                record('INSERT', await writer.insert({ customer: tx, quantity: 1 + s }));
              } else if (pick < 0.85) {
                const id =
                  random() < 0.5
                    ? own[Math.floor(random() * own.length)]
                    : options.sharedIds[Math.floor(random() * options.sharedIds.length)];
                record('UPDATE', await writer.update(id as string));
              } else {
                record('DELETE', await writer.delete(own[own.length - 1] as string));
              }
              if (slow && s === 0) await sleep(options.slowMs ?? 200);
            }
            if (rollback) {
              await writer.rollback();
              continue;
            }
            try {
              await writer.commit();
            } catch (error) {
              if (!options.uncertain) throw error;
              options.uncertain.push({ txid: txid as string, changes });
              break;
            }
            committed.push(...changes);
            for (const c of changes) {
              if (c.op === 'INSERT') own.push(c.id);
              if (c.op === 'DELETE' && own.includes(c.id)) own.splice(own.indexOf(c.id), 1);
            }
          } catch {
            // A deadlock (or a lost connection) rolled the transaction back: nothing to record.
            await writer.rollback().catch(() => {});
          }
        }
      } finally {
        await writer.end();
      }
    }),
  );
  return committed;
}

/** Shared orders for the workload to fight over, committed in one transaction. */
export async function seedOrders(
  database: TestDatabase,
  count: number,
): Promise<{ ids: string[]; changes: CommittedChange[] }> {
  const writer = await openWriter(database.url);
  const changes: CommittedChange[] = [];
  try {
    await writer.begin();
    for (let i = 1; i <= count; i++) {
      const row = await writer.insert({ customer: 'seed', product: `item ${i}` });
      changes.push({ op: 'INSERT', id: row.id, version: row.version, tx: 'seed' });
    }
    await writer.commit();
  } finally {
    await writer.end();
  }
  return { ids: changes.map((c) => c.id), changes };
}

/**
 * How many of these changes a reader of `seq > last seen` would have lost: those that became
 * visible in a later tick than a change with a higher seq.
 */
export function naiveReaderLosses(received: OrderChange[]): number {
  let seenBefore = 0;
  let seenThisTick = 0;
  let tick = -1;
  let lost = 0;
  for (const change of received) {
    const { position } = decodeCursor(change.cursor);
    if (position.tick !== tick) {
      seenBefore = Math.max(seenBefore, seenThisTick);
      tick = position.tick;
    }
    if (position.seq < seenBefore) lost++;
    seenThisTick = Math.max(seenThisTick, position.seq);
  }
  return lost;
}
