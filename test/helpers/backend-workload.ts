import { isMysqlUrl } from '../../src/db/mysql.ts';
import { type CommittedChange, runWorkload, seedOrders, type WorkloadOptions } from '../changes/harness.ts';
import { runMysqlWorkload, seedMysqlOrders } from '../changes/mysql-workload.ts';
import type { TestDatabase } from './database.ts';

/** runWorkload on the database's own backend: PostgreSQL (harness.ts) or MySQL (mysql-workload.ts). */
export function runBackendWorkload(url: string, options: WorkloadOptions): Promise<CommittedChange[]> {
  return isMysqlUrl(url) ? runMysqlWorkload(url, options) : runWorkload(url, options);
}

/** seedOrders on the database's own backend. */
export function seedBackendOrders(database: TestDatabase, count: number) {
  return isMysqlUrl(database.url) ? seedMysqlOrders(database, count) : seedOrders(database, count);
}
