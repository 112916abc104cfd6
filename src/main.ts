import { ConfigError, loadDotEnv, readConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startService } from './server/service.ts';

loadDotEnv();
let config: ReturnType<typeof readConfig>;
try {
  config = readConfig();
} catch (error) {
  console.error(`realtime-orders: ${(error as Error).message}`);
  process.exit(1);
}
const log = createLogger(config.logLevel);

// No request, client or database event may end the process. Whatever escapes every handler is
// logged with its stack and survived: the service's state lives in the database and in objects
// that recover on their own (pool, change feed), and what throws uncaught in Node is, in practice,
// an event emitter of one connection or request, which is already gone. An operator sees these
// lines at error level and a process that stays up (test/startup.test.ts).
process.on('unhandledRejection', (reason) => {
  log.error({ err: reason }, 'unhandled rejection (survived)');
});
process.on('uncaughtException', (error, origin) => {
  log.error({ err: error, origin }, 'uncaught exception (survived)');
});

// Signals are handled from the first moment: during start-up (waiting for a database that is
// down, say) they abort the start, which stops whatever had started, the embedded database too.
const starting = new AbortController();
let stop: (signal: string) => void = (signal) => {
  log.info({ signal }, 'stopping during start-up');
  starting.abort(new Error(`stopped by ${signal}`));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  const service = await startService(config, log, { signal: starting.signal });
  let stopping = false;
  stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // service.stop() bounds each of its steps (about 8 s at worst, with the embedded database); this only guards against the
    // unforeseen, so that a stop never takes more than 10 s.
    const force = setTimeout(() => {
      log.error('did not stop within 9.5 s; exiting anyway');
      process.exit(1);
    }, 9_500);
    force.unref();
    await service.stop();
    log.info('stopped');
    process.exit(0);
  };
  const ws = service.url.replace(/^http/, 'ws');
  console.log(
    [
      `Realtime Orders is ready`,
      `  dashboard  ${service.url}/`,
      `  GraphQL    ${service.url}/graphql   (GraphiQL in a browser)`,
      `  WebSocket  ${ws}/graphql  (graphql-transport-ws)`,
      `  SSE        ${service.url}/graphql/stream`,
      `  REST       ${service.url}/api/orders`,
      `  health     ${service.url}/health   ${service.url}/ready   ${service.url}/metrics`,
    ].join('\n'),
  );
} catch (error) {
  if (starting.signal.aborted) process.exit(0);
  if (error instanceof ConfigError) {
    console.error(`realtime-orders: ${error.message}`);
  } else {
    log.fatal({ err: error }, 'failed to start');
    console.error(`realtime-orders: failed to start: ${(error as Error).message}`);
  }
  process.exit(1);
}
