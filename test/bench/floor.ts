/**
 * The floor that `npm run bench` measures the service against: what a change costs with nothing
 * but the wire. A row trigger sends each row as JSON with pg_notify, one LISTEN connection
 * receives it, and every raw WebSocket gets the payload as is. No GraphQL, no durability, no
 * order across reconnects: it loses what is sent while it is down, so it is a floor, not a rival.
 *
 * Run as a process of its own (DATABASE_URL, PORT); prints "floor is ready" once listening.
 * Its table, floor_orders, has the columns, defaults and stamp triggers of `orders`.
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { WebSocketServer } from 'ws';

const CHANNEL = 'floor_orders';

export const floorSchema = `
  CREATE TABLE floor_orders (LIKE orders INCLUDING ALL);
  CREATE OR REPLACE FUNCTION floor_orders_notify() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${CHANNEL}', json_build_object('op', TG_OP, 'row', CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END)::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER floor_orders_stamp_insert BEFORE INSERT ON floor_orders
    FOR EACH ROW EXECUTE FUNCTION orders_stamp_insert();
  CREATE TRIGGER floor_orders_stamp_update BEFORE UPDATE ON floor_orders
    FOR EACH ROW EXECUTE FUNCTION orders_stamp_update();
  CREATE TRIGGER floor_orders_notify AFTER INSERT OR UPDATE OR DELETE ON floor_orders
    FOR EACH ROW EXECUTE FUNCTION floor_orders_notify();`;

async function main(): Promise<void> {
  const listener = new pg.Client({ connectionString: process.env.DATABASE_URL });
  listener.on('error', (error) => {
    console.error(`floor: ${error.message}`);
    process.exit(1);
  });
  await listener.connect();
  const http = createServer((_req, res) => res.end('floor'));
  const sockets = new WebSocketServer({ server: http });
  listener.on('notification', (message) => {
    for (const socket of sockets.clients) socket.send(message.payload ?? '');
  });
  await listener.query(`LISTEN ${CHANNEL}`);
  http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('floor is ready'));
  process.on('SIGTERM', () => {
    for (const socket of sockets.clients) socket.terminate();
    http.close();
    listener.end().finally(() => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
