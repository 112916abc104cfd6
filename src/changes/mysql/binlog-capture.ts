import ZongJi, { type BinlogEvent, type RowData, type RowsEvent, type UpdateRowsEvent } from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import { MYSQL_CAPTURE_SESSION_SQL, mysqlOptions } from '../../db/mysql.ts';
import { isMysqlFull, probeMysql } from '../../db/mysql-gated-pool.ts';
import { withDeadline } from '../../deadline.ts';
import type { Logger } from '../../log.ts';
import { DedicatedConnection } from '../dedicated-connection.ts';
import { holdableFlow } from './binlog-flow.ts';
import { binlogPosition } from './binlog-position.ts';
import { CaptureBacklog, type CapturedChange, type CaptureStep, isEnd, type Row } from './capture-backlog.ts';

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
  /**
   * How many changes read from the binary log may wait for the database before reading pauses
   * (default 10,000): the capture's memory stays bounded whatever the burst and however slow
   * the writes to order_changes.
   */
  backlogLimit?: number;
}

/**
 * A statement that records captured changes gives up after this long (a `LOCK TABLES
 * order_changes` held longer, or a connection gone silent), and the capture starts again from
 * the position in the database. The health check does not run behind it meanwhile, so that a
 * long recording is not taken for a dead connection; it asks on a fresh connection instead.
 */
const RECORD_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Copies every committed transaction on `orders` from the binary log into `order_changes`.
 * One instance at a time does it: the one whose control connection holds GET_LOCK (released by
 * the server when that connection dies). Captured transactions are recorded by transactions of
 * the control connection that lock `change_capture`, check it still holds the position this
 * session started from, insert the changes and move the position to the end of the last captured
 * transaction they hold (TransactionRecorder): a zombie holding a stale position changes nothing,
 * a crash anywhere leaves the position where the log is, and seqs are handed out one
 * transaction after the other, in binary-log (commit) order. Reading the log pauses while too
 * many changes wait for the database (CaptureBacklog).
 */
export class BinlogCapture extends DedicatedConnection {
  private backlog: CaptureBacklog | undefined;
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
    const recorder = new TransactionRecorder(
      connection,
      { file: String(start.binlog_file), pos: Number(start.binlog_pos) },
      () => this.options.onApplied(),
    );
    const zongji = new ZongJi({ ...config, dateStrings: false });
    let backlog: CaptureBacklog | undefined;
    let broken = false;
    let applying = false;
    // One consumer at a time; after a failure nothing more is recorded by this session: the next
    // one starts again from the position in the database, so no transaction is ever skipped.
    const apply = async () => {
      if (applying || broken || !backlog) return;
      applying = true;
      this.recording = true;
      try {
        while (backlog.length > 0 && !broken) {
          await recorder.applyFrom(backlog);
        }
      } catch (error) {
        broken = true;
        backlog.clear();
        fail(`recording a transaction failed: ${(error as Error).message}`);
      } finally {
        applying = false;
        this.recording = false;
      }
    };
    const reader = new TransactionReader(zongji, (step) => {
      if (broken || !backlog) return;
      backlog.push(step);
      void apply();
    });
    zongji.on('error', (error: Error) => fail(`binary log: ${error.message}`));
    // Its control connection idles between table-map lookups: a DBA's short wait_timeout would end it.
    zongji.on('ready', () => zongji.ctrlConnection?.query(MYSQL_CAPTURE_SESSION_SQL, () => {}));
    zongji.on('binlog', (event: BinlogEvent) => reader.read(event));
    zongji.start({
      serverId: 2 + Math.floor(Math.random() * 2 ** 30),
      filename: recorder.recorded.file,
      position: recorder.recorded.pos,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'rotate'],
      includeSchema: { [config.database as string]: ['orders', DELETE_ACTORS] },
    });
    // start() creates the binary-log connection synchronously; its flow is held while behind.
    const flow = holdableFlow(zongji.connection as unknown as Parameters<typeof holdableFlow>[0]);
    backlog = new CaptureBacklog(this.options.backlogLimit ?? 10_000, flow);
    this.backlog = backlog;
    return zongji;
  }

  /** The changes read from the binary log and not yet given to the database, now and at most. */
  get backlogStats(): { waiting: number; peak: number } {
    return { waiting: this.backlog?.changes ?? 0, peak: this.backlog?.peak ?? 0 };
  }
}

const DELETE_ACTORS = 'order_delete_actors';

/**
 * Turns binary-log events into capture steps: each row change of orders, with its writer, and the
 * end of each transaction that changed orders.
 *
 * binlog_pos of a change is a place inside its transaction's span (start, end]: the position the
 * log stood at before the transaction's first row event, plus one. For any transaction boundary
 * B (what SHOW MASTER STATUS and binlog_snapshot_position give), "binlog_pos ≤ B" holds exactly
 * when the transaction ended at or before B, as with its end position, and it is known at the
 * first row, so the changes of a transaction of any size can be recorded before its end arrives.
 *
 * changedBy (migrations/mysql/2026-11-27T20-00_change-actor.ts): INSERT and UPDATE carry it in
 * the invisible column changed_by of the new row image; a DELETE in the order_delete_actors row
 * that the deleting session's trigger wrote just before the deletion.
 */
class TransactionReader {
  private inTransaction = false;
  private at = 0;
  private deleter: string | null = null;

  constructor(
    private readonly zongji: ZongJi,
    private readonly emit: (step: CaptureStep) => void,
  ) {}

