import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { DomainError } from '../errors.ts';
import type { OrderRow } from '../orders/order.ts';
import type { ChangeOperation, LogEntry } from './change.ts';
import { END, endOfTick, type Position, parseSnapshot, type Snapshot } from './position.ts';

export interface Tick {
  id: number;
  snapshot: string;
  createdAt: Date;
}

/** A tick with what its batch needs: the previous tick's snapshot and the batch's transactions. */
interface Batch {
  tick: Tick;
  previous: Snapshot;
  /** Transactions in delivery order: by their last seq, which precedes their commit. */
  transactions: { txid: string; last: number; count: number }[];
  size: number;
}

export interface ReadResult {
  entries: LogEntry[];
  /** Where the read stopped: the last entry, or further when it crossed empty ends of batches. */
  position: Position;
}

const expired = () =>
  new DomainError(
    'CURSOR_EXPIRED',
    'cursor is older than the change log retention; read a fresh snapshot',
    {},
  );

/**
 * Reads the durable change log in delivery order. Ticks and batches never change once committed,
 * so what is read is cached; only pruning removes them, which readers see as CURSOR_EXPIRED.
 */
export class ChangeLog {
  private readonly ticks = new Map<number, Tick>();
  private readonly batches = new Map<number, Batch>();

  constructor(
    private readonly db: Kysely<Database>,
    /** CHANGE_RETENTION: positions in ticks older than this are expired, pruned or not yet. */
    private readonly retentionMs: number,
    private readonly cacheSize = 2_000,
  ) {}

  async latestTick(): Promise<Tick> {
    const { rows } = await sql<TickRow>`
      SELECT tick_id, snapshot::text, created_at FROM change_ticks ORDER BY tick_id DESC LIMIT 1`.execute(
      this.db,
    );
    const row = rows[0];
    if (!row) throw new Error('change_ticks is empty: migrations did not run');
    return this.remember(row);
  }

  /**
   * The oldest position still resumable is the end of the base tick: the oldest kept, or the
   * newest one older than the retention (what the next pruning keeps), whichever is newer. Expiry
   * thus follows CHANGE_RETENTION exactly, whenever pruning happens to run.
   */
  async baseTick(): Promise<number> {
    return (await this.bounds()).base;
  }

  private async bounds(): Promise<{ base: number; latest: number }> {
    const { rows } = await sql<{ base: string; latest: string }>`
      SELECT greatest(
        (SELECT min(tick_id) FROM change_ticks),
        (SELECT tick_id FROM change_ticks
         WHERE created_at < clock_timestamp() - make_interval(secs => ${this.retentionMs / 1000})
         ORDER BY created_at DESC LIMIT 1)
      ) AS base, (SELECT max(tick_id) FROM change_ticks) AS latest`.execute(this.db);
    return { base: Number(rows[0]?.base ?? 0), latest: Number(rows[0]?.latest ?? 0) };
  }

  async ticksAfter(tick: number, limit: number): Promise<Tick[]> {
    const { rows } = await sql<TickRow>`
      SELECT tick_id, snapshot::text, created_at FROM change_ticks
      WHERE tick_id > ${tick} ORDER BY tick_id LIMIT ${limit}`.execute(this.db);
    return rows.map((r) => this.remember(r));
  }

  /** Checks that a reader may start at `position`: not pruned, not ahead of the log. */
  async checkPosition(position: Position): Promise<void> {
    const { base, latest } = await this.bounds();
    if (position.tick < base || (position.tick === base && position.last !== END)) throw expired();
    if (position.tick > latest) {
      throw new DomainError('BAD_USER_INPUT', 'after: cursor is ahead of this change feed', {
        field: 'after',
      });
    }
  }

