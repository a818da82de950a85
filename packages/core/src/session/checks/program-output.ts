/**
 * The traced program's own output inside its trace. `strace CMD 2>trace`, or a tool that
 * captures strace's stderr together with the command's, puts every byte the program writes
 * to that stream into the trace, right after strace's text for the write and before its
 * `) = N`. A hostile program can write text that closes strace's line and adds lines of its
 * own: a `chdir` that never happened (its real relative opens then resolve elsewhere), a
 * `getpid` that names another pid, an `execve` into a program the rules trust. Read line by
 * line, such a trace cannot be told from a true one, so the first write whose data shows up
 * in the trace raises `trace_lost` once, with the fix: write the trace with `-o FILE`.
 *
 * Seen as: a write-family call whose data (as strace shows it) reappears verbatim right after
 * the call's last argument, where only strace's own `)` belongs. Ordinary output does this
 * too (`write(2, "oops\n", 5oops` + `) = 5`); crafted output makes the line look whole.
 * Not seen: output through calls whose data the trace does not show (sendfile, splice,
 * io_uring), which is why only a trace strace alone writes is to be trusted.
 */
import { argAt, readCString, readTruncated } from '../../context/strace-args.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ParsedRecord, Severity, SyscallEvent } from '../../types.js';
import type { SessionCheck } from '../session.js';

/**
 * Calls whose second argument holds the data, by the index of their last argument: a number
 * (count, iovcnt, offset, addrlen) strace prints at entry.
 */
const WRITE_CALLS = new Map([
  ['write', 2],
  ['writev', 2],
  ['pwrite64', 3],
  ['pwritev', 3],
  ['sendto', 5],
]);
/** Data shown cut by `-s` must show this much to be compared (a 1-character `")"` is strace's own too). */
const MIN_CUT_ECHO = 8;
/** Most data characters read per write (the echo is decided by its first line). */
const MAX_DATA = 4096;

/**
 * The check, raising at `severity` (a session uses `severity.trace_lost`). Records must come
 * in trace order; `learn` and `seccomp` run it alone to refuse such an input.
 */
export function programOutputCheck(severity: Severity): SessionCheck {
  let raised = false;
  /** A write whose first data line closed its own trace line: the line after it decides. */
  let pending: { event: SyscallEvent; echo: Echo } | undefined;
  const raise = (e: SyscallEvent, echo: Echo, out: Alert[]): void => {
    raised = true;
    pending = undefined;
    out.push(outputAlert(e, echo.data, severity));
  };
  return {
    beginInput(): void {
      pending = undefined;
    },
    record(r: ParsedRecord, out: Alert[]): void {
      if (raised) return;
      // (A call completed here from an earlier line, unfinished … resumed, says nothing of the next line.)
      if (
        pending !== undefined &&
        'line' in r &&
        r.line !== undefined &&
        r.line > (pending.event.line as number)
      ) {
        const { event, echo } = pending;
        pending = undefined;
        // The next line of the trace is the data's second line: the program's, not strace's.
        // A line the reader does not take as a record there is no line strace writes either.
        if (r.line > (event.line as number) + 1 || sameLine(r.raw, echo.next, echo.nextWhole)) {
          raise(event, echo, out);
          return;
        }
      }
      if (r.kind !== 'syscall' || r.source !== 'strace' || !WRITE_CALLS.has(r.syscall)) return;
      const echo = echoedData(r);
      if (echo === undefined) return;
      if (echo.next === undefined || r.line === undefined) raise(r, echo, out);
      else pending = { event: r, echo };
    },
  };
}

/**
 * What a write showed of its data in the trace: `data` as strace printed it (maybe cut);
 * when its first line ended the trace's line exactly, `next` is the line that must follow
 * for the rest to be in the trace too (`nextWhole`: all of it, else its start).
 */
export interface Echo {
  data: string;
  next?: string | undefined;
  nextWhole?: boolean | undefined;
}

function sameLine(raw: string, next: string | undefined, whole: boolean | undefined): boolean {
  if (next === undefined) return true;
  const line = raw.trimEnd();
  return whole ? line === next.trimEnd() : line.startsWith(next);
}

/** How the data of `e` reappears after its last argument, or undefined when it does not. */
export function echoedData(e: SyscallEvent): Echo | undefined {
  const args = e.args;
  if (args === undefined) return undefined;
  // The args as a slice of the raw line (not so for a call merged from unfinished/resumed halves).
  const open = e.raw.indexOf(`${e.syscall}(`);
  if (open === -1) return undefined;
  const argsAt = open + e.syscall.length + 1;
  if (!e.raw.startsWith(args, argsAt)) return undefined;
  const second = argAt(args, 1);
  if (second === -1) return undefined;
  const quote = args.indexOf('"', second);
  if (quote === -1) return undefined;
  // Right after the last argument's number: strace's `)` in a true trace, the data in an echo.
  const last = argAt(args, WRITE_CALLS.get(e.syscall) as number);
  if (last === -1 || last < quote) return undefined;
  let digits = last;
  while (digits < args.length && isDigit(args.charCodeAt(digits))) digits++;
  if (digits === last) return undefined;
  // Cheap first: after a `)` there, only data that itself starts with `)` can be an echo.
  if (e.raw.charCodeAt(argsAt + digits) === CLOSE && args.charCodeAt(quote + 1) !== CLOSE) return undefined;
  const data = readCString(args, quote, MAX_DATA);
  const cut = readTruncated;
  if (data === undefined || data.length === 0) return undefined;
  const after = e.raw.slice(argsAt + digits);
  const newline = data.indexOf('\n');
  if (newline !== -1) {
    const first = data.slice(0, newline);
    // A line break inside one line of the trace: the reader joined the data's lines to it.
    if (after.startsWith(`${first}\n`)) return { data };
    if (after !== first) return undefined;
    // The data's first line ended the trace's line, as strace's own `) = N` would: only a
    // program that writes strace's syntax does that, and the next line tells whether the rest
    // of its data is in the trace as well.
    const rest = data.slice(newline + 1);
    const restBreak = rest.indexOf('\n');
    if (restBreak !== -1) return { data, next: rest.slice(0, restBreak), nextWhole: true };
    // Its last line: strace's `) = N` follows it (unless -s cut what is shown of it).
    return { data, next: rest, nextWhole: false };
  }
  if (cut) return data.length >= MIN_CUT_ECHO && after.startsWith(data) ? { data } : undefined;
  // All of the data, then strace's own `)`.
  return after.startsWith(data) && after.charCodeAt(data.length) === CLOSE ? { data } : undefined;
}

const CLOSE = 41; // ')'

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function outputAlert(e: SyscallEvent, echoed: string, severity: Severity): Alert {
  const alert: Alert = {
    type: 'trace_lost',
    severity,
    message: `the traced program wrote into its own trace (strace shares its output stream): any line of it may be forged; write the trace with strace -o FILE`,
    count: 1,
    syscall: e.syscall,
    sample: cutSample(e.raw),
    details: {
      check: 'trace_integrity',
      reason: 'program_output_in_trace',
      // What it wrote; each line break in it starts a line of the trace that is the program's.
      data: cutSample(echoed),
      lineBreaks: echoed.split('\n').length - 1,
    },
  };
  if (e.line !== undefined) alert.line = e.line;
  if (e.pid !== undefined) alert.pid = e.pid;
  if (e.process !== undefined) alert.process = e.process;
  return alert;
}
