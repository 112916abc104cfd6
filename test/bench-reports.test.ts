import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { REPORTS, reportCommit, splitReport } from './bench/report-notes.ts';

// A bench report is a run's generated table followed by the notes that explain it. Twice a report
// was put together by hand from pieces and kept the previous run's table under notes written about
// another run (the README then quoted figures the table did not hold). So: the report holds its
// notes file as it is now (npm run bench:notes), and the notes say which run is "the run above".
test.each(REPORTS)('$file holds $notes, which names the commit of its table', ({ file, notes }) => {
  const text = readFileSync(notes, 'utf8');
  const report = splitReport(readFileSync(file, 'utf8'), text);
  expect(report.notes, `${file}: run npm run bench:notes`).toBe(text);
  const commit = reportCommit(report.generated);
  expect(commit).toBeDefined();
  expect(text, `${notes} should say "The run above (${commit}, …"`).toContain(`The run above (${commit}`);
});
