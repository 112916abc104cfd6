import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The suite's slowest files, slowest first, measured in CI's passes (seconds each, most of it
// waiting on timers and outages, not CPU). A fresh clone has no vitest cache of durations, and
// vitest then runs larger files first: a small file that waits out a 30 s outage started last
// and left the other worker idle until it ended.
const SLOW_FILES = [
  'test/faults/server-stopped.test.ts', // 40
  'test/faults/network-drop.test.ts', // 31–36
  'test/start.test.ts', // 12–28
  'test/browser/dashboard.test.ts', // 20–28
  'test/changes/subscribe-start.test.ts', // 24
  'test/shutdown.test.ts', // 20
  'test/startup.test.ts', // 17–18
  'test/changes/bulk.test.ts', // 18–20
  'test/start-compiled.test.ts', // 16–17
  'test/faults/max-connections.test.ts', // 16
  'test/faults/table-locked.test.ts', // 16
  'test/clients/resume.test.ts', // 12–16
  'test/faults/service-killed.test.ts', // 12–15
];

const rank = (spec: TestSpecification): number => {
  const index = SLOW_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
  return index === -1 ? SLOW_FILES.length : index;
};

/** Vitest's order (known durations, else size), with the slowest files moved to the front. */
export class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, order) => ({ spec, order, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ spec }) => spec);
  }
}