  async batch(tickId: number): Promise<Batch> {
    const cached = this.batches.get(tickId);
    if (cached) return cached;
    // The tick, its predecessor and the batch's transactions in one round trip. No row at all:
    // the predecessor was pruned, so the batch can no longer be read whole.
    const { rows: txs } = await sql<
      TickRow & { before: string; txid: string | null; last: string; count: string }
    >`
      WITH pair AS (
        SELECT tick_id, snapshot, created_at FROM change_ticks
        WHERE tick_id <= ${tickId} ORDER BY tick_id DESC LIMIT 2
      ), cur AS (SELECT * FROM pair WHERE tick_id = ${tickId}), prev AS (SELECT * FROM pair WHERE tick_id = ${tickId - 1})
      SELECT cur.tick_id, cur.snapshot::text, cur.created_at, prev.snapshot::text AS before, tx.txid, tx.last, tx.count
      FROM cur CROSS JOIN prev LEFT JOIN LATERAL (
        SELECT txid::text, max(seq) AS last, count(*) AS count FROM order_changes
        WHERE txid >= pg_snapshot_xmin(prev.snapshot) AND txid < pg_snapshot_xmax(cur.snapshot)
          AND pg_visible_in_snapshot(txid, cur.snapshot) AND NOT pg_visible_in_snapshot(txid, prev.snapshot)
        GROUP BY txid
      ) tx ON true
      ORDER BY tx.last`.execute(this.db);
    const first = txs[0];
    if (!first) throw expired();
    const tick = this.remember(first);
    const before = { snapshot: first.before };
    const transactions = txs.flatMap((t) =>
      t.txid === null ? [] : [{ txid: t.txid, last: Number(t.last), count: Number(t.count) }],
    );
    const batch: Batch = {
      tick,
      previous: parseSnapshot(before.snapshot),
      transactions,
      size: transactions.reduce((n, t) => n + t.count, 0),
    };
    setBounded(this.batches, tickId, batch, this.cacheSize);
    return batch;
  }

  /**
   * A tick's whole batch in delivery order, in one round trip, when it has at most `max` changes;
   * undefined when it has more (readers then read it a page at a time). Either way the batch's
   * transactions are remembered, as batch() would.
   */
  async wholeBatch(tickId: number, max: number): Promise<LogEntry[] | undefined> {
    const { rows } = await sql<{ batch: string | null }>`
      SELECT change_batch(${tickId}, ${Math.floor(max)}) AS batch`.execute(this.db);
    return this.decodeBatch(rows[0]?.batch ?? null, max);
  }

  /**
   * A batch as change_batch returns it (here, or with the tick that made it: the Ticker's poll),
   * in delivery order; undefined when it has more than `max` changes, CURSOR_EXPIRED when null.
   */
  decodeBatch(text: string | null, max: number): LogEntry[] | undefined {
    if (text === null) throw expired();
    const [tickId, snapshot, createdAt, before, txs, changes] = JSON.parse(text) as EncodedBatch;
    const tick: Tick = { id: tickId, snapshot, createdAt: new Date(createdAt) };
    setBounded(this.ticks, tick.id, tick, this.cacheSize);
    const transactions = txs.map(([txid, last, count]) => ({ txid, last, count }));
    const batch: Batch = {
      tick,
      previous: parseSnapshot(before),
      transactions,
      size: transactions.reduce((n, t) => n + t.count, 0),
    };
    setBounded(this.batches, tickId, batch, this.cacheSize);
    if (changes === null || batch.size > max) return undefined;
    const indexes = new Map(transactions.map((tx, index) => [tx.txid, index]));
    return changes.map(([seq, txid, op, orderId, oldRow, newRow, actor]) =>
      logEntry(batch, indexes.get(txid) as number, seq, op, orderId, oldRow, newRow, actor),
    );
  }

  /**
   * Up to `limit` entries after `from`, never past the end of tick `untilTick`.
   */
  async readAfter(from: Position, limit: number, untilTick: number): Promise<ReadResult> {
    const entries: LogEntry[] = [];
    let position = from;
    while (entries.length < limit) {
      if (position.last === END) {
        if (position.tick >= untilTick) break;
        const next = this.ticks.get(position.tick + 1) ?? (await this.ticksAfter(position.tick, 100))[0];
        // Tick ids have no holes, so a missing successor was pruned while we read.
        if (!next) throw expired();
        if (next.id > untilTick) break;
        position = { tick: next.id, last: 0, seq: 0 };
      }
      const batch = await this.batch(position.tick);
      const { rows, rest } = await this.batchChanges(batch, position, limit - entries.length);
      for (const row of rows) {
        const entry = logEntry(
          batch,
          row.tx,
          Number(row.seq),
          row.op,
          row.order_id,
          row.old_row,
          row.new_row,
          row.actor,
        );
        entries.push(entry);
        position = entry.position;
      }
      if (entries.length >= limit) return { entries, position };
      // Transactions left out of this query (their counts seemed to fill the page) come next.
      if (!rest) position = endOfTick(position.tick);
    }
    return { entries, position };
  }

