/**
 * What `npm run bench` needs from a database, so that one set of scenarios (scenarios/) runs on
 * PostgreSQL (postgres.ts) and on MariaDB/MySQL (mariadb.ts): the scenarios, the measures, the
 * aggregation of runs and the report exist once; a dialect says how its database is made, written
 * and counted.
 */
import type { Served } from './processes.ts';
import type { Report, Row } from './results.ts';
import type { Session } from './sessions.ts';
import type { Target } from './streams.ts';

export interface Throughput {
  tps: number;
  transactions: number;
}

/** A stream scenario: its name (for BENCH_ONLY), subscribers, changes per second, targets. */
export type StreamScenario = [name: string, subscribers: number, rate: number, targets: Target[]];

export interface Dialect {
  /** The database the service, the floor and the load use. */
  url: string;
  /** The floor's process (test/bench/floor.ts or mariadb-floor.ts). */
  floorScript: string;
  /** The bench's own session on `url` (seeding, bulk statements, counts). */
  sql: Session;
  /** Before each console line of a scenario ('' or 'MariaDB: '). */
  say: string;
  streams: StreamScenario[];
  /** Once the service has migrated `url`: the floor's table and the bare table, copies of orders. */
  createTables(): Promise<void>;
  connect(): Promise<Session>;
  pool(size: number): Session;
  /** A FROM item of `n` rows, for INSERT … SELECT. */
  series(n: number): string;
  /** The bulk scenario's UPDATE of the `rows` 'bulk' rows of `table` (`run` in the new values), and one of their ids. */
  bulkUpdate(table: string, rows: number, run: number): Promise<{ text: string; firstId: string }>;
  /** The e2e scenario also reports the INSERT statement's own time (a row only RESULTS-mariadb.md has). */
  reportsInsertStatement: boolean;
  /** How the 8 writers run, for the console. */
  writersName: string;
  /** 8 writers of 1-row UPDATEs of existing rows of `table` (seeded or read first), for `seconds`. */
  writers(table: string): Promise<(seconds: number) => Promise<Throughput>>;
  /** Transactions the database has committed so far (pg_stat_database); without it, not measured. */
  transactionsSoFar?(pool: Session): Promise<number>;
  /** The change log's last position, to count pace's changes; without it, each writer transaction is one. */
  changeLogEnd?(): Promise<number>;
  /** Scenarios only this database runs, after idle and before pace (PostgreSQL's instances, history). */
  ownScenarios: Scenario[];
  /** The report's file, notes, title and header lines. */
  report: Pick<Report, 'file' | 'notes' | 'title' | 'setup' | 'about'>;
  close(): Promise<void>;
}

/** What every scenario gets: the database, the two processes it measures, the run options. */
export interface Bench {
  dialect: Dialect;
  service: Served;
  floor: Served;
  quick: boolean;
  wanted(name: string): boolean;
  /** Runs `fn` BENCH_RUNS times, logging each run's result. */
  repeat<T>(label: string, fn: (run: number) => Promise<T>): Promise<T[]>;
}

export type Scenario = (bench: Bench) => Promise<Row[]>;
