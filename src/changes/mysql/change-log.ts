import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import { DomainError } from '../../errors.ts';
import type { OrderRow } from '../../orders/order.ts';
import type { ChangeOperation, LogEntry } from '../change.ts';
import type { ReadResult } from '../change-log.ts';
import type { Position } from '../position.ts';

/** Rows deleted per statement when pruning, as on PostgreSQL (src/changes/retention.ts). */
const PRUNE_BATCH = 10_000;

/**
 * The change log on MySQL/MariaDB. Only the binlog capture writes it, one transaction after the
 * other in binary-log order, so `seq` order is commit order and a row with a higher seq is never
 * visible before a lower one: reading `seq > last` is exact here, unlike with triggers.
 * A position is `{ tick: seq }` (last and seq unused), so cursors sort as on PostgreSQL.
 */
export class MysqlChangeLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly retentionMs: number,
  ) {}

  /** The newest seq recorded (or pruned): the head of the log. */
  async latestSeq(): Promise<number> {
    const { rows } = await sql<{ latest: string | null }>`
      SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM order_changes), 0),
        (SELECT pruned_through FROM change_capture WHERE id = 1)) AS latest`.execute(this.db);
    return Number(rows[0]?.latest ?? 0);
  }

  /**
   * The oldest seq a reader may stand at: changes at or before it are pruned, or older than the
   * retention (what the next pruning removes), so expiry follows CHANGE_RETENTION exactly.
   */
  async baseSeq(): Promise<{ base: number; latest: number }> {
    const { rows } = await sql<{ base: string | null; latest: string | null }>`
      SELECT GREATEST(
        (SELECT pruned_through FROM change_capture WHERE id = 1),
        COALESCE((SELECT MAX(seq) FROM order_changes
          WHERE committed_at < UTC_TIMESTAMP(6) - INTERVAL ${Math.round(this.retentionMs * 1000)} MICROSECOND), 0)
      ) AS base,
      GREATEST(COALESCE((SELECT MAX(seq) FROM order_changes), 0),
        (SELECT pruned_through FROM change_capture WHERE id = 1)) AS latest`.execute(this.db);
    return { base: Number(rows[0]?.base ?? 0), latest: Number(rows[0]?.latest ?? 0) };
  }

  async checkPosition(position: Position): Promise<void> {
    const { base, latest } = await this.baseSeq();
    if (position.tick < base || position.last !== 0 || position.seq !== 0) {
      if (position.tick < base) throw expired();
      throw new DomainError('BAD_USER_INPUT', 'after: is not a cursor from this feed', { field: 'after' });
    }
    if (position.tick > latest)
      throw new DomainError('BAD_USER_INPUT', 'after: cursor is ahead of this change feed', {
        field: 'after',
      });
  }

  /** Up to `limit` entries after `from`, never past seq `until`. */
  async readAfter(from: Position, limit: number, until: number): Promise<ReadResult> {
    const { rows } = await sql<ChangeRow>`
      SELECT seq, binlog_pos, op, order_id, old_row, new_row, actor, committed_at FROM order_changes
      WHERE seq > ${from.tick} AND seq <= ${until} ORDER BY seq LIMIT ${limit}`.execute(this.db);
    const entries = rows.map(toEntry);
    // A gap below `until` can only be pruned history: the capture writes seqs without holes
    // that a reader could see before what precedes them. (AUTO_INCREMENT may leave holes of its
    // own, from a capture transaction rolled back; below the base they are expired history too.)
    // The first entry past the reader's next seq is such a gap as well: a reader left behind the
    // retention, whose next changes were pruned, is told so instead of skipping them.
    const first = entries[0];
    const gap = first ? first.position.tick > from.tick + 1 : until > from.tick;
    if (gap) {
      const { base } = await this.baseSeq();
      if (from.tick < base) throw expired();
    }
    const position =
      entries.length < limit ? { tick: until, last: 0, seq: 0 } : (entries.at(-1) as LogEntry).position;
    return { entries, position };
  }

  /**
   * Drops history older than the retention; returns how many changes went. The base moves first,
   * in a short transaction on `change_capture` (the row the capture locks to record each
   * transaction), so that readers count everything at or below it as expired at once; then the
   * rows go oldest first, PRUNE_BATCH at a time, each statement a transaction of its own that
   * holds nothing the capture waits for. One DELETE of all of them in that transaction, as this
   * was, kept the capture waiting for as long as it ran. Rows a prune left behind (stopped
   * midway) go at the next.
   */
  async prune(): Promise<number> {
    const base = await this.db.transaction().execute(async (trx) => {
      const { base } = await new MysqlChangeLog(trx, this.retentionMs).baseSeq();
      const { rows } = await sql<{ pruned_through: string }>`
        SELECT pruned_through FROM change_capture WHERE id = 1 FOR UPDATE`.execute(trx);
      const pruned = Number(rows[0]?.pruned_through ?? 0);
      if (base <= pruned) return pruned;
      await sql`UPDATE change_capture SET pruned_through = ${base} WHERE id = 1`.execute(trx);
      return base;
    });
    let removed = 0;
    for (;;) {
      const deleted = await sql`
        DELETE FROM order_changes WHERE seq <= ${base} ORDER BY seq LIMIT ${PRUNE_BATCH}`.execute(this.db);
      const count = Number(deleted.numAffectedRows ?? 0);
      removed += count;
      if (count < PRUNE_BATCH) return removed;
    }
  }
}

export const expired = () =>
  new DomainError(
    'CURSOR_EXPIRED',
    'cursor is older than the change log retention; read a fresh snapshot',
    {},
  );

interface ChangeRow {
  seq: string;
  binlog_pos: string;
  op: ChangeOperation;
  order_id: string;
  old_row: string | OrderRow | null;
  new_row: string | OrderRow | null;
  actor: string | null;
  committed_at: Date;
}

// MariaDB's JSON is LONGTEXT and arrives as text; MySQL's arrives parsed.
const parseRow = (value: string | OrderRow | null): OrderRow | null =>
  typeof value === 'string' ? (JSON.parse(value) as OrderRow) : value;

function toEntry(row: ChangeRow): LogEntry {
  const pos = Number(row.binlog_pos);
  return {
    position: { tick: Number(row.seq), last: 0, seq: 0 },
    // The snapshot logic of CursorReader works on binary-log positions here (see snapshot.ts).
    txid: pos,
    batchXmin: pos,
    committedAt: new Date(row.committed_at),
    op: row.op,
    orderId: String(row.order_id),
    oldRow: parseRow(row.old_row),
    newRow: parseRow(row.new_row),
    actor: row.actor,
  };
}
