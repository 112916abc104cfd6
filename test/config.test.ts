import path from 'node:path';
import { expect, test } from 'vitest';
import { ConfigError, readConfig } from '../src/config.ts';

test('defaults, as documented in .env.example', () => {
  expect(readConfig({})).toEqual({
    databaseUrl: undefined,
    port: 4000,
    host: '127.0.0.1',
    logLevel: 'info',
    changeRetentionMs: 7 * 86400e3,
    dataDir: path.resolve('.data'),
    maxSubscriptionsPerConnection: 100,
  });
});

test('an empty setting means its default', () => {
  const env = {
    DATABASE_URL: '',
    PORT: '',
    HOST: ' ',
    LOG_LEVEL: '',
    CHANGE_RETENTION: '',
    DATA_DIR: '',
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '',
  };
  expect(readConfig(env)).toEqual(readConfig({}));
});

test('reads every setting', () => {
  const config = readConfig({
    DATABASE_URL: 'postgres://u:p@db:5432/orders',
    PORT: '8080',
    HOST: '0.0.0.0',
    LOG_LEVEL: 'DEBUG',
    CHANGE_RETENTION: '12h',
    DATA_DIR: '/tmp/orders-data',
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '7',
  });
  expect(config).toEqual({
    databaseUrl: 'postgres://u:p@db:5432/orders',
    port: 8080,
    host: '0.0.0.0',
    logLevel: 'debug',
    changeRetentionMs: 12 * 3600e3,
    dataDir: '/tmp/orders-data',
    maxSubscriptionsPerConnection: 7,
  });
});

test.each([
  [{ PORT: 'notaport' }, /^PORT must be an integer/],
  [{ PORT: '70000' }, /^PORT/],
  [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
  [{ CHANGE_RETENTION: 'forever' }, /^CHANGE_RETENTION must be a duration/],
  [{ CHANGE_RETENTION: '0s' }, /^CHANGE_RETENTION must be positive/],
  [
    { DATABASE_URL: 'sqlite://u:secret@h/db' },
    /^DATABASE_URL must start with postgres:\/\/, mysql:\/\/ or mariadb:\/\//,
  ],
  [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a URL/],
  [{ MAX_SUBSCRIPTIONS_PER_CONNECTION: '0' }, /^MAX_SUBSCRIPTIONS_PER_CONNECTION must be a whole number/],
  [{ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2.5' }, /^MAX_SUBSCRIPTIONS_PER_CONNECTION must be a whole number/],
])('refuses %j with a ConfigError saying what is wrong', (env, message) => {
  expect(() => readConfig(env)).toThrow(ConfigError);
  expect(() => readConfig(env)).toThrow(message);
});

test('takes MySQL and MariaDB URLs: the URL alone chooses the database', () => {
  for (const url of ['mysql://u:p@h:3306/db', 'mariadb://u:p@h/db']) {
    expect(readConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
  }
});

test('never repeats a password in an error', () => {
  expect(() => readConfig({ DATABASE_URL: 'postgres://u:secret@h:notaport/db' })).toThrow(/u:\*\*\*@/);
  expect(() => readConfig({ DATABASE_URL: 'postgres://u:secret@h:notaport/db' })).not.toThrow(/secret/);
});
