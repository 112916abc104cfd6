/** 5,000 idle subscribers: the memory each costs, each side on a freshly started process. */
import type { Scenario } from '../dialect.ts';
import { idleSubscribers } from '../idle.ts';
import { summary } from '../measure.ts';
import { type Served, startFloor, startService } from '../processes.ts';
import type { Target } from '../streams.ts';

export const idle: Scenario = async ({ dialect, wanted, repeat }) => {
  if (!wanted('idle')) return [];
  const count = 5_000;
  console.log(`${dialect.say}${count} idle subscribers, each side on a freshly started process`);
  const runs = await repeat('idle', async (run) => {
    const side = async (target: Target, start: () => Promise<Served>) => {
      const served = await start();
      try {
        return await idleSubscribers(target, served, dialect, count, `${target}-${run}`);
      } finally {
        await served.stop();
      }
    };
    return {
      floor: await side('floor', () => startFloor(dialect.url, dialect.floorScript)),
      service: await side('graphql-ws', () => startService(dialect.url)),
    };
  });
  const kb = summary(
    runs.map((r) => r.service.kbPerSubscriber),
    1,
  );
  const floorKb = summary(
    runs.map((r) => r.floor.kbPerSubscriber),
    1,
  );
  const mib = (pick: (r: (typeof runs)[0]) => number) => summary(runs.map(pick), 0).text;
  return [
    {
      measure: `${count.toLocaleString('en-US')} idle subscribers (graphql-ws; floor: raw WebSocket): KB of RSS each`,
      floor: floorKb.text,
      service: kb.text,
      target: '≤ 1.5 × floor',
      met: kb.median <= 1.5 * floorKb.median,
    },
    {
      measure: `same, server RSS with ${count.toLocaleString('en-US')} idle subscribers (MiB); at rest before them`,
      floor: `${mib((r) => r.floor.rssAfterMiB)}; ${mib((r) => r.floor.rssBeforeMiB)}`,
      service: `${mib((r) => r.service.rssAfterMiB)}; ${mib((r) => r.service.rssBeforeMiB)}`,
    },
  ];
};
