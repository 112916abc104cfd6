import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { serverIndependentFiles } from './setup/server-independent-files.ts';

const root = path.resolve(import.meta.dirname, '..');

// What reaches the suite's shared PostgreSQL server: the URL the global setup provides, and the
// helpers that make databases and services on it.
const SHARED_SERVER = /\binject\(\s*'postgresServerUrl'|helpers\/(database|service)\.ts'/;

/** The file and every file of this checkout it imports, directly or not (relative imports). */
function withLocalImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), specifier as string);
    if (existsSync(target)) withLocalImports(target, seen);
  }
  return seen;
}

// The outage test imports the shared helpers, but every database it uses is on the server it
// stops, which startOwnServer starts for it (test/faults/own-server.ts).
const OWN_SERVER = 'test/faults/server-stopped.test.ts';

// A file wrongly listed would lose its run against CI's second PostgreSQL without anyone noticing.
test('the files left out of runs against another PostgreSQL server never use the suite’s server', () => {
  const using = serverIndependentFiles
    .filter((file) => file !== OWN_SERVER)
    .flatMap((file) =>
      [...withLocalImports(path.join(root, file))]
        .filter((f) => SHARED_SERVER.test(readFileSync(f, 'utf8')))
        .map((f) => `${file} (through ${path.relative(root, f)})`),
    );
  expect(using).toEqual([]);
});

test('the outage test runs on servers of its own, and only there', () => {
  const scenario = readFileSync(path.join(root, OWN_SERVER), 'utf8');
  expect(scenario).toMatch(
    /const server = await startOwnServer\(cleanups\);\s+await runOutageScenario\(cleanups, server\.database,/,
  );
  expect(scenario).not.toMatch(/createTestDatabase|inject\(|startTestService/);
  // The scenario's service and its databases: the one given, or ones on its server.
  const outage = readFileSync(path.join(root, 'test/faults/outage.ts'), 'utf8');
  expect(outage).not.toMatch(/createTestDatabase\(\)|inject\(/);
});

test('the check sees a file that does use the suite’s server', () => {
  const files = [...withLocalImports(path.join(root, 'test/changes/capture.test.ts'))];
  expect(files.some((f) => SHARED_SERVER.test(readFileSync(f, 'utf8')))).toBe(true);
});
