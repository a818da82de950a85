import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createParser } from '../src/parse/index.js';
import { findArgsEnd, scanArgsEnd } from '../src/parse/strace/scan.js';
import type { ParsedRecord } from '../src/types.js';
import { corpusFiles, hasCorpus } from './helpers/corpus.js';

// Without ../shared the helper prints why (corpusSkipReason) and these tests skip.

/** Every trace of ../shared/corpus/strace (the -ff directories included), not the manifest. */
const files = corpusFiles('strace').filter(([rel]) => !rel.endsWith('.md'));

interface FileReport {
  file: string;
  lines: number;
  syscalls: number;
  other: number;
  flagged: number;
  issues: number;
}

function parseFile(path: string): { report: Omit<FileReport, 'file'>; records: ParsedRecord[] } {
  const parser = createParser({ source: 'strace' });
  // Bytes in small chunks, as a stream would deliver them.
  const bytes = readFileSync(path);
  const records: ParsedRecord[] = [];
  for (let i = 0; i < bytes.length; i += 4096) records.push(...parser.push(bytes.subarray(i, i + 4096)));
  records.push(...parser.end());
  let flagged = 0;
  for (const r of records) if (r.kind === 'syscall' && (r.unfinished || r.resumedOnly)) flagged++;
  const s = parser.stats;
  return {
    report: { lines: s.lines, syscalls: s.syscallEvents, other: s.otherRecords, flagged, issues: s.issues },
    records,
  };
}

describe.skipIf(!hasCorpus)('strace corpus: every file parses with no unrecognised line', () => {
  it('per-file report', { timeout: 120_000 }, () => {
    expect(files.length).toBeGreaterThan(50);
    const reports: FileReport[] = [];
    const problems: string[] = [];
    for (const [rel, abs] of files) {
      const { report, records } = parseFile(abs);
      reports.push({ file: rel, ...report });
      for (const r of records)
        if (r.kind === 'issue') problems.push(`${rel}:${r.line}: ${r.message}: ${r.raw}`);
    }
    const width = Math.max(...reports.map((r) => r.file.length));
    const head = `${'file'.padEnd(width)}  lines  syscalls  other  flagged  issues`;
    const rows = reports.map(
      (r) =>
        `${r.file.padEnd(width)}  ${String(r.lines).padStart(5)}  ${String(r.syscalls).padStart(8)}  ${String(r.other).padStart(5)}  ${String(r.flagged).padStart(7)}  ${String(r.issues).padStart(6)}`,
    );
    const total = reports.reduce((a, r) => a + r.issues, 0);
    console.log(
      [
        head,
        ...rows,
        `${files.length} files, ${reports.reduce((a, r) => a + r.lines, 0)} lines, ${total} issues`,
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    for (const r of reports) expect(r.issues, r.file).toBe(0);
  });

  it('summary-only files give no syscall events; every other file gives some', () => {
    for (const [rel, abs] of files) {
      const { report } = parseFile(abs);
      if (rel === 'summary-c.log' || rel === 'summary-c-w-S.log') expect(report.syscalls, rel).toBe(0);
      else expect(report.syscalls, rel).toBeGreaterThan(0);
    }
  });

  it('halves are all joined, except where the trace itself ends mid-call (detach)', () => {
    for (const [rel, abs] of files) {
      const { report } = parseFile(abs);
      expect(report.flagged, rel).toBe(rel === 'attach-detach-int.log' ? 1 : 0);
    }
  });

  it('the fields each flag prints are read on every event (MANIFEST.md flags)', () => {
    const withDuration =
      /^(cat-tt-T|curl-loopback-ttt-T|git-status-f-tt|threads-ff-tt-T|tt-ns)\.log$|^ff-python-subprocess\//;
    const withTime =
      /^(cat-tt-T|cat-ttt|cat-r|node-f-tt|git-status-f-tt|curl-loopback-ttt-T|threads-ff-tt-T|tt-ns|restart-syscall-attach)\.log$|^ff-/;
    const withPid =
      /^(Y-comm|seccomp-killed|threads-ff-tt-T|threads-unfinished|curl-loopback-yy|git-status-yy)\.log$/;
    let checked = 0;
    for (const [rel, abs] of files) {
      const events = parseFile(abs).records.filter((r) => r.kind === 'syscall');
      for (const e of events) {
        // A call that never returned (`exit_group(0) = ?`) has no duration.
        if (withDuration.test(rel) && e.ret !== '?')
          expect(e.durationUs, `${rel}: ${e.raw}`).toBeTypeOf('number');
        if (withTime.test(rel)) expect(e.time, `${rel}: ${e.raw}`).toBeTypeOf('number');
        if (withPid.test(rel)) expect(e.pid, `${rel}: ${e.raw}`).toBeTypeOf('number');
        if (rel === 'ls-n-i.log') expect(e.nr, e.raw).toBeTypeOf('number');
        if (e.errno !== undefined) expect(e.ret === '-1' || e.ret === '?', e.raw).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('the fast argument-end search agrees with the full scan on every corpus line', () => {
    let checked = 0;
    for (const [, abs] of files) {
      for (const line of readFileSync(abs, 'utf8').split('\n')) {
        const resumed = line.indexOf(' resumed>');
        const from = resumed >= 0 ? resumed + 9 : line.indexOf('(') + 1;
        if (from <= 0) continue;
        const fast = findArgsEnd(line, from);
        const full = scanArgsEnd(line, from);
        if (fast !== full) expect.fail(`fast ${fast} != full ${full}: ${line}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
