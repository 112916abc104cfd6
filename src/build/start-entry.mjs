// `npm start` runs `exec node $(node src/build/start-entry.mjs)`: this prints the node arguments that
// start the service. Normally the compiled build (dist/src/main.js, made by `npm install`), which
// needs far less memory than compiling TypeScript in the process (tsx). When the build is missing
// or older than any file in src/ or migrations/ (sources edited or checked out without a
// reinstall), it is rebuilt first; if that cannot be done (no TypeScript, as after
// `npm ci --omit=dev`, or the build fails), the service starts from the sources through tsx.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const stamp = path.join(root, 'dist', 'src', '.built');
const FALLBACK = '--import tsx src/main.ts';

/** The newest mtime among the build's inputs, directories included (a deleted file changes its directory's). */
function newestSource() {
  let newest = 0;
  const visit = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  visit(path.join(root, 'src'));
  visit(path.join(root, 'migrations'));
  for (const file of ['tsconfig.json', 'package.json']) {
    newest = Math.max(newest, statSync(path.join(root, file)).mtimeMs);
  }
  return newest;
}

const fresh = () => existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource();

function build(reason) {
  try {
    createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return `${reason}, and TypeScript is not installed to rebuild it`;
  }
  process.stderr.write(`realtime-orders: ${reason}; building it (npm run build)\n`);
  const result = spawnSync(process.execPath, [path.join(root, 'src', 'build', 'build.mjs')], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  return result.status === 0 ? undefined : `${reason}, and rebuilding it failed`;
}

let problem;
if (!fresh()) {
  problem = build(existsSync(stamp) ? 'the build in dist/ is older than src/' : 'dist/ has no build');
}
if (problem) {
  process.stderr.write(
    `realtime-orders: ${problem}; starting from the sources through tsx (uses more memory)\n`,
  );
  process.stdout.write(FALLBACK);
} else {
  process.stdout.write('dist/src/main.js');
}
