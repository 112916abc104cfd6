import { expect, test } from 'vitest';
import { OneAtATime } from '../../src/changes/one-at-a-time.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('tasks run one after another in call order; a failure settles only its own call', async () => {
  const queue = new OneAtATime();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, ms: number, fail = false) =>
    queue.run(async () => {
      running++;
      expect(running, 'tasks overlapping').toBe(1);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([task('a', 30), task('b', 5, true), task('c', 1)]);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    'a',
    'b',
    'c',
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});
