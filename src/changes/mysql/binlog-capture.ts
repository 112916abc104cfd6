import ZongJi, { type BinlogEvent, type RowData, type UpdateRowsEvent } from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import { MYSQL_CAPTURE_SESSION_SQL, mysqlOptions } from '../../db/mysql.ts';
import { isMysqlFull, probeMysql } from '../../db/mysql-gated-pool.ts';
import { withDeadline } from '../../deadline.ts';
import type { Logger } from '../../log.ts';
import { DedicatedConnection } from '../dedicated-connection.ts';
import { binlogPosition } from './binlog-position.ts';

export interface BinlogCaptureOptions {
  connectionString: string;
  log: Logger;
  /** A transaction was recorded in the change log. */
  onApplied: () => void;
  onUp: () => void;
  onDown: (reason: string) => void;
  /** How often the connection is checked, and leadership sought when not held (default 1000 ms). */
  checkIntervalMs?: number;
  /**
   * How long a check may go unanswered before the connection counts as dead (default 5000 ms): a
   * network that drops packets without closing anything is noticed only this way.
   */
  checkTimeoutMs?: number;
}

/**
 * A statement that records a captured transaction gives up after this long (a `LOCK TABLES
 * order_changes` held longer, or a connection gone silent), and the capture starts again from
 * the position in the database. The health check does not run behind it meanwhile, so that a
 * long recording is not taken for a dead connection; it asks on a fresh connection instead.
 */
const RECORD_STATEMENT_TIMEOUT_MS = 60_000;

type Row = Record<string, unknown>;
interface Change {
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  old: Row | null;
  new: Row | null;
}

/**
 * Copies every committed transaction on `orders` from the binary log into `order_changes`.
 * One instance at a time does it: the one whose control connection holds GET_LOCK (released by
 * the server when that connection dies). Each captured transaction is recorded in one
 * transaction of the control connection that first moves `change_capture` from the position it
 * started at to the end of the captured transaction, then inserts the changes: a zombie holding
 * a stale position changes nothing, a crash between two leaves the position where the log is, and
 * seqs are handed out one transaction after the other, in binary-log (commit) order.
 */
export class BinlogCapture extends DedicatedConnection {
  private recording = false;

  constructor(private readonly options: BinlogCaptureOptions) {
    super({
      log: options.log,
      onDown: (reason) => options.onDown(reason),
      lostMessage: 'change capture connection lost',
    });
  }

  protected override async session(): Promise<string> {
    const config = mysqlOptions(this.options.connectionString);
    const lockName = `realtime_orders_capture:${config.database}`;
    let ended!: (reason: string) => void;
    const done = new Promise<string>((resolve) => {
      ended = resolve;
    });
    let connection: mysql.Connection | undefined;
    let zongji: ZongJi | undefined;
    let timer: NodeJS.Timeout | undefined;
    this.drop = (reason) => ended(reason);
    try {
      connection = await mysql.createConnection(config);
      connection.on('error', (error) => this.drop?.(error.message));
      connection.on('end', () => this.drop?.('connection closed'));
      await connection.query(MYSQL_CAPTURE_SESSION_SQL);
      this.up = true;
      this.options.onUp();
      const conn = connection;
      const seekLeadership = async (): Promise<void> => {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS locked', [lockName]);
        if (Number(rows[0]?.locked) !== 1) return;
        this.leader = true;
        this.options.log.info('this instance now captures the binary log');
        zongji = await this.follow(conn, config, (reason) => this.drop?.(reason));
      };
      const check = async () => {
        try {
          if (!this.recording)
            await withDeadline(conn.query('SELECT 1'), this.options.checkTimeoutMs ?? 5_000);
          // A recording may take long (20,000 rows, a lock someone holds), but a network gone
          // silent under it must still be noticed: a fresh connection asks whether the server answers.
          else
            await probeMysql(config, this.options.checkTimeoutMs ?? 5_000).catch((error) => {
              if (!isMysqlFull(error)) throw error;
            });
          if (!this.leader) await seekLeadership();
          timer = setTimeout(check, this.options.checkIntervalMs ?? 1_000);
        } catch (error) {
          this.drop?.(`check failed: ${(error as Error).message}`);
        }
      };
      await seekLeadership();
      timer = setTimeout(check, this.options.checkIntervalMs ?? 1_000);
      return await done;
    } finally {
      clearTimeout(timer);
      this.drop = undefined;
      zongji?.stop();
      connection?.destroy();
    }
  }

