import { parseWatchArgs, resumeCommand, USAGE, UsageError, type WatchArgs } from './args.ts';
import { WatchError, Watcher } from './client.ts';
import { formatChange, formatJson, useColor } from './format.ts';

const NAME = 'watch';

let args: WatchArgs;
try {
  args = parseWatchArgs(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${NAME}: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const color = useColor(process.stdout);
const watcher = new Watcher({
  url: args.url,
  where: args.where,
  after: args.after,
  token: args.token,
  onChange: (change) => {
    process.stdout.write(`${args.json ? formatJson(change) : formatChange(change, color)}\n`);
  },
  onStatus: (message) => console.error(`${NAME}: ${message}`),
});

function printResume(): void {
  if (watcher.cursor) console.error(`${NAME}: resume with: ${resumeCommand(args, watcher.cursor)}`);
}

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  watcher.stop();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// `npm run watch -- --json | head -3`: the reader went away, which is a normal end.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  stop();
});

try {
  await watcher.run();
  printResume();
  process.exit(0);
} catch (error) {
  if (!(error instanceof WatchError)) throw error;
  const hint =
    error.code === 'CURSOR_EXPIRED'
      ? ' (older than the change log keeps; start without --after, or from a newer cursor)'
      : error.code === 'BAD_USER_INPUT' && /after/.test(error.message)
        ? ' (check the --after cursor)'
        : '';
  console.error(`${NAME}: ${error.code ? `${error.code}: ` : ''}${error.message}${hint}`);
  // A cursor the server rejects is not worth suggesting again.
  if (watcher.cursor !== args.after) printResume();
  process.exit(1);
}
