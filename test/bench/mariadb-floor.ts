/**
 * The floor of `npm run bench` on MariaDB/MySQL (BENCH_MYSQL_URL): what a change costs with nothing
 * but the wire there. The binary log read with @vlasky/zongji, as the service's capture reads it,
 * each row of floor_orders sent as JSON ({ op, row }, the PostgreSQL floor's shape) to every raw
 * WebSocket. No GraphQL, no change log, no durability: what is written while it is down is lost,
 * so it is a floor, not a rival. MariaDB has no NOTIFY; the binary log is the only way out.
 *
 * Run as a process of its own (DATABASE_URL, PORT); prints "floor is ready" once reading.
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import ZongJi, { type BinlogEvent, type RowData, type UpdateRowsEvent } from '@vlasky/zongji';
import { WebSocketServer } from 'ws';
import { mysqlOptions } from '../../src/db/mysql.ts';

/** floor_orders: the columns and stamp triggers of orders, without the service's actor triggers. */
export const mysqlFloorSchema = (table: string) => [
  `DROP TABLE IF EXISTS ${table}`,
  `CREATE TABLE ${table} LIKE orders`,
  // The service's invisible changed_by column (migrations/mysql): not part of a plain table.
  `ALTER TABLE ${table} DROP COLUMN changed_by`,
  `CREATE TRIGGER ${table}_stamp_insert BEFORE INSERT ON ${table} FOR EACH ROW
   BEGIN
     SET NEW.version = 1;
     SET NEW.created_at = UTC_TIMESTAMP(6);
     SET NEW.updated_at = NEW.created_at;
   END`,
  `CREATE TRIGGER ${table}_stamp_update BEFORE UPDATE ON ${table} FOR EACH ROW
   BEGIN
     SET NEW.version = OLD.version + 1;
     SET NEW.created_at = OLD.created_at;
     SET NEW.updated_at = GREATEST(UTC_TIMESTAMP(6), OLD.updated_at);
   END`,
];

async function main(): Promise<void> {
  const config = mysqlOptions(process.env.DATABASE_URL as string);
  const http = createServer((_req, res) => res.end('floor'));
  const sockets = new WebSocketServer({ server: http });
  const send = (op: string, row: RowData) => {
    const payload = JSON.stringify({ op, row });
    for (const socket of sockets.clients) socket.send(payload);
  };
  const zongji = new ZongJi({ ...config, dateStrings: false });
  zongji.on('error', (error: Error) => {
    console.error(`floor: ${error.message}`);
    process.exit(1);
  });
  zongji.on('binlog', (event: BinlogEvent) => {
    const name = event.getEventName();
    const rows = (event as BinlogEvent & { rows?: RowData[] }).rows ?? [];
    if (name === 'writerows') for (const row of rows) send('INSERT', row);
    else if (name === 'deleterows') for (const row of rows) send('DELETE', row);
    else if (name === 'updaterows')
      for (const row of (event as UpdateRowsEvent).rows) send('UPDATE', row.after);
  });
  zongji.on('ready', () =>
    http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('floor is ready')),
  );
  zongji.start({
    serverId: 2 + Math.floor(Math.random() * 2 ** 30),
    startAtEnd: true,
    includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
    includeSchema: { [config.database as string]: ['floor_orders'] },
  });
  process.on('SIGTERM', () => {
    for (const socket of sockets.clients) socket.terminate();
    http.close();
    zongji.stop();
    process.exit(0);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
