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

try {
  const service = await startService(config, log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // service.stop() bounds each of its steps; this only guards against the unforeseen.
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    await service.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
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
  if (error instanceof ConfigError) {
    console.error(`realtime-orders: ${error.message}`);
  } else {
    log.fatal({ err: error }, 'failed to start');
    console.error(`realtime-orders: failed to start: ${(error as Error).message}`);
  }
  process.exit(1);
}
