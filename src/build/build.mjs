// `npm run build`: compiles src/ and migrations/ to dist/ (src/build/tsconfig.json) from scratch, so no
// output of a deleted source (a migration above all) survives, then stamps the build's time for
// src/build/start-entry.mjs. Types are checked by `npm run typecheck`, not here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = new Date();
for (const dir of ['src', 'migrations'])
  rmSync(path.join(root, 'dist', dir), { recursive: true, force: true });
const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'src', 'build', 'tsconfig.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(path.join(root, 'dist', 'src'), { recursive: true });
// The stamp carries the time the build started: a source saved during the build counts as newer.
writeFileSync(path.join(root, 'dist', 'src', '.built'), `${started.toISOString()}\n`);
utimesSync(path.join(root, 'dist', 'src', '.built'), started, started);
