/** Writes test/bench/RESULTS.md (or the MariaDB run's report): the machine, the commit, each figure next to the floor's. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Row {
  measure: string;
  floor: string;
  service: string;
  target?: string | undefined;
  met?: boolean | undefined;
}

export interface Report {
  rows: Row[];
  commit: string;
  quick: boolean;
  runs: number;
  minutes: number;
  loadBefore: string;
  loadAfter: string;
  /** The report's file and title, and the notes appended to it (RESULTS.md, notes.md on PostgreSQL). */
  file: string;
  notes: string;
  title: string;
  /** Lines on the run's setup (the writers), before its length; then lines on what it ran against. */
  setup: string[];
  about: string[];
}

export function writeResults(report: Report): string {
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const file = path.resolve(report.file);
  const notes = path.resolve(report.notes);
  const verdict = (r: Row) => (r.met === undefined ? '' : r.met ? 'met' : 'NOT MET');
  writeFileSync(
    file,
    [
      report.title,
      '',
      `Written by \`npm run bench\`${report.quick ? ' (`--quick`)' : ''}. Do not edit by hand.`,
      '',
      `- Machine: ${machine}`,
      `- Commit: ${report.commit}, ${new Date().toISOString()}`,
      `- Runs: each figure is the median of ${report.runs} runs, with the lowest and highest in brackets;`,
      '  floor and service alternate within each run.',
      `- Load average (1/5/15 min) before: ${report.loadBefore}; after: ${report.loadAfter}.` +
        ' The database, the server, the floor and the load driver share these cores; other processes' +
        ' may have loaded the machine too (see the notes below), so ratios to the floor are what count.',
      ...report.setup,
      `- Whole run: ${report.minutes.toFixed(1)} minutes.`,
      '',
      ...report.about,
      '',
      '| measure | floor | service | target | |',
      '|---|---|---|---|---|',
      ...report.rows.map(
        (r) => `| ${r.measure} | ${r.floor} | ${r.service} | ${r.target ?? ''} | ${verdict(r)} |`,
      ),
      '',
      existsSync(notes) ? readFileSync(notes, 'utf8') : '',
    ].join('\n'),
  );
  // The repository's formatter aligns Markdown tables; `npm run lint` checks this file too.
  try {
    execFileSync(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'format', '--write', file], {
      stdio: 'ignore',
    });
  } catch {
    console.warn('bench: could not format RESULTS.md with biome');
  }
  return file;
}
