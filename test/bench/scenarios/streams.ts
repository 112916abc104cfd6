/**
 * The server at rest, and the stream scenarios (light, latency, fanout): single-row INSERTs at a
 * steady rate fanned out to many subscribers, the floor and the service alternating in each run.
 */
import type { Scenario } from '../dialect.ts';
import { rssMiB, summary } from '../measure.ts';
import type { Row } from '../results.ts';
import { type StreamResult, stream } from '../streams.ts';
import { tickSummary, tickTimes } from '../tick-times.ts';

export const atRest: Scenario = async ({ floor, service }) => [
  {
    measure: 'server RSS at rest, before any subscriber (MiB)',
    floor: rssMiB(floor.pid).toFixed(0),
    service: rssMiB(service.pid).toFixed(0),
    target: '≤ 120 MiB',
    met: rssMiB(service.pid) <= 120,
  },
];

export const streams: Scenario = async ({ dialect, floor, service, quick, wanted, repeat }) => {
  const rows: Row[] = [];
  const servers = { floor, 'graphql-ws': service, sse: service };
  for (const [name, subscribers, rate, targets] of dialect.streams) {
    if (!wanted(name)) continue;
    const seconds = quick ? 3 : 10;
    for (const target of targets) {
      const label = `${subscribers} subscribers × ${rate} changes/s, ${target}`;
      console.log(`${dialect.say}${label} (${seconds} s per run)`);
      const runs = await repeat(label, async (run) => {
        const options = { subscribers, rate, seconds, run: `${name}${subscribers}-${target}-${run}` };
        const floorResult = await stream('floor', floor, dialect, { ...options, run: `f-${options.run}` });
        const ticksBefore = await tickTimes(servers[target].http);
        const serviceResult = await stream(target, servers[target], dialect, options);
        const ticksAfter = await tickTimes(servers[target].http);
        return {
          floor: floorResult,
          service: serviceResult,
          ticks: ticksBefore && ticksAfter ? tickSummary(ticksBefore, ticksAfter) : undefined,
        };
      });
      const f = (k: keyof StreamResult, d = 1) =>
        summary(
          runs.map((r) => r.floor[k]),
          d,
        );
      const s = (k: keyof StreamResult, d = 1) =>
        summary(
          runs.map((r) => r.service[k]),
          d,
        );
      const missing = runs.reduce((n, r) => n + r.service.missing, 0);
      if (name === 'latency' || name === 'light') {
        for (const [p, slack] of [
          ['p50', 3],
          ['p99', 10],
        ] as const)
          rows.push({
            measure: `${label}: latency ${p} (ms)`,
            floor: f(p).text,
            service: s(p).text,
            target: `≤ floor + ${slack} ms`,
            met: s(p).median <= f(p).median + slack && missing === 0,
          });
      }
      rows.push({
        measure: `${label}: deliveries/s`,
        floor: f('deliveriesPerSecond', 0).text,
        service: s('deliveriesPerSecond', 0).text,
        target: name === 'fanout' ? '≥ 0.8 × floor' : undefined,
        met:
          name === 'fanout'
            ? s('deliveriesPerSecond').median >= 0.8 * f('deliveriesPerSecond').median
            : undefined,
      });
      rows.push({
        measure: `${label}: server CPU per delivery (µs)`,
        floor: f('cpuMicrosPerDelivery').text,
        service: s('cpuMicrosPerDelivery').text,
        target: name === 'fanout' ? '≤ 15 µs' : undefined,
        met: name === 'fanout' ? s('cpuMicrosPerDelivery').median <= 15 : undefined,
      });
      const ticks = runs.flatMap((r) => (r.ticks ? [r.ticks] : []));
      if ((name === 'latency' || name === 'light') && ticks.length === runs.length) {
        const t = (k: 'mean' | 'p50' | 'p99') =>
          summary(
            ticks.map((x) => x[k]),
            1,
          ).text;
        rows.push({
          measure: `${label}: of the service's latency, the leader's poll that made each tick, its commit flushed to disk: mean / p50 / p99 (ms; p50 and p99 as histogram bucket bounds)`,
          floor: '',
          service: `${t('mean')} / ${t('p50')} / ${t('p99')}`,
        });
      }
      if (name === 'light') {
        rows.push({
          measure: `${label}: database queries per change, besides the write (1 s health checks included)`,
          floor: f('queriesPerChange', 2).text,
          service: s('queriesPerChange', 2).text,
        });
      }
      if (missing > 0)
        rows.push({
          measure: `${label}: deliveries missing (timed out)`,
          floor: '',
          service: String(missing),
        });
    }
  }
  return rows;
};
