import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// The README's Apollo and urql examples, as pasted into a file of this checkout and run by Node
// (no TypeScript loader): they print the changes committed after their snapshot.

const root = join(import.meta.dirname, '../..');
const section = (() => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## From your own app');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
})();
const examples = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1] as string);

let service: TestService;
const children: ChildProcess[] = [];
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await service?.stop();
});

test('the README shows an Apollo and a urql example with realtime-orders/client', () => {
  expect(examples).toHaveLength(2);
  expect(examples[0]).toContain("from '@apollo/client'");
  expect(examples[1]).toContain("from '@urql/core'");
  for (const example of examples)
    expect(example).toContain("import { createClient } from 'realtime-orders/client'");
});

test.each([0, 1])('README example %i runs as pasted in Node and prints each change', async (index) => {
  const dir = join(root, 'test-artifacts', 'readme-examples');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `example-${index}.mjs`);
  const host = new URL(service.url).host;
  writeFileSync(file, (examples[index] as string).replaceAll('127.0.0.1:4000', host));
  const child = spawn(process.execPath, [file], { cwd: root, stdio: 'pipe' });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  // Subscribed once the server counts one more subscriber; then a write from elsewhere.
  const before = service.feed.status().subscribers;
  await waitFor(() => child.exitCode !== null || service.feed.status().subscribers > before, {
    timeoutMs: 30_000,
    message: 'the example to subscribe',
  });
  expect(child.exitCode, output).toBeNull();
  const name = `Readme ${index}`;
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'Manual')`, [
    name,
  ]);
  await waitFor(() => output.includes(name), { timeoutMs: 15_000, message: `the change in: ${output}` });
  expect(output).toMatch(/operation: 'INSERT'/);
  child.kill('SIGKILL');
  await waitFor(() => service.feed.status().subscribers === before, { message: 'the example gone' });
});
