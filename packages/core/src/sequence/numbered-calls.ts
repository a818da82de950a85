/**
 * Plain call sequences as public data sets ship them, turned into syscall events so they
 * learn and score like any trace: `pid-call` is one `PID NUMBER` a line (the UNM sets),
 * `calls` is whitespace-separated numbers, one process per input (ADFA-LD). Numbers become
 * names through `nameOf` (a syscall table), else `nr<N>`; a line that is not numbers is an
 * issue, never a guess.
 */
import type { ParseIssue, SyscallEvent } from '../types.js';

export type NumberedCallLayout = 'pid-call' | 'calls';

export interface NumberedCallReader {
  /** Reads a chunk of text (split anywhere); returns the events and issues it completed. */
  push(text: string): Array<SyscallEvent | ParseIssue>;
  /** End of input: the last line, if it had no newline. */
  end(): Array<SyscallEvent | ParseIssue>;
}

/** Longest line held: a `calls` file is one long line, read in pieces of about this size. */
const MAX_PENDING = 1 << 16;

export function createNumberedCallReader(
  layout: NumberedCallLayout,
  nameOf: (nr: number) => string | undefined = () => undefined,
): NumberedCallReader {
  let pending = '';
  /** Lines completed so far; the line being read is the next one. */
  let completed = 0;
  const names = new Map<number, string>();
  const name = (nr: number): string => {
    let n = names.get(nr);
    if (n === undefined) {
      n = nameOf(nr) ?? `nr${nr}`;
      if (names.size < 65_536) names.set(nr, n);
    }
    return n;
  };
  const event = (nr: number, raw: string, pid: number | undefined, line: number): SyscallEvent => {
    const e: SyscallEvent = {
      kind: 'syscall',
      syscall: name(nr),
      denied: false,
      raw,
      source: 'strace',
      nr,
      line,
    };
    if (pid !== undefined) e.pid = pid;
    return e;
  };
  const issue = (raw: string, line: number): ParseIssue => ({
    kind: 'issue',
    code: 'unrecognised_syscall_line',
    message: layout === 'pid-call' ? 'expected `PID NUMBER`' : 'expected syscall numbers',
    raw: raw.slice(0, 240),
    line,
  });
  /** Reads `text` of line `line` (a whole line, or the first part of a very long one). */
  const readLine = (text: string, line: number, out: Array<SyscallEvent | ParseIssue>): void => {
    const fields = text.trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) return;
    if (!fields.every((f) => /^\d{1,9}$/.test(f))) {
      out.push(issue(text, line));
      return;
    }
    if (layout === 'pid-call') {
      if (fields.length !== 2) out.push(issue(text, line));
      else out.push(event(Number(fields[1]), text, Number(fields[0]), line));
    } else for (const f of fields) out.push(event(Number(f), f, undefined, line));
  };
  return {
    push(text) {
      const out: Array<SyscallEvent | ParseIssue> = [];
      let start = 0;
      const all = pending + text;
      for (let nl = all.indexOf('\n'); nl >= 0; nl = all.indexOf('\n', start)) {
        readLine(all.slice(start, nl), ++completed, out);
        start = nl + 1;
      }
      pending = all.slice(start);
      if (layout === 'calls' && pending.length > MAX_PENDING) {
        // One long line of numbers: read up to the last separator, keep the cut number.
        const cut = pending.lastIndexOf(' ');
        if (cut > 0) {
          const head = pending.slice(0, cut);
          pending = pending.slice(cut + 1);
          readLine(head, completed + 1, out);
        }
      } else if (pending.length > MAX_PENDING) {
        // A runaway line is read in pieces, each an issue: never held whole.
        readLine(pending.slice(0, MAX_PENDING), completed + 1, out);
        pending = '';
      }
      return out;
    },
    end() {
      const out: Array<SyscallEvent | ParseIssue> = [];
      if (pending.length > 0) readLine(pending, ++completed, out);
      pending = '';
      return out;
    },
  };
}
