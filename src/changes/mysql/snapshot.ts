import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/database.ts';
import { type Cursor, encodeCursor } from '../position.ts';
import { binlogPosition } from './binlog-position.ts';

/**
 * A cursor on MySQL/MariaDB: the newest seq recorded (read first), and the binary-log position
 * `seen` up to which transactions had committed (read second). Every change at or below that seq
 * committed at or before `seen`; changes recorded later whose transaction ends at or before
 * `seen` are skipped by CursorReader (the snapshot is {xmin = xmax = seen + 1}: "visible" means
 * "ends before"), and it forgets `seen` at the first change beyond it.
 */
function cursorOf(seq: number, seen: number): Cursor {
  return { position: { tick: seq, last: 0, seq: 0 }, seen: { xmin: seen + 1, xmax: seen + 1, xip: [] } };
}

const latestSeqSql = sql<{ latest: string | null }>`
  SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM order_changes), 0),
    (SELECT pruned_through FROM change_capture WHERE id = 1)) AS latest`;

/** "Now": changes whose transaction commits after this call, none that committed before. */
export async function currentMysqlCursor(db: Kysely<Database>): Promise<Cursor> {
  const seq = Number((await latestSeqSql.execute(db)).rows[0]?.latest ?? 0);
  const { rows } = await sql<{ File: string; Position: string }>`SHOW MASTER STATUS`.execute(db);
  const status = rows[0];
  if (!status) throw new Error('SHOW MASTER STATUS is empty: the binary log is off');
  return cursorOf(seq, binlogPosition(status.File, Number(status.Position)));
}

/**
 * MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` fixes the read's snapshot and, in the
 * same instant, the binary-log position it corresponds to (binlog_snapshot_file/position), so the
 * cursor is exactly that of the read.
 */
export async function readWithMysqlChangeCursor<T>(
  db: Kysely<Database>,
  read: (trx: Transaction<Database>) => Promise<T>,
): Promise<{ result: T; changeCursor: string }> {
  return db.connection().execute(async (connection) => {
    await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`.execute(connection);
    await sql`START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`.execute(connection);
    try {
      const { rows } = await sql<{ Variable_name: string; Value: string }>`
        SHOW SESSION STATUS LIKE 'binlog_snapshot_%'`.execute(connection);
      const file = rows.find((r) => r.Variable_name === 'Binlog_snapshot_file')?.Value;
      const offset = rows.find((r) => r.Variable_name === 'Binlog_snapshot_position')?.Value;
      if (!file || offset === undefined)
        throw new Error('changeCursor needs MariaDB (binlog_snapshot_file/position); this server has none');
      const seq = Number((await latestSeqSql.execute(connection)).rows[0]?.latest ?? 0);
      const result = await read(connection as unknown as Transaction<Database>);
      return { result, changeCursor: encodeCursor(cursorOf(seq, binlogPosition(file, Number(offset)))) };
    } finally {
      await sql`COMMIT`.execute(connection).catch(() => {});
    }
  });
}
