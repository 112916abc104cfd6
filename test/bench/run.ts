/**
 * `npm run bench`: the service and the floor (test/bench/floor.ts), each in a process of its own,
 * on one embedded PostgreSQL (or BENCH_DATABASE_URL), measured from outside with real clients in
 * the same run, each scenario BENCH_RUNS times (default 3), floor and service alternating.
 * Writes test/bench/RESULTS.md. `npm run bench -- --quick` (or BENCH_QUICK=1) shortens every
 * scenario so that a whole run fits a loaded laptop; ratios to the floor are what count.
 * BENCH_ONLY=light,latency,fanout,bulk,e2e,writers,pace,idle,history,instances runs some
 * scenarios. The service runs as `npm start` runs it (the compiled build); BENCH_SERVICE_ENTRY
 * gives other node arguments ('--import tsx src/main.ts'); BENCH_SERVICE_NODE_ARGS passes node
 * flags (--cpu-prof).
 * test/bench/notes.md (the analysis of the gaps) is appended to RESULTS.md.
 * BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306 (or --mariadb) runs the same scenarios on MariaDB
 * instead (test/bench/mariadb.ts) and writes test/bench/RESULTS-mariadb.md.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { createDb, createPool } from '../../src/db/connect.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';
import { floorSchema } from './floor.ts';
import { fillHistory, type Latencies as HistoryLatencies, pruneUnderLoad, resume } from './history.ts';
import { idleSubscribers } from './idle.ts';
import { instancesWork, trackStatements } from './instances.ts';
import { rssMiB, sleep, summary } from './measure.ts';
import { type Served, startFloor, startService } from './processes.ts';
import { type Row, writeResults } from './results.ts';
import { statement, stream, type Target } from './streams.ts';
import { findPgbench, updateThroughput } from './writers.ts';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (name: string) => !only || only.includes(name);
const rows: Row[] = [];
const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

async function repeat<T>(label: string, fn: (run: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let run = 0; run < RUNS; run++) {
    out.push(await fn(run));
    console.log(`  ${label} run ${run + 1}/${RUNS}: ${JSON.stringify(out.at(-1))}`);
  }
  return out;
}

const BARE_TABLE = `
  CREATE TABLE bare_orders (LIKE orders INCLUDING ALL);
  CREATE TRIGGER bare_orders_stamp_insert BEFORE INSERT ON bare_orders FOR EACH ROW EXECUTE FUNCTION orders_stamp_insert();
  CREATE TRIGGER bare_orders_stamp_update BEFORE UPDATE ON bare_orders FOR EACH ROW EXECUTE FUNCTION orders_stamp_update();`;

/** Writers update random ids 1..WRITER_ROWS: make sure they all exist (ids are never reused). */
const WRITER_ROWS = 20_000;
async function seedRows(sql: pg.Client, table: string, rows: number): Promise<void> {
  await sql.query(
    `INSERT INTO ${table} (customer_name, product_name)
     SELECT 'w', 'item' FROM generate_series(1, ${rows} - (SELECT coalesce(max(id), 0) FROM ${table}))`,
  );
}

