/**
 * `npm run bench`: the service in a process of its own on an embedded PostgreSQL (or
 * BENCH_DATABASE_URL), measured from outside with real clients. Writes test-artifacts/bench/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';

const results: { name: string; value: string; detail?: string }[] = [];
const record = (name: string, value: string, detail?: string) => {
  results.push({ name, value, detail });
  console.log(`${name.padEnd(52)} ${value}${detail ? `  (${detail})` : ''}`);
};

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; http: string; ws: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('is ready') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/graphql` };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main() {
  const dir = clusterTempDir('realtime-orders-bench-');
  const embedded = process.env.BENCH_DATABASE_URL ? undefined : await startEmbeddedPostgres({ dir });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `${embedded?.serverUrl}/postgres`;
  const server = await startServer(databaseUrl);
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  const client = createClient({ url: server.ws, webSocketImpl: WebSocket, lazy: false });
  try {
    // 1. Latency from COMMIT to a WebSocket subscriber, one small transaction at a time.
    {
      const waiting = new Map<string, (t: number) => void>();
      client.subscribe<{ orderChanged: { order: { customerName: string } } }>(
        {
          query: 'subscription { orderChanged(where: { operations: [INSERT] }) { order { customerName } } }',
        },
        {
          next: ({ data }) => data && waiting.get(data.orderChanged.order.customerName)?.(performance.now()),
          error: console.error,
          complete: () => {},
        },
      );
      await new Promise((r) => setTimeout(r, 300));
      const latencies: number[] = [];
      for (let i = 0; i < 500; i++) {
        const name = `latency-${i}`;
        const arrived = new Promise<number>((resolve) => waiting.set(name, resolve));
        await sql.query(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'bench')`, [name]);
        const committed = performance.now();
        latencies.push((await arrived) - committed);
      }
      latencies.sort((a, b) => a - b);
      record(
        'commit → WebSocket event latency, p50 / p95 / p99',
        `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 95).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)} ms`,
        '500 sequential single-row INSERTs',
      );
    }

    // 2. A 100k-row statement: capture cost, and delivery to one WebSocket subscriber.
    {
      let received = 0;
      let done!: () => void;
      const all = new Promise<void>((resolve) => {
        done = resolve;
      });
      const rows = 100_000;
      const stop = client.subscribe<{ orderChanged: { cursor: string } }>(
        {
          query:
            'subscription { orderChanged(where: { operations: [UPDATE] }) { cursor order { id version } } }',
        },
        { next: () => ++received === rows && done(), error: console.error, complete: () => {} },
      );
      await new Promise((r) => setTimeout(r, 300));
      await sql.query(
        `INSERT INTO orders (customer_name, product_name) SELECT 'bulk', 'item' FROM generate_series(1, ${rows})`,
      );
      const started = performance.now();
      await sql.query(`UPDATE orders SET status = 'shipped' WHERE customer_name = 'bulk'`);
      const statement = performance.now() - started;
      await all;
      const total = performance.now() - started;
      stop();
      record('UPDATE of 100k rows, statement time with capture', `${statement.toFixed(0)} ms`);
      record(
        '100k-row UPDATE delivered to one WebSocket subscriber',
        `${total.toFixed(0)} ms`,
        `${Math.round(rows / (total / 1000))} changes/s end to end`,
      );
    }

    // 3. Fan-out: many subscribers, a stream of small transactions.
    {
      const subscribers = 200;
      const transactions = 200;
      let deliveries = 0;
      let done!: () => void;
      const all = new Promise<void>((resolve) => {
        done = resolve;
      });
      const clients = Array.from({ length: 4 }, () =>
        createClient({ url: server.ws, webSocketImpl: WebSocket, lazy: false }),
      );
      for (let i = 0; i < subscribers; i++) {
        (clients[i % clients.length] as ReturnType<typeof createClient>).subscribe(
          { query: 'subscription { orderChanged(where: { operations: [DELETE] }) { cursor order { id } } }' },
          {
            next: () => ++deliveries === subscribers * transactions && done(),
            error: console.error,
            complete: () => {},
          },
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
      const started = performance.now();
      const { rows } = await sql.query(
        `SELECT id FROM orders WHERE customer_name = 'bulk' LIMIT ${transactions}`,
      );
      for (const row of rows) await sql.query('DELETE FROM orders WHERE id = $1', [row.id]);
      await all;
      const total = performance.now() - started;
      record(
        `fan-out: ${transactions} transactions to ${subscribers} subscribers`,
        `${total.toFixed(0)} ms`,
        `${Math.round(deliveries / (total / 1000))} deliveries/s`,
      );
      await Promise.all(clients.map((c) => c.dispose()));
    }

    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    const rss = Number(/^process_resident_memory_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN);
    record('server resident memory after the runs', `${(rss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await client.dispose();
    await sql.end();
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const out = path.resolve('test-artifacts/bench');
  mkdirSync(out, { recursive: true });
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  writeFileSync(
    path.join(out, 'report.json'),
    `${JSON.stringify({ machine, date: new Date().toISOString(), results }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(out, 'report.md'),
    [
      `# npm run bench`,
      '',
      `${machine}, ${new Date().toISOString()}`,
      '',
      '| measure | result | detail |',
      '|---|---|---|',
      ...results.map((r) => `| ${r.name} | ${r.value} | ${r.detail ?? ''} |`),
      '',
    ].join('\n'),
  );
  console.log(`\nreport: ${path.join(out, 'report.md')}`);
}

await main();
