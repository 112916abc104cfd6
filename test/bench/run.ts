/**
 * `npm run bench`: the service and the floor (test/bench/floor.ts), each in a process of its own,
 * on one embedded PostgreSQL (or BENCH_DATABASE_URL), measured from outside with real clients in
 * the same run, each scenario BENCH_RUNS times (default 3), floor and service alternating.
 * Writes test/bench/RESULTS.md. `npm run bench -- --quick` (or BENCH_QUICK=1) shortens every
 * scenario so that a whole run fits a loaded laptop; ratios to the floor are what count.
 * BENCH_ONLY=light,latency,fanout,bulk,e2e,writers,pace,idle,history,instances runs some
 * scenarios. The service runs as `npm start` runs it (the compiled build); BENCH_SERVICE_ENTRY
 * gives other node arguments ('--import tsx src/main.ts'); BENCH_SERVICE_NODE_ARGS passes node
 * flags (--cpu-prof), BENCH_FLOOR_NODE_ARGS the same to the floor.
 * test/bench/notes.md (the analysis of the gaps) is appended to RESULTS.md.
 * BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306 (or --mariadb) runs the same scenarios on MariaDB
 * instead (test/bench/mariadb.ts; light, instances and history are PostgreSQL's only) and writes
 * test/bench/RESULTS-mariadb.md.
 *
 * The scenarios (scenarios/) are written once; each database is a dialect (dialect.ts):
 * postgres.ts, mariadb.ts.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Bench, Dialect, Scenario } from './dialect.ts';
import { sleep } from './measure.ts';
import { startFloor, startService } from './processes.ts';
import { type Row, writeResults } from './results.ts';
import { idle } from './scenarios/idle.ts';
import { bulk, endToEnd } from './scenarios/statements.ts';
import { atRest, streams } from './scenarios/streams.ts';
import { pace, writers } from './scenarios/writers.ts';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const only = process.env.BENCH_ONLY?.split(',');
const mysqlServer =
  process.env.BENCH_MYSQL_URL ??
  (process.argv.includes('--mariadb') ? 'mysql://root@127.0.0.1:3306' : undefined);

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

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const dialect: Dialect = mysqlServer
    ? await (await import('./mariadb.ts')).openMariadb(mysqlServer)
    : await (await import('./postgres.ts')).openPostgres();
  const loadBefore = load();
  const started = Date.now();
  const rows: Row[] = [];
  // The service migrates the database at its start; the floor's tables copy its orders.
  const service = await startService(dialect.url);
  await dialect.createTables();
  const floor = await startFloor(dialect.url, dialect.floorScript);
  const bench: Bench = {
    dialect,
    service,
    floor,
    quick,
    wanted: (name) => !only || only.includes(name),
    repeat,
  };
  const scenarios: Scenario[] = [
    atRest,
    streams,
    bulk,
    endToEnd,
    writers,
    idle,
    ...dialect.ownScenarios,
    pace,
  ];
  try {
    await sleep(1000);
    for (const scenario of scenarios) rows.push(...(await scenario(bench)));
  } finally {
    await floor.stop();
    await service.stop();
    await dialect.close();
  }
  const file = writeResults({
    ...dialect.report,
    rows,
    commit: commit(),
    quick,
    runs: RUNS,
    minutes: (Date.now() - started) / 60_000,
    loadBefore,
    loadAfter: load(),
  });
  console.log(`\nwrote ${file}`);
}

await main();
