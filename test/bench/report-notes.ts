/**
 * A report (RESULTS.md, RESULTS-mariadb.md) is a generated part, the run's table, followed by the
 * hand-written notes of its notes file. The notes are often written after the run that they explain;
 * `npm run bench:notes` then puts them in place of the report's old ones and keeps the run's table.
 * Rebuilding the report by hand from pieces kept the previous run's table under new notes twice
 * (test/bench-reports.test.ts now checks that a report's notes name the commit of its table).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const REPORTS = [
  { file: 'test/bench/RESULTS.md', notes: 'test/bench/notes.md' },
  { file: 'test/bench/RESULTS-mariadb.md', notes: 'test/bench/notes-mariadb.md' },
];

/** The report's two parts: everything before its notes' heading (the notes file's first line), and the notes. */
export function splitReport(report: string, notes: string): { generated: string; notes: string } {
  const heading = notes.slice(0, notes.indexOf('\n'));
  const at = report.indexOf(`\n${heading}\n`);
  if (!heading.startsWith('## ') || at < 0) {
    throw new Error(`the report has no section "${heading}": run the bench to write it`);
  }
  return { generated: report.slice(0, at + 1), notes: report.slice(at + 1) };
}

/** The commit the generated part was measured at (its "- Commit: " line). */
export function reportCommit(generated: string): string | undefined {
  return /^- Commit: ([0-9a-f]{7,40}),/m.exec(generated)?.[1];
}

function spliceNotes(): void {
  for (const { file, notes } of REPORTS) {
    const text = readFileSync(notes, 'utf8');
    const { generated } = splitReport(readFileSync(file, 'utf8'), text);
    writeFileSync(file, generated + text);
    console.log(`${file}: notes from ${notes}, the run of ${reportCommit(generated)} kept`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) spliceNotes();
