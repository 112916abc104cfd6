import { existsSync } from 'node:fs';
import path from 'node:path';
import { readSecurityConfig, type SecurityConfig, SecurityConfigError } from './auth/config.ts';

export interface Config {
  /** PostgreSQL to use; unset means an embedded server under `dataDir`. */
  databaseUrl: string | undefined;
  /** HTTP port (default 4000). */
  port: number;
  /** HTTP bind address (default 127.0.0.1). */
  host: string;
  /** pino level (default info). */
  logLevel: string;
  /** How long the change log keeps history, in milliseconds (default 7 days). */
  changeRetentionMs: number;
  /** Where the embedded database keeps its data (default .data/). */
  dataDir: string;
  /** AUTH_*, CORS_ORIGINS, GRAPHIQL; undefined when none is set: auth off, any origin, GraphiQL on. */
  security?: SecurityConfig | undefined;
  /** Open subscriptions one WebSocket or SSE connection may hold (default 100). */
  maxSubscriptionsPerConnection?: number;
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads `.env` (when present) into process.env without overriding what is already set. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl) {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      throw new ConfigError(`DATABASE_URL is not a URL: ${redact(databaseUrl)}`);
    }
    if (!['postgres:', 'postgresql:', 'mysql:', 'mariadb:'].includes(url.protocol)) {
      throw new ConfigError(
        `DATABASE_URL must start with postgres://, mysql:// or mariadb:// (got ${url.protocol}//)`,
      );
    }
  }
  const logLevel = (setting(env.LOG_LEVEL) ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${logLevel})`);
  }
  return {
    databaseUrl,
    port: parsePort(setting(env.PORT) ?? '4000'),
    host: setting(env.HOST) ?? '127.0.0.1',
    logLevel,
    changeRetentionMs: parseDuration('CHANGE_RETENTION', setting(env.CHANGE_RETENTION) ?? '7d'),
    dataDir: path.resolve(setting(env.DATA_DIR) ?? '.data'),
    security: securitySettings(env),
    maxSubscriptionsPerConnection: parsePositiveInteger(
      'MAX_SUBSCRIPTIONS_PER_CONNECTION',
      setting(env.MAX_SUBSCRIPTIONS_PER_CONNECTION) ?? '100',
    ),
  };
}

function securitySettings(env: NodeJS.ProcessEnv): SecurityConfig | undefined {
  try {
    return readSecurityConfig(env);
  } catch (error) {
    if (error instanceof SecurityConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

// `PORT=` (as .env.example's lines read once uncommented) means the default, not port 0 or the cwd.
function setting(value: string | undefined): string | undefined {
  return value?.trim() || undefined;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535 (got ${value})`);
  }
  return port;
}

function parsePositiveInteger(name: string, value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new ConfigError(`${name} must be a whole number of at least 1 (got ${value})`);
  }
  return number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `90s`, `15m`, `12h`, `7d`, `2w`, or a plain number of seconds. */
export function parseDuration(name: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
  if (!match) throw new ConfigError(`${name} must be a duration like 30m, 12h or 7d (got ${value})`);
  const ms = Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
  if (ms <= 0) throw new ConfigError(`${name} must be positive (got ${value})`);
  return ms;
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
