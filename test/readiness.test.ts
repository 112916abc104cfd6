import net from 'node:net';
import { afterAll, expect, test } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { isMysqlUrl } from '../src/db/mysql.ts';
import { createLogger } from '../src/log.ts';
import { type Service, startService } from '../src/server/service.ts';
import { killFeedSession } from './changes/backend-sql.ts';
import { createTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`).

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/**
 * A port that drops every connection until `open()`, then forwards them to `target`. It is held
 * from the start: a port only found free and bound later was once taken meanwhile by another
 * file's connection (EADDRINUSE, in CI's second pass).
 */
async function delayedDatabase(target: URL) {
  let opened = false;
  const server = net.createServer((client) => {
    if (!opened) {
      client.destroy();
      return;
    }
    const upstream = net.connect(
      Number(target.port || (isMysqlUrl(target.href) ? 3306 : 5432)),
      target.hostname,
    );
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    open: () => {
      opened = true;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test('a database that is down at start is waited for, with /health 200 and /ready 503 meanwhile', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const proxy = await delayedDatabase(new URL(database.url));
  cleanups.push(() => proxy.close());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  let service: Service | undefined;
  const starting = startService(
    {
      databaseUrl: proxy.url,
      port,
      host: '127.0.0.1',
      logLevel: 'silent',
      changeRetentionMs: 86400e3,
      dataDir: '/nonexistent',
    },
    createLogger('silent'),
  ).then((s) => {
    service = s;
    cleanups.push(() => s.stop());
  });

  const waiting = await waitFor(
    async () => {
      const response = await fetch(`${base}/ready`).catch(() => undefined);
      return response?.status === 503 && ((await response.json()) as { reason: string });
    },
    { message: '/ready to answer 503' },
  );
  expect(waiting.reason).toMatch(/database/);
  expect((await fetch(`${base}/health`)).status).toBe(200);
  // Several attempts fail, with backoff, before the database appears.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(service).toBeUndefined();

  proxy.open();
  await starting;
  const ready = await fetch(`${base}/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready' });
});

test('/ready answers 503 with the reason while the change feed is down, and 200 again once it is back', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const port = await freePort();
  const service = await startService(
    {
      databaseUrl: database.url,
      port,
      host: '127.0.0.1',
      logLevel: 'silent',
      changeRetentionMs: 86400e3,
      dataDir: '/x',
    },
    createLogger('silent'),
  );
  cleanups.push(() => service.stop());
  const ready = async () => {
    const response = await fetch(`${service.url}/ready`);
    return { status: response.status, body: (await response.json()) as { reason?: string } };
  };
  expect((await ready()).status).toBe(200);

  // Keep killing the feed's session until /ready is seen reporting it.
  const seen = await waitFor(async () => {
    await killFeedSession(database);
    const state = await ready();
    return state.status === 503 && state;
  });
  // MySQL's feed says "change capture connection down".
  expect(seen.body.reason).toMatch(/change (feed|capture)/);
  await waitFor(async () => (await ready()).status === 200, { message: '/ready to recover' });
});
