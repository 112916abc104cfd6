/**
 * Writers at full speed: 8 clients of single-row UPDATE transactions. On PostgreSQL with pgbench
 * when one is installed (BENCH_PGBENCH, or PostgreSQL's usual places); else, and on MariaDB, the
 * same loop from Node.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Throughput } from './dialect.ts';
import type { Session } from './sessions.ts';

export const CLIENTS = 8;

export function findPgbench(): string | undefined {
  if (process.env.BENCH_PGBENCH) return process.env.BENCH_PGBENCH;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin', 'pgbench')).find((p) => existsSync(p));
}

/** pgbench's 8 clients updating random rows 1..rows of `table` for `seconds`. */
export async function pgbenchThroughput(
  pgbench: string,
  databaseUrl: string,
  table: string,
  rows: number,
  seconds: number,
): Promise<Throughput> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pgbench-'));
  const script = path.join(dir, 'update.sql');
  writeFileSync(
    script,
    `\\set id random(1, ${rows})\nUPDATE ${table} SET quantity = quantity % 1000 + 1 WHERE id = :id;\n`,
  );
  const output = await new Promise<string>((resolve, reject) =>
    execFile(
      pgbench,
      ['-n', '-c', String(CLIENTS), '-j', '2', '-T', String(seconds), '-f', script, databaseUrl],
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
  const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1]);
  const transactions = Number(/actually processed: (\d+)/.exec(output)?.[1]);
  return { tps, transactions };
}

/** 8 sessions of autocommitted 1-row UPDATEs of `table`, each of the row `pickId()` gives, for `seconds`. */
export async function nodeThroughput(
  connect: () => Promise<Session>,
  table: string,
  pickId: () => string | number,
  seconds: number,
): Promise<Throughput> {
  const sessions = await Promise.all(Array.from({ length: CLIENTS }, connect));
  let transactions = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    sessions.map(async (session) => {
      while (performance.now() < end) {
        await session.query(`UPDATE ${table} SET quantity = quantity % 1000 + 1 WHERE id = $1`, [pickId()]);
        transactions++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(sessions.map((s) => s.end()));
  return { tps: transactions / elapsed, transactions };
}