  /** Reads the binary log from the recorded position and records each transaction on orders. */
  private async follow(
    connection: mysql.Connection,
    config: ReturnType<typeof mysqlOptions>,
    fail: (reason: string) => void,
  ): Promise<ZongJi> {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT binlog_file, binlog_pos FROM change_capture WHERE id = 1',
    );
    const start = rows[0];
    if (!start) throw new Error('change_capture is empty: migrations did not run');
    let recorded = { file: String(start.binlog_file), pos: Number(start.binlog_pos) };
    let pending: Change[] = [];
    let broken = false;
    let queue = Promise.resolve();
    const zongji = new ZongJi({ ...config, dateStrings: false });
    zongji.on('error', (error: Error) => fail(`binary log: ${error.message}`));
    // Its control connection idles between table-map lookups: a DBA's short wait_timeout would end it.
    zongji.on('ready', () => zongji.ctrlConnection?.query(MYSQL_CAPTURE_SESSION_SQL, () => {}));
    zongji.on('binlog', (event: BinlogEvent) => {
      const name = event.getEventName();
      const rows = (event as BinlogEvent & { rows?: RowData[] }).rows ?? [];
      if (name === 'writerows') for (const row of rows) pending.push({ op: 'INSERT', old: null, new: row });
      else if (name === 'deleterows')
        for (const row of rows) pending.push({ op: 'DELETE', old: row, new: null });
      else if (name === 'updaterows')
        for (const row of (event as UpdateRowsEvent).rows)
          pending.push({ op: 'UPDATE', old: row.before, new: row.after });
      else if (name === 'xid' && pending.length > 0) {
        const changes = pending;
        pending = [];
        const file = zongji.options.filename as string;
        const pos = event.nextPosition as number;
        queue = queue
          .then(async () => {
            // After a failure nothing more is recorded by this session: the next one starts again
            // from the position in the database, so no transaction is ever skipped.
            if (broken) return;
            this.recording = true;
            await this.record(connection, recorded, { file, pos }, changes).finally(() => {
              this.recording = false;
            });
            recorded = { file, pos };
            this.options.onApplied();
          })
          .catch((error: Error) => {
            broken = true;
            fail(`recording a transaction failed: ${error.message}`);
          });
      }
    });
    zongji.start({
      serverId: 2 + Math.floor(Math.random() * 2 ** 30),
      filename: recorded.file,
      position: recorded.pos,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'rotate'],
      includeSchema: { [config.database as string]: ['orders'] },
    });
    return zongji;
  }

  private async record(
    connection: mysql.Connection,
    from: { file: string; pos: number },
    to: { file: string; pos: number },
    changes: Change[],
  ): Promise<void> {
    const timeout = RECORD_STATEMENT_TIMEOUT_MS;
    await connection.query({ sql: 'START TRANSACTION', timeout });
    try {
      const [moved] = await connection.query<mysql.ResultSetHeader>(
        {
          sql: `UPDATE change_capture SET binlog_file = ?, binlog_pos = ?
         WHERE id = 1 AND binlog_file = ? AND binlog_pos = ?`,
          timeout,
        },
        [to.file, to.pos, from.file, from.pos],
      );
      if (moved.affectedRows !== 1) throw new Error('the capture position moved: another instance captures');
      const at = binlogPosition(to.file, to.pos);
      for (let i = 0; i < changes.length; i += 1_000) {
        const values = changes.slice(i, i + 1_000).map((c) => {
          const row = (c.new ?? c.old) as Row;
          return [at, c.op, String(row.id), json(c.old), json(c.new)];
        });
        await connection.query(
          {
            sql:
              'INSERT INTO order_changes (binlog_pos, op, order_id, old_row, new_row, committed_at) VALUES ' +
              values.map(() => '(?, ?, ?, ?, ?, UTC_TIMESTAMP(6))').join(', '),
            timeout,
          },
          values.flat(),
        );
      }
      await connection.query({ sql: 'COMMIT', timeout });
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }
}

// Dates as ISO text, ids as decimal text: what orderRowToOrder reads, as from PostgreSQL's to_jsonb.
function json(row: Row | null): string | null {
  if (!row) return null;
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] =
      value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? String(value) : value;
  }
  out.id = String(row.id);
  return JSON.stringify(out);
}