/** A new, empty database on the bench's server (the service migrates it at start); its URL. */
async function freshDatabase(admin: pg.Client, serverDatabaseUrl: string, name: string): Promise<string> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main() {
  const dir = clusterTempDir('realtime-orders-bench-');
  const embedded = process.env.BENCH_DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dir,
        // Loaded but tracking nothing, except in the database of the instances scenario.
        settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'none' },
      });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `${embedded?.serverUrl}/postgres`;
  const loadBefore = load();
  const started = Date.now();
  const service = await startService(databaseUrl);
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  await sql.query(floorSchema);
  await sql.query(BARE_TABLE);
  const floor = await startFloor(databaseUrl);
  const servers: Record<Target, Served> = { floor, 'graphql-ws': service, sse: service };
  try {
    await sleep(1000);
    rows.push({
      measure: 'server RSS at rest, before any subscriber (MiB)',
      floor: rssMiB(floor.pid).toFixed(0),
      service: rssMiB(service.pid).toFixed(0),
      target: '≤ 120 MiB',
      met: rssMiB(service.pid) <= 120,
    });

    const streams: [string, number, number, Target[]][] = [
      ['light', 100, 20, ['graphql-ws']],
      ['latency', 100, 200, ['graphql-ws', 'sse']],
      ['latency', 1000, 20, ['graphql-ws']],
      ['fanout', 2000, 50, ['graphql-ws']],
    ];
    for (const [name, subscribers, rate, targets] of streams) {
      if (!wanted(name)) continue;
      const seconds = quick ? 3 : 10;
      for (const target of targets) {
        const label = `${subscribers} subscribers × ${rate} changes/s, ${target}`;
        console.log(`${label} (${seconds} s per run)`);
        const floorRuns: Awaited<ReturnType<typeof stream>>[] = [];
        const serviceRuns: Awaited<ReturnType<typeof stream>>[] = [];
        await repeat(label, async (run) => {
          const options = { subscribers, rate, seconds, run: `${name}${subscribers}-${target}-${run}` };
          floorRuns.push(await stream('floor', floor, databaseUrl, { ...options, run: `f-${options.run}` }));
          serviceRuns.push(await stream(target, servers[target], databaseUrl, options));
          return { floor: floorRuns.at(-1), service: serviceRuns.at(-1) };
        });
        const f = (k: keyof (typeof floorRuns)[0], d = 1) =>
          summary(
            floorRuns.map((r) => r[k]),
            d,
          );
        const s = (k: keyof (typeof floorRuns)[0], d = 1) =>
          summary(
            serviceRuns.map((r) => r[k]),
            d,
          );
        const missing = serviceRuns.reduce((n, r) => n + r.missing, 0);
        if (name === 'latency' || name === 'light') {
          rows.push({
            measure: `${label}: latency p50 (ms)`,
            floor: f('p50').text,
            service: s('p50').text,
            target: `≤ floor + 3 ms`,
            met: s('p50').median <= f('p50').median + 3 && missing === 0,
          });
          rows.push({
            measure: `${label}: latency p99 (ms)`,
            floor: f('p99').text,
            service: s('p99').text,
            target: `≤ floor + 10 ms`,
            met: s('p99').median <= f('p99').median + 10 && missing === 0,
          });
        }
        rows.push({
          measure: `${label}: deliveries/s`,
          floor: f('deliveriesPerSecond', 0).text,
          service: s('deliveriesPerSecond', 0).text,
          target: name === 'fanout' ? '≥ 0.8 × floor' : undefined,
          met:
            name === 'fanout'
              ? s('deliveriesPerSecond').median >= 0.8 * f('deliveriesPerSecond').median
              : undefined,
        });
        rows.push({
          measure: `${label}: server CPU per delivery (µs)`,
          floor: f('cpuMicrosPerDelivery').text,
          service: s('cpuMicrosPerDelivery').text,
          target: name === 'fanout' ? '≤ 15 µs' : undefined,
          met: name === 'fanout' ? s('cpuMicrosPerDelivery').median <= 15 : undefined,
        });
        if (name === 'light') {
          rows.push({
            measure: `${label}: database queries per change, besides the write (1 s health checks included)`,
            floor: f('queriesPerChange', 2).text,
            service: s('queriesPerChange', 2).text,
          });
        }
        if (missing > 0)
          rows.push({
            measure: `${label}: deliveries missing (timed out)`,
            floor: '',
            service: String(missing),
          });
      }
    }

    if (wanted('bulk')) {
      const n = 20_000;
      for (const table of ['orders', 'bare_orders', 'floor_orders']) {
        await sql.query(
          `INSERT INTO ${table} (customer_name, product_name) SELECT 'bulk', 'item' FROM generate_series(1, ${n})`,
        );
      }
      const ids = async (table: string) =>
        (await sql.query(`SELECT min(id) AS lo FROM ${table} WHERE customer_name = 'bulk'`)).rows[0]
          .lo as string;
      const update = async (table: string, run: number) => {
        const lo = Number(await ids(table));
        // A used session: two 1-row UPDATEs first, as any pooled connection has done.
        const session = new pg.Client({ connectionString: databaseUrl });
        await session.connect();
        await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${lo}`);
        await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${lo}`);
        return {
          session,
          text: `UPDATE ${table} SET product_name = 'b${run}-' || id WHERE id BETWEEN ${lo} AND ${lo + n - 1}`,
        };
      };
      console.log(`UPDATE of ${n} rows on a used session`);
      const runs = await repeat('bulk update', async (run) => {
        const bare = await update('bare_orders', run);
        const t0 = performance.now();
        await bare.session.query(bare.text);
        const bareMs = performance.now() - t0;
        await bare.session.end();
        const f = await update('floor_orders', run);
        const floorResult = await statement('floor', floor, f.session, f.text, n, 'UPDATE');
        await f.session.end();
        const s = await update('orders', run);
        const serviceResult = await statement('graphql-ws', service, s.session, s.text, n, 'UPDATE');
        await s.session.end();
        return { bareMs, floor: floorResult, service: serviceResult };
      });
      const bare = summary(
        runs.map((r) => r.bareMs),
        0,
      );
      const captured = summary(
        runs.map((r) => r.service.statementMs),
        0,
      );
      rows.push({
        measure: `UPDATE of ${n.toLocaleString('en-US')} rows on a used session: statement (ms); bare table ${bare.text}`,
        floor: summary(
          runs.map((r) => r.floor.statementMs),
          0,
        ).text,
        service: captured.text,
        target: '≤ 2 × bare + 100 ms',
        met: captured.median <= 2 * bare.median + 100,
      });
      rows.push({
        measure: `same, all delivered to one subscriber, from the statement's start (ms)`,
        floor: summary(
          runs.map((r) => r.floor.deliveredMs),
          0,
        ).text,
        service: summary(
          runs.map((r) => r.service.deliveredMs),
          0,
        ).text,
      });
    }

    if (wanted('e2e')) {
      const n = 100_000;
      console.log(`INSERT of ${n} rows, delivered end to end`);
      const runs = await repeat('100k rows', async (run) => {
        const text = (table: string) =>
          `INSERT INTO ${table} (customer_name, product_name) SELECT 'e2e-${run}', 'item' FROM generate_series(1, ${n})`;
        const floorResult = await statement('floor', floor, sql, text('floor_orders'), n, 'INSERT');
        const serviceResult = await statement('graphql-ws', service, sql, text('orders'), n, 'INSERT');
        return { floor: floorResult, service: serviceResult };
      });
      const delivered = summary(
        runs.map((r) => r.service.deliveredMs),
        0,
      );
      rows.push({
        measure: '100,000 rows in one INSERT, delivered to one subscriber (ms)',
        floor: summary(
          runs.map((r) => r.floor.deliveredMs),
          0,
        ).text,
        service: delivered.text,
        target: '< 3,000 ms',
        met: delivered.median < 3000,
      });
    }

    if (wanted('writers')) {
      const seconds = quick ? 5 : 15;
      for (const table of ['orders', 'bare_orders']) await seedRows(sql, table, WRITER_ROWS);
      console.log(`8 writers, 1-row UPDATEs, ${seconds} s each (${findPgbench() ?? 'Node driver'})`);
      const runs = await repeat('writers', async () => {
        const bare = await updateThroughput(databaseUrl, 'bare_orders', WRITER_ROWS, seconds);
        const captured = await updateThroughput(databaseUrl, 'orders', WRITER_ROWS, seconds);
        return { bare: bare.tps, captured: captured.tps, ratio: captured.tps / bare.tps };
      });
      const ratio = summary(
        runs.map((r) => r.ratio),
        2,
      );
      rows.push({
        measure: `8 writers, 1-row UPDATE transactions: TPS with capture (service column) and bare table (floor column)`,
        floor: summary(
          runs.map((r) => r.bare),
          0,
        ).text,
        service: summary(
          runs.map((r) => r.captured),
          0,
        ).text,
      });
      rows.push({
        measure: 'same, TPS with capture ÷ bare table',
        floor: '1',
        service: ratio.text,
        target: '≥ 0.75',
        met: ratio.median >= 0.75,
      });
    }

    if (wanted('idle')) {
      const count = 5_000;
      console.log(`${count} idle subscribers, each side on a freshly started process`);
      const runs = await repeat('idle', async (run) => {
        const side = async (target: Target, start: () => Promise<Served>) => {
          const served = await start();
          try {
            return await idleSubscribers(target, served, databaseUrl, count, `${target}-${run}`);
          } finally {
            await served.stop();
          }
        };
        return {
          floor: await side('floor', () => startFloor(databaseUrl)),
          service: await side('graphql-ws', () => startService(databaseUrl)),
        };
      });
      const kb = summary(
        runs.map((r) => r.service.kbPerSubscriber),
        1,
      );
      const floorKb = summary(
        runs.map((r) => r.floor.kbPerSubscriber),
        1,
      );
      rows.push({
        measure: `${count.toLocaleString('en-US')} idle subscribers (graphql-ws; floor: raw WebSocket): KB of RSS each`,
        floor: floorKb.text,
        service: kb.text,
        target: '≤ 1.5 × floor',
        met: kb.median <= 1.5 * floorKb.median,
      });
      rows.push({
        measure: `same, server RSS with ${count.toLocaleString('en-US')} idle subscribers (MiB); at rest before them`,
        floor: `${
          summary(
            runs.map((r) => r.floor.rssAfterMiB),
            0,
          ).text
        }; ${
          summary(
            runs.map((r) => r.floor.rssBeforeMiB),
            0,
          ).text
        }`,
        service: `${
          summary(
            runs.map((r) => r.service.rssAfterMiB),
            0,
          ).text
        }; ${
          summary(
            runs.map((r) => r.service.rssBeforeMiB),
            0,
          ).text
        }`,
      });
    }

    if (wanted('instances')) {
      const seconds = quick ? 5 : 15;
      const rate = 100;
      const url = await freshDatabase(sql, databaseUrl, 'bench_instances');
      const tracked = await trackStatements(databaseUrl, 'bench_instances', url);
      console.log(`1 and 3 instances, one subscriber each, ${rate} changes/s for ${seconds} s`);
      const runs = await repeat('instances', async (run) => ({
        one: await instancesWork(url, 1, rate, seconds, `i1-${run}`, tracked),
        three: await instancesWork(url, 3, rate, seconds, `i3-${run}`, tracked),
      }));
      const per = (pick: (r: (typeof runs)[0]) => number, digits = 2) => summary(runs.map(pick), digits).text;
      rows.push({
        measure: `${rate} changes/s, one subscriber per instance: database transactions per change besides the write (idle work taken off); ticks per change 1 instance ${per((r) => r.one.ticks / r.one.changes)}, 3 instances ${per((r) => r.three.ticks / r.three.changes)}`,
        floor: `1 instance: ${per((r) => r.one.perChange)}`,
        service: `3 instances: ${per((r) => r.three.perChange)}`,
      });
      const growth = summary(
        runs.map((r) => (r.three.perTick - r.one.perTick) / 2),
        2,
      );
      rows.push({
        measure: 'same, per tick: more transactions per tick for each instance added ((3 instances − 1) ÷ 2)',
        floor: `1 instance: ${per((r) => r.one.perTick)} per tick`,
        service: `${growth.text} (3 instances: ${per((r) => r.three.perTick)} per tick)`,
        ...(tracked ? {} : { target: '≤ 1 read per instance per tick', met: growth.median <= 1 }),
      });
      if (tracked) {
        const reads = summary(
          runs.map((r) => ((r.three.readsPerTick ?? 0) - (r.one.readsPerTick ?? 0)) / 2),
          2,
        );
        rows.push({
          measure:
            "same, from pg_stat_statements: reads of the log per tick (the leader's tick polls apart: " +
            `${per((r) => r.one.pollsPerTick ?? 0)} per tick with 1 instance, ${per((r) => r.three.pollsPerTick ?? 0)} with 3); more reads per tick for each instance added`,
          floor: `1 instance: ${per((r) => r.one.readsPerTick ?? 0)} per tick`,
          service: `${reads.text} (3 instances: ${per((r) => r.three.readsPerTick ?? 0)} per tick)`,
          target: '≤ 1 read per instance per tick',
          // At the precision shown: the idle reads taken off (1 s looks for ticks) leave ±0.001.
          met: Number(reads.median.toFixed(2)) <= 1,
        });
      }
    }

    if (wanted('history')) {
      const total = quick ? 1_000_000 : 10_000_000;
      const back = quick ? 100_000 : 1_000_000;
      const perTx = 1_000;
      const url = await freshDatabase(sql, databaseUrl, 'bench_history');
      const migrating = createDb(createPool(url, 1));
      await migrateToLatest(migrating);
      await migrating.destroy();
      console.log(
        `history: ${total.toLocaleString('en-US')} changes in transactions of ${perTx}, one tick each`,
      );
      const fill = await fillHistory(url, total, perTx);
      const history = await startService(url);
      try {
        const resumed = await repeat('resume', () => resume(history, url, back, perTx));
        rows.push({
          measure: `${total.toLocaleString('en-US')} changes in the log (written in ${fill.seconds.toFixed(0)} s): a graphql-ws reader resuming ${back.toLocaleString('en-US')} changes back catches up at (changes/s)`,
          floor: '',
          service: summary(
            resumed.map((r) => r.changesPerSecond),
            0,
          ).text,
        });
        const rate = 100;
        console.log(`history: pruning the older half under ${rate} single-row INSERTs/s (once)`);
        const prune = await pruneUnderLoad(history, url, rate, 'prune');
        console.log(`  prune: ${JSON.stringify(prune)}`);
        const ms = (n: number) => n.toFixed(0);
        const pair = (l: HistoryLatencies, k: 'writer' | 'lag') =>
          `${ms(l[`${k}P50`])} / ${ms(l[`${k}P99`])} / ${ms(l[`${k}Max`])}`;
        rows.push({
          measure: `pruning ${prune.removed.toLocaleString('en-US')} of them: took ${prune.pruneSeconds.toFixed(1)} s${prune.error ? ` and FAILED (${prune.error})` : ''}; writer latency p50 / p99 / max (ms) before (floor column) and during (service column)`,
          floor: pair(prune.before, 'writer'),
          service: pair(prune.during, 'writer'),
          target: 'not blocked',
          met: !prune.error && prune.during.writerP99 <= prune.before.writerP99 * 3 + 20,
        });
        rows.push({
          measure: 'same, feed lag (commit to delivery) p50 / p99 / max (ms), before and during',
          floor: pair(prune.before, 'lag'),
          service: pair(prune.during, 'lag'),
          target: 'not blocked',
          met: !prune.error && prune.during.lagP99 <= prune.before.lagP99 * 3 + 50,
        });
      } finally {
        await history.stop();
      }
    }

    if (wanted('pace')) {
      const seconds = quick ? 10 : 30;
      console.log(`1 subscriber, 8 writers at full speed for ${seconds} s`);
      await seedRows(sql, 'orders', WRITER_ROWS);
      const runs = await repeat('pace', async () => {
        let received = 0;
        let last = 0;
        const before = Number(
          (await sql.query('SELECT coalesce(max(seq), 0) AS s FROM order_changes')).rows[0].s,
        );
        const { graphqlWsSubscriber } = await import('./subscribers.ts');
        const subscriber = await graphqlWsSubscriber(
          service.ws,
          'subscription { orderChanged(where: { operations: [UPDATE] }) { cursor order { id version } } }',
          () => {
            received++;
            last = performance.now();
          },
        );
        await sleep(500);
        const writers = await updateThroughput(databaseUrl, 'orders', WRITER_ROWS, seconds);
        const stopped = performance.now();
        const after = Number((await sql.query('SELECT max(seq) AS s FROM order_changes')).rows[0].s);
        const expected = after - before;
        const deadline = stopped + 120_000;
        while (received < expected && performance.now() < deadline) await sleep(5);
        subscriber.close();
        return { tps: writers.tps, lagMs: Math.max(0, last - stopped), missing: expected - received };
      });
      const lag = summary(
        runs.map((r) => r.lagMs),
        0,
      );
      rows.push({
        measure: `1 subscriber, 8 writers at full speed (${
          summary(
            runs.map((r) => r.tps),
            0,
          ).text
        } tx/s) for ${seconds} s: last change delivered after they stop (ms)`,
        floor: '',
        service: lag.text,
        target: '≤ 2,000 ms',
        met: lag.median <= 2000 && runs.every((r) => r.missing === 0),
      });
    }
  } finally {
    await sql.end();
    await floor.stop();
    await service.stop();
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim())
      commit += ' (with uncommitted changes)';
  } catch {}
  const file = writeResults({
    rows,
    commit,
    quick,
    runs: RUNS,
    minutes: (Date.now() - started) / 60_000,
    loadBefore,
    loadAfter: load(),
    pgbench: findPgbench(),
  });
  console.log(`\nwrote ${file}`);
}

/** BENCH_MYSQL_URL or --mariadb: the MariaDB/MySQL run (test/bench/mariadb.ts) instead, to RESULTS-mariadb.md. */
async function mariadb(serverUrl: string) {
  const { runMariadb } = await import('./mariadb.ts');
  const loadBefore = load();
  const started = Date.now();
  const { rows: measured, about } = await runMariadb({ serverUrl, quick, wanted, repeat });
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim())
      commit += ' (with uncommitted changes)';
  } catch {}
  const file = writeResults({
    rows: measured,
    commit,
    quick,
    runs: RUNS,
    minutes: (Date.now() - started) / 60_000,
    loadBefore,
    loadAfter: load(),
    pgbench: undefined,
    file: 'test/bench/RESULTS-mariadb.md',
    notes: 'test/bench/notes-mariadb.md',
    title: '# Benchmark results on MariaDB',
    about,
  });
  console.log(`\nwrote ${file}`);
}

const mysqlServer =
  process.env.BENCH_MYSQL_URL ??
  (process.argv.includes('--mariadb') ? 'mysql://root@127.0.0.1:3306' : undefined);
await (mysqlServer ? mariadb(mysqlServer) : main());