  read(event: BinlogEvent): void {
    const name = event.getEventName();
    if (name === 'xid') {
      if (this.inTransaction)
        this.emit({ end: { file: this.zongji.options.filename as string, pos: event.nextPosition } });
      this.inTransaction = false;
      this.deleter = null;
      return;
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return;
    if (!this.inTransaction) {
      this.inTransaction = true;
      this.at =
        binlogPosition(this.zongji.options.filename as string, this.zongji.options.position as number) + 1;
    }
    const rowsEvent = event as RowsEvent & { rows: unknown[] };
    const table = rowsEvent.tableMap[rowsEvent.tableId]?.tableName;
    if (table === DELETE_ACTORS) {
      if (name === 'writerows') {
        const row = rowsEvent.rows.at(-1) as Row | undefined;
        this.deleter = (row?.actor as string | null | undefined) ?? null;
      }
      return;
    }
    if (name === 'writerows') for (const row of rowsEvent.rows as RowData[]) this.change('INSERT', null, row);
    else if (name === 'deleterows')
      for (const row of rowsEvent.rows as RowData[]) this.change('DELETE', row, null);
    else for (const row of (event as UpdateRowsEvent).rows) this.change('UPDATE', row.before, row.after);
  }

  private change(op: CapturedChange['op'], old: Row | null, row: Row | null): void {
    const actor = row ? ((row.changed_by as string | null | undefined) ?? null) : this.deleter;
    if (old) delete old.changed_by;
    if (row) delete row.changed_by;
    this.emit({ op, old, new: row, at: this.at, actor });
  }
}

/**
 * Records steps in order_changes on the capture's control connection. Each of its transactions
 * first locks change_capture and checks that it still stands where this session left it (a stale
 * instance stops there), inserts changes as they come, and commits at a transaction end with the
 * position moved to it: a crash anywhere leaves the position and the log in agreement. Ends that
 * are already waiting are recorded in the same transaction, up to GROUP_ROWS changes, so a
 * backlog of small transactions is caught up with few commits; a transaction bigger than memory
 * should hold is inserted in pieces before its end arrives.
 */
class TransactionRecorder {
  private open = false;
  private committedAt = '';
  private rowsInTransaction = 0;
  private batch: CapturedChange[] = [];
  private inflight: Promise<unknown> | undefined;

  constructor(
    private readonly connection: mysql.Connection,
    public recorded: { file: string; pos: number },
    private readonly onCommit: () => void,
  ) {}

  /** Applies what waits, until nothing does. */
  async applyFrom(backlog: CaptureBacklog): Promise<void> {
    for (let step = backlog.shift(); step; step = backlog.shift()) {
      if (!this.open) await this.begin();
      if (!isEnd(step)) {
        this.batch.push(step);
        if (this.batch.length >= INSERT_ROWS) await this.flush();
        continue;
      }
      if (backlog.ends > 0 && this.rowsInTransaction + this.batch.length < GROUP_ROWS) continue;
      await this.commit(step.end);
    }
    // The rest of a transaction still on its way: what arrived is inserted, its end commits it.
    await this.flush();
    await this.settle();
  }

  private async begin(): Promise<void> {
    await this.connection.query({ sql: 'START TRANSACTION', timeout: RECORD_STATEMENT_TIMEOUT_MS });
    this.open = true;
    this.rowsInTransaction = 0;
    const [rows] = await this.connection.query<mysql.RowDataPacket[]>({
      sql: `SELECT binlog_file, binlog_pos, DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f') AS now
       FROM change_capture WHERE id = 1 FOR UPDATE`,
      timeout: RECORD_STATEMENT_TIMEOUT_MS,
    });
    const row = rows[0];
    if (row?.binlog_file !== this.recorded.file || Number(row?.binlog_pos) !== this.recorded.pos)
      throw new Error('the capture position moved: another instance captures');
    this.committedAt = String(row.now);
  }

  /**
   * Sends the waiting changes as one INSERT without waiting for it, after the one before has
   * finished: the connection runs its queries in order, so the next batch is formatted while the
   * database writes this one. At most two batches are out at a time; settle() waits for them.
   */
  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const values = this.batch.map((c) => {
      const row = (c.new ?? c.old) as Row;
      return [c.at, c.op, String(row.id), json(c.old), json(c.new), c.actor, this.committedAt];
    });
    this.rowsInTransaction += this.batch.length;
    this.batch = [];
    const previous = this.inflight;
    const insert = this.connection.query(
      {
        sql:
          'INSERT INTO order_changes (binlog_pos, op, order_id, old_row, new_row, actor, committed_at) VALUES ' +
          values.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', '),
        timeout: RECORD_STATEMENT_TIMEOUT_MS,
      },
      values.flat(),
    );
    // Awaited by the next flush or by settle(); until then a failure must not go unhandled.
    insert.catch(() => {});
    this.inflight = insert;
    await previous;
  }

  private async settle(): Promise<void> {
    const last = this.inflight;
    this.inflight = undefined;
    await last;
  }

  private async commit(to: { file: string; pos: number }): Promise<void> {
    await this.flush();
    await this.settle();
    await this.connection.query(
      {
        sql: 'UPDATE change_capture SET binlog_file = ?, binlog_pos = ? WHERE id = 1',
        timeout: RECORD_STATEMENT_TIMEOUT_MS,
      },
      [to.file, to.pos],
    );
    await this.connection.query({ sql: 'COMMIT', timeout: RECORD_STATEMENT_TIMEOUT_MS });
    this.open = false;
    this.recorded = to;
    this.onCommit();
  }
}

const INSERT_ROWS = 1_000;
const GROUP_ROWS = 5_000;

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
