import type { SummaryRow } from '../../types.js';

/**
 * Recognises the lines of strace's `-c`/`-C` summary table so they are reported as what
 * they are (tracer output), never misread as syscalls or flagged as garbage:
 *
 * ```
 * % time     seconds  usecs/call     calls    errors syscall
 * ------ ----------- ----------- --------- --------- ----------------
 *  59.51    0.043047       10761         4         2 wait4
 * 100.00    0.072336          13      5231        22 total
 * ```
 *
 * `-U` picks and orders the columns (`syscall calls errors % time seconds shortest
 * longest`), so headers are matched by their words, rows by their shape.
 */

/** Every word strace 6 prints in a summary header (`% time` splits into `%` and `time`). */
const HEADER_WORDS = new Set([
  '%',
  'time',
  'seconds',
  'usecs/call',
  'calls',
  'errors',
  'syscall',
  'shortest',
  'longest',
]);

/** `% time     seconds  usecs/call …` or, with `-U`, `syscall   calls …`. */
export function isSummaryHeader(line: string): boolean {
  const words = line.trim().split(/ +/);
  if (words.length < 2) return false;
  let key = false;
  for (const w of words) {
    if (!HEADER_WORDS.has(w)) return false;
    if (w === 'calls' || w === 'syscall' || w === 'seconds') key = true;
  }
  return key;
}

/** `------ ----------- …`: dashes in groups separated by single spaces. */
export function isSummaryRule(line: string): boolean {
  if (!line.startsWith('---')) return false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 45 && c !== 32) return false;
  }
  return line.includes(' -');
}

/**
 * A table row: numeric columns (some may be blank) and exactly one name (a syscall or
 * `total`). Returns the name, or undefined when the line is not a row.
 */
export function summaryRowName(line: string): string | undefined {
  const words = line.trim().split(/ +/);
  if (words.length < 2) return undefined;
  let name: string | undefined;
  for (const w of words) {
    const c = w.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 46) {
      for (let i = 1; i < w.length; i++) {
        const d = w.charCodeAt(i);
        if (!((d >= 48 && d <= 57) || d === 46)) return undefined;
      }
    } else {
      if (name !== undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(w)) return undefined;
      name = w;
    }
  }
  return name;
}

/**
 * A row of a table whose only column besides the name is blank (`-U name,errors` for a
 * call that never failed): one syscall name alone. Only asked inside a table, where
 * nothing else is a lone word.
 */
export function loneSummaryRowName(line: string): string | undefined {
  const name = line.trim();
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : undefined;
}

/** Lines strace prints around summary tables of several personalities. */
export function isSummaryBanner(line: string): boolean {
  return line.startsWith('System call usage summary for ');
}

/** The columns a header names, in order (`% time` is one column). */
export function summaryColumns(header: string): string[] {
  return header.trim().replace('% time', '%time').split(/ +/);
}

/**
 * Reads the calls and errors columns of the table rows in `lines`, using the header to
 * find the columns (they move with `-U`). The `total` row is included under `total`.
 */
export function readSummaryTable(lines: readonly string[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  let columns: string[] | undefined;
  for (const line of lines) {
    if (isSummaryHeader(line)) {
      columns = summaryColumns(line);
      continue;
    }
    if (columns === undefined || isSummaryRule(line)) continue;
    const name = summaryRowName(line);
    if (name === undefined) continue;
    rows.push(readSummaryRow(line, columns, name));
  }
  return rows;
}

/**
 * The calls and errors of one row (`name` from {@link summaryRowName}) under a header's
 * `columns`. The errors column is blank when a call never failed: one value short, every
 * other value is still in its column's order.
 */
export function readSummaryRow(line: string, columns: readonly string[], name: string): SummaryRow {
  const numbers = line
    .trim()
    .split(/ +/)
    .filter((w) => w !== name);
  const numeric = columns.filter((c) => c !== 'syscall');
  const row: SummaryRow = { syscall: name, calls: 0, errors: 0 };
  // `-U` without the calls column: how many is not said (NaN, never a made-up 0).
  if (!numeric.includes('calls')) row.calls = Number.NaN;
  if (numbers.length === numeric.length) {
    if (!Number.isNaN(row.calls)) row.calls = Number(numbers[numeric.indexOf('calls')] ?? 0);
    row.errors = Number(numbers[numeric.indexOf('errors')] ?? 0);
    return row;
  }
  // One column is blank (`errors` when there were none): every other value is present.
  const withoutErrors = numeric.filter((c) => c !== 'errors');
  if (!Number.isNaN(row.calls)) row.calls = Number(numbers[withoutErrors.indexOf('calls')] ?? 0);
  return row;
}