  /**
   * Up to `limit` changes of a batch after `from`, in delivery order, in one query: the transactions
   * that can hold them (their counts are known) each read through read_order_changes, which keeps
   * the ordered index scan of (txid, seq), so a page of a 100k-row transaction reads only the page.
   * The page comes back as plain rows, each captured row (json) parsed by the driver. Aggregated
   * into one JSON text (json_agg of json_build_array), a page of 500 cost PostgreSQL about 4 ms
   * more than its rows, and the service saved only about 1 ms of decoding in return.
   */
  private async batchChanges(
    batch: Batch,
    from: Position,
    limit: number,
  ): Promise<{ rows: PageRow[]; rest: boolean }> {
    const txids: string[] = [];
    const indexes: number[] = [];
    const afters: number[] = [];
    let room = 0;
    let rest = false;
    for (const [index, tx] of batch.transactions.entries()) {
      if (room >= limit) {
        rest = true;
        break;
      }
      if (tx.last < from.last) continue;
      const afterSeq = tx.last === from.last ? from.seq : 0;
      if (afterSeq >= tx.last) continue;
      txids.push(tx.txid);
      indexes.push(index);
      afters.push(afterSeq);
      room += tx.count;
    }
    if (txids.length === 0) return { rows: [], rest: false };
    // order_id as text whatever the driver's parser for int8: a bigint may exceed a JS number.
    const { rows } = await sql<PageRow>`
      SELECT c.seq, t.tx, c.op, c.order_id::text AS order_id, c.old_row, c.new_row, c.actor
      FROM unnest(${txids}::xid8[], ${indexes}::int[], ${afters}::bigint[]) WITH ORDINALITY
        AS t(txid, tx, after_seq, ord)
      CROSS JOIN LATERAL read_order_changes(t.txid, t.after_seq, ${limit}) c
      ORDER BY t.ord, c.seq LIMIT ${limit}`.execute(this.db);
    return { rows, rest };
  }

  private remember(row: TickRow): Tick {
    const tick = { id: Number(row.tick_id), snapshot: row.snapshot, createdAt: new Date(row.created_at) };
    setBounded(this.ticks, tick.id, tick, this.cacheSize);
    return tick;
  }
}

interface TickRow {
  tick_id: string;
  snapshot: string;
  created_at: Date;
}

/** change_batch's text (see its migration). */
type EncodedBatch = [number, string, number, string, [string, number, number][], BatchChange[] | null];

/** A change as change_batch reads it: seq, its transaction's id, op, order_id, rows, actor. */
type BatchChange = [number, string, ChangeOperation, string, OrderRow | null, OrderRow | null, string | null];

/** A row of batchChanges' query: seq (int8) as text, tx the index of its transaction in the batch. */
interface PageRow {
  seq: string;
  tx: number;
  op: ChangeOperation;
  order_id: string;
  old_row: OrderRow | null;
  new_row: OrderRow | null;
  actor: string | null;
}

/** The entry of a change of `batch`'s transaction `index` (its place in the batch). */
function logEntry(
  batch: Batch,
  index: number,
  seq: number,
  op: ChangeOperation,
  orderId: string,
  oldRow: OrderRow | null,
  newRow: OrderRow | null,
  actor: string | null,
): LogEntry {
  const tx = batch.transactions[index] as Batch['transactions'][number];
  return {
    position: { tick: batch.tick.id, last: tx.last, seq },
    txid: Number(tx.txid),
    batchXmin: batch.previous.xmin,
    committedAt: batch.tick.createdAt,
    op,
    orderId,
    oldRow,
    newRow,
    actor,
  };
}

function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
