/**
 * The scenarios only PostgreSQL runs: several instances on one database (pg_stat_database and
 * pg_stat_statements count their work), and a long change log read back and pruned under load.
 */
import type pg from 'pg';
import { createDb, createPool } from '../../../src/db/connect.ts';
import { migrateToLatest } from '../../../src/db/migrate.ts';
import type { Scenario } from '../dialect.ts';
import { fillHistory, type Latencies as HistoryLatencies, pruneUnderLoad, resume } from '../history.ts';
import { instancesWork, trackStatements } from '../instances.ts';
import { summary } from '../measure.ts';
import { startService } from '../processes.ts';
import type { Row } from '../results.ts';

/** A new, empty database on the bench's server (the service migrates it at start); its URL. */
async function freshDatabase(admin: pg.Client, serverDatabaseUrl: string, name: string): Promise<string> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `admin`: a session on `databaseUrl`, the bench's database, that may create databases. */
export function postgresOnlyScenarios(admin: pg.Client, databaseUrl: string): Scenario[] {
  const instances: Scenario = async ({ quick, wanted, repeat }) => {
    if (!wanted('instances')) return [];
    const rows: Row[] = [];
    const seconds = quick ? 5 : 15;
    const rate = 100;
    const url = await freshDatabase(admin, databaseUrl, 'bench_instances');
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
    return rows;
  };

  const history: Scenario = async ({ quick, wanted, repeat }) => {
    if (!wanted('history')) return [];
    const rows: Row[] = [];
    const total = quick ? 1_000_000 : 10_000_000;
    const back = quick ? 100_000 : 1_000_000;
    const perTx = 1_000;
    const url = await freshDatabase(admin, databaseUrl, 'bench_history');
    const migrating = createDb(createPool(url, 1));
    await migrateToLatest(migrating);
    await migrating.destroy();
    console.log(
      `history: ${total.toLocaleString('en-US')} changes in transactions of ${perTx}, one tick each`,
    );
    const fill = await fillHistory(url, total, perTx);
    const served = await startService(url);
    try {
      const resumed = await repeat('resume', () => resume(served, url, back, perTx));
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
      const prune = await pruneUnderLoad(served, url, rate, 'prune');
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
      await served.stop();
    }
    return rows;
  };

  return [instances, history];
}
