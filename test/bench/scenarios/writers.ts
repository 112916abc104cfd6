/**
 * 8 writers at full speed: their throughput with capture against a bare table (writers), and how
 * long after they stop one subscriber has every change (pace).
 */
import type { Scenario } from '../dialect.ts';
import { sleep, summary } from '../measure.ts';
import type { Row } from '../results.ts';
import { graphqlWsSubscriber } from '../subscribers.ts';

export const writers: Scenario = async ({ dialect, quick, wanted, repeat }) => {
  if (!wanted('writers')) return [];
  const seconds = quick ? 5 : 15;
  const captured = await dialect.writers('orders');
  const bare = await dialect.writers('bare_orders');
  console.log(`${dialect.say}8 writers, 1-row UPDATEs, ${seconds} s each (${dialect.writersName})`);
  const runs = await repeat('writers', async () => {
    const bareTps = (await bare(seconds)).tps;
    const capturedTps = (await captured(seconds)).tps;
    return { bare: bareTps, captured: capturedTps, ratio: capturedTps / bareTps };
  });
  const tps = (pick: (r: (typeof runs)[0]) => number, digits = 0) => summary(runs.map(pick), digits);
  const ratio = tps((r) => r.ratio, 2);
  return [
    {
      measure: `8 writers, 1-row UPDATE transactions: TPS with capture (service column) and bare table (floor column)`,
      floor: tps((r) => r.bare).text,
      service: tps((r) => r.captured).text,
    },
    {
      measure: 'same, TPS with capture ÷ bare table',
      floor: '1',
      service: ratio.text,
      target: '≥ 0.75',
      met: ratio.median >= 0.75,
    },
  ];
};

export const pace: Scenario = async ({ dialect, service, quick, wanted, repeat }) => {
  if (!wanted('pace')) return [];
  const seconds = quick ? 10 : 30;
  console.log(`${dialect.say}1 subscriber, 8 writers at full speed for ${seconds} s`);
  const write = await dialect.writers('orders');
  const runs = await repeat('pace', async () => {
    let received = 0;
    let last = 0;
    const before = await dialect.changeLogEnd?.();
    const subscriber = await graphqlWsSubscriber(
      service.ws,
      'subscription { orderChanged(where: { operations: [UPDATE] }) { cursor order { id version } } }',
      () => {
        received++;
        last = performance.now();
      },
    );
    await sleep(500);
    const writers = await write(seconds);
    const stopped = performance.now();
    // Without a change log to read, every UPDATE matches a row (the ids were read): one change each.
    const expected =
      before === undefined ? writers.transactions : ((await dialect.changeLogEnd?.()) ?? 0) - before;
    const deadline = stopped + 120_000;
    while (received < expected && performance.now() < deadline) await sleep(5);
    subscriber.close();
    return { tps: writers.tps, lagMs: Math.max(0, last - stopped), missing: expected - received };
  });
  const lag = summary(
    runs.map((r) => r.lagMs),
    0,
  );
  const rows: Row[] = [
    {
      measure: `1 subscriber, 8 writers at full speed (${
        summary(
          runs.map((r) => r.tps),
          0,
        ).text
      } tx/s) for ${seconds} s: last change delivered after they stop (ms)`,
      floor: '',
      service: lag.text,
      target: '≤ 2,000 ms',
      met: lag.median <= 2000 && runs.every((r) => r.missing === 0),
    },
  ];
  const missing = runs.reduce((n, r) => n + r.missing, 0);
  if (missing > 0)
    rows.push({ measure: 'same, deliveries missing (timed out)', floor: '', service: String(missing) });
  return rows;
};
