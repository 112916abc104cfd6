import { sql } from 'kysely';
import { ChangeFeed } from '../changes/feed.ts';
import type { ChangeSource } from '../changes/source.ts';
import { type Config, ConfigError, redact } from '../config.ts';
import { createDb, createPool } from '../db/connect.ts';
import { isMysqlUrl } from '../db/dialect.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../db/embedded.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { withDeadline } from '../deadline.ts';
import type { Logger } from '../log.ts';
import { type App, buildApp, type Readiness } from './app.ts';
import { StartupGate } from './startup-gate.ts';

/** In-flight requests get this long to finish on a stop; the whole stop stays under 10 s. */
const STOP_GRACE_MS = 3_500;
const STOP_STEP_TIMEOUT_MS = 1_500;

export interface Service {
  url: string;
  databaseUrl: string;
  app: App;
  feed: ChangeSource;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Feed tuning, for tests. */
  feed?: Partial<ConstructorParameters<typeof ChangeFeed>[0]>;
  /** Aborts a start that is still waiting for the database (Ctrl-C during start-up). */
  signal?: AbortSignal;
  /** How long operations that arrive during start-up are held before SERVICE_UNAVAILABLE (5 s). */
  startupHoldMs?: number;
}

/**
 * Starts everything in order: the database (embedded unless DATABASE_URL), HTTP (so /health and
 * /ready answer while the database is awaited), migrations, then the change feed. Operations that
 * arrive before the feed is up are held until it is (see StartupGate).
 */
export async function startService(
  config: Config,
  log: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  let embedded: EmbeddedPostgres | undefined;
  if (!config.databaseUrl) {
    log.info({ dir: config.dataDir }, 'starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir: config.dataDir,
      onLog: (line) => log.debug({ postgres: line }),
    });
  }
  const databaseUrl = config.databaseUrl ?? (embedded as EmbeddedPostgres).url;
  // The URL alone chooses the database: mysql:// and mariadb:// are MySQL/MariaDB.
  // MySQL's modules (mysql2, the binary-log reader) are loaded only for a MySQL URL.
  const mysql = isMysqlUrl(databaseUrl) ? await loadMysqlBackend() : undefined;
  const gateOptions = { log: log.child({ component: 'database' }) };
  const db = mysql
    ? mysql.createMysqlDb(databaseUrl, 10, gateOptions)
    : createDb(createPool(databaseUrl), gateOptions);
  const feedOptions = {
    db,
    connectionString: databaseUrl,
    log: log.child({ component: 'change-feed' }),
    retentionMs: config.changeRetentionMs,
    ...options.feed,
  };
  const feed: ChangeSource = mysql ? new mysql.MysqlChangeFeed(feedOptions) : new ChangeFeed(feedOptions);

  let starting: string | undefined = 'waiting for the database';
  const readiness = async (): Promise<Readiness> => {
    if (starting) return { ready: false, reason: starting };
    try {
      await withDeadline(sql`SELECT 1`.execute(db), 2_000);
    } catch (error) {
      return { ready: false, reason: `database: ${(error as Error).message}` };
    }
    const status = feed.status();
    return status.listening ? { ready: true } : { ready: false, reason: status.reason };
  };

  const gate = new StartupGate(options.startupHoldMs);
  const app = buildApp({
    db,
    feed,
    log,
    readiness,
    gate,
    security: config.security,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
  });
  // Each step is bounded, so that the embedded database is stopped whatever hangs before it.
  const stopAll = async () => {
    starting = 'stopping';
    gate.abandon();
    for (const [step, run, timeoutMs] of [
      ['http', () => app.close(STOP_GRACE_MS), STOP_GRACE_MS + STOP_STEP_TIMEOUT_MS],
      ['change feed', () => feed.stop(), STOP_STEP_TIMEOUT_MS],
      ['pool', () => db.destroy(), STOP_STEP_TIMEOUT_MS],
    ] as const) {
      await withDeadline(run(), timeoutMs).catch((error: Error) =>
        log.warn({ step, reason: error.message }, 'did not stop cleanly'),
      );
    }
    await embedded?.stop().catch((error: Error) => log.warn({ reason: error.message }, 'embedded stop'));
  };
  try {
    const url = await app.listen(config.port, config.host).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        throw new ConfigError(`port ${config.port} on ${config.host} is already in use`);
      if (error.code === 'EADDRNOTAVAIL')
        throw new ConfigError(`HOST ${config.host} is not an address of this machine`);
      throw error;
    });
    await waitForDatabase(db, databaseUrl, log, options.signal);
    if (mysql) await mysql.checkMysqlSettings(db);
    starting = 'applying migrations';
    const applied = await migrateToLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
    starting = 'starting the change feed';
    await feed.start();
    starting = undefined;
    gate.openNow();
    return { url, databaseUrl, app, feed, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

// A server that is down or starting is waited for; one that refuses us (bad password, unknown
// database or host) is a configuration mistake and ends the start.
async function waitForDatabase(
  db: ReturnType<typeof createDb>,
  url: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  for (let delay = 250, attempt = 1; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
    signal?.throwIfAborted();
    try {
      await sql`SELECT 1`.execute(db);
      return;
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      // PostgreSQL's SQLSTATEs, then MySQL's: bad password, unknown database, unknown host.
      const refused = ['28P01', '28000', '3D000', 'ENOTFOUND', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR'];
      if (code !== undefined && refused.includes(code)) {
        throw new ConfigError(`DATABASE_URL ${redact(url)}: ${message}`);
      }
      log.warn({ attempt, retryInMs: delay, reason: message }, 'database not reachable yet; retrying');
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal?.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true });
      });
    }
  }
}

async function loadMysqlBackend() {
  const [{ createMysqlDb }, { checkMysqlSettings }, { MysqlChangeFeed }] = await Promise.all([
    import('../db/mysql.ts'),
    import('../db/mysql-settings.ts'),
    import('../changes/mysql/feed.ts'),
  ]);
  return { createMysqlDb, checkMysqlSettings, MysqlChangeFeed };
}
