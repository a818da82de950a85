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
 * The data of writev and sendmsg is their buffers joined (an empty first buffer hides
 * nothing). Output through calls whose data the trace does not show (sendfile,
 * copy_file_range, splice, tee into stderr) cannot be compared: it raises `trace_lost` too
 * (`program_output_unseen`), since the trace cannot say where those bytes went. (An io_uring
 * is reported when it is set up, by the integrity check.) Copies of stderr count as stderr
 * (`dup`, inherited; see `stderr-copies.ts`). Not seen: such a call into stdout when the
 * trace is on it too (`2>&1`), where `cat` copying a file would look the same; only a trace
 * strace alone writes (`-o FILE`) is to be trusted.
 */
import {
  argAt,
  findOutsideStrings,
  readCString,
  readEnd,
  readFd,
  readTruncated,
} from '../../context/strace-args.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ParsedRecord, Severity, SyscallEvent } from '../../types.js';
import type { SessionCheck } from '../session.js';
import { FD_CALLS_FOLLOWED, StderrCopies } from './stderr-copies.js';

/** Where a write-family call's data is in its second argument, as strace shows it. */
type DataShape = 'string' | 'iov' | 'msghdr';
/** Calls whose second argument holds the data that the call wrote. */
const WRITE_CALLS = new Map<string, DataShape>([
  ['write', 'string'],
  ['pwrite64', 'string'],
  ['sendto', 'string'],
  ['writev', 'iov'],
  ['pwritev', 'iov'],
  ['pwritev2', 'iov'],
  ['vmsplice', 'iov'],
  ['sendmsg', 'msghdr'],
]);
/**
 * Calls that move bytes into an fd without the trace showing them, by the index of that fd:
 * to stderr (where strace writes unless told `-o FILE`), their bytes may be lines of the
 * trace that no one can tell from strace's own.
 */
const UNSEEN_OUTPUT_CALLS = new Map([
  ['sendfile', 0],
  ['sendfile64', 0],
  ['copy_file_range', 2],
  ['splice', 2],
  ['tee', 1],
  // Its data is shown, but per message inside msgvec; a burst into a shared stream is rare enough to call unseen.
  ['sendmmsg', 0],
]);
/** What a call is to this check: a write whose data is shown, output that is not, or a change to the fds. */
const ROLES = new Map<string, 'write' | 'unseen' | 'fds'>([
  ...[...WRITE_CALLS.keys()].map((name) => [name, 'write'] as const),
  ...[...UNSEEN_OUTPUT_CALLS.keys()].map((name) => [name, 'unseen'] as const),
  ...[...FD_CALLS_FOLLOWED].map((name) => [name, 'fds'] as const),
]);
/** Data shown cut by `-s` must show this much to be compared (a 1-character `")"` is strace's own too). */
const MIN_CUT_ECHO = 8;
/** Most data characters read per write (the echo is decided by its first line). */
const MAX_DATA = 4096;

export interface ProgramOutputOptions {
  /**
   * Raise on output into stderr that the trace cannot show (sendfile and the like). Default
   * true. Off for `learn` (it refuses what it raises, and a trace written with `-o FILE`
   * cannot be rid of such a call) and for a session told `ownStream`.
   */
  unseen?: boolean | undefined;
}

/**
 * The check, raising at `severity` (a session uses `severity.trace_lost`). Records must come
 * in trace order; `learn` and `seccomp` run it alone to refuse such an input.
 */
export function programOutputCheck(severity: Severity, options: ProgramOutputOptions = {}): SessionCheck {
  const watchUnseen = options.unseen ?? true;
  let stderr = new StderrCopies();
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
      stderr = new StderrCopies();
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
      if (r.kind !== 'syscall' || r.source !== 'strace') return;
      // One look-up for every call; most have no part here.
      const role = ROLES.get(r.syscall);
      if (role === undefined) return;
      if (role === 'fds') {
        if (watchUnseen) stderr.note(r);
        return;
      }
      if (role === 'unseen') {
        const bytes = watchUnseen ? unseenOutput(r, stderr) : undefined;
        if (bytes !== undefined) {
          raised = true;
          pending = undefined;
          out.push(unseenAlert(r, bytes, severity));
        }
        return;
      }
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
  // Right after the last argument (a count, an offset, flags): strace's `)` in a true trace, the data in an echo.
  const last = lastArgument(args, second);
  if (last === -1) return undefined;
  let token = last;
  while (token < args.length && isTokenChar(args.charCodeAt(token))) token++;
  if (token === last) return undefined;
  // Cheap first: after a `)` there, only data that itself starts with `)` (or with digits
  // that ran into the count) can be an echo.
  const shape = WRITE_CALLS.get(e.syscall) as DataShape;
  if (shape === 'string') {
    const quote = args.indexOf('"', second);
    if (quote === -1 || quote > last) return undefined;
    const lead = args.charCodeAt(quote + 1);
    if (e.raw.charCodeAt(argsAt + token) === CLOSE && lead !== CLOSE && !isTokenChar(lead)) return undefined;
  }
  const shown = shownData(args, second, last, shape);
  if (shown === undefined || shown.data.length === 0) return undefined;
  const { data, cut } = shown;
  const after = e.raw.slice(argsAt + token);
  const newline = data.indexOf('\n');
  if (newline !== -1) {
    const first = data.slice(0, newline);
    // A line break inside one line of the trace: the reader joined the data's lines to it.
    if (after.startsWith(`${first}\n`)) return { data };
    // The data's first line ended the trace's line, as strace's own `) = N` would: only a
    // program that writes strace's syntax does that, and the next line tells whether the rest
    // of its data is in the trace as well. Data that starts with digits runs into the count
    // before it (`, 327) = 32` is `, 32` and `7) = 32`): the line may end there too.
    if (!endsLineAt(e.raw, argsAt + last + 1, argsAt + token, first)) return undefined;
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

/** Whether the line `raw` ends with `first` starting at one of [from, to]. */
function endsLineAt(raw: string, from: number, to: number, first: string): boolean {
  const at = raw.length - first.length;
  return at >= from && at <= to && raw.endsWith(first);
}

/** Start of the last top-level argument of `args` (searching on from `from`), or -1. */
function lastArgument(args: string, from: number): number {
  let last = from;
  for (;;) {
    const next = argAt(args, 1, last, 0);
    if (next === -1) return last;
    last = next;
  }
}

/**
 * The data strace shows in the argument at `at` (before `end`, the last argument): one
 * string, or the iov_base strings of an iovec array (a sendmsg's msg_iov) joined, up to the
 * first one cut by `-s`. `cut`: more was written than is shown.
 */
function shownData(
  args: string,
  at: number,
  end: number,
  shape: DataShape,
): { data: string; cut: boolean } | undefined {
  if (shape === 'string') {
    const data = readCString(args, at, MAX_DATA);
    return data === undefined ? undefined : { data, cut: readTruncated };
  }
  let from = at;
  if (shape === 'msghdr') {
    from = findOutsideStrings(args, 'msg_iov=[', at, end);
    if (from === -1) return undefined;
  }
  let data = '';
  for (;;) {
    const base = findOutsideStrings(args, 'iov_base=', from, end);
    if (base === -1) break;
    const part = readCString(args, base + 9, MAX_DATA - data.length);
    if (part === undefined) return data === '' ? undefined : { data, cut: true };
    data += part;
    if (readTruncated || data.length >= MAX_DATA) return { data, cut: true };
    from = readEnd;
  }
  // strace shows so many iovecs and elides the rest (`...]`).
  return { data, cut: args.lastIndexOf('...]', end) > at };
}

const CLOSE = 41; // ')'

/** A character of a number, hex included, or of flags (`MSG_NOSIGNAL|MSG_MORE`, `RWF_APPEND`). */
function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || c === 124 || c === 120;
}

function outputAlert(e: SyscallEvent, echoed: string, severity: Severity): Alert {
  return alertOn(
    e,
    severity,
    'the traced program wrote into its own trace (strace shares its output stream): any line of it may be forged; write the trace with strace -o FILE',
    // What it wrote; each line break in it starts a line of the trace that is the program's.
    { reason: 'program_output_in_trace', data: cutSample(echoed), lineBreaks: echoed.split('\n').length - 1 },
  );
}

/**
 * Bytes a sendfile-like call moved into stderr or a copy of it (its ret), or undefined when
 * it did not (an error, nothing moved, another fd, or one `-y` shows is /dev/null).
 */
function unseenOutput(e: SyscallEvent, stderr: StderrCopies): number | undefined {
  const args = e.args;
  if (args === undefined || e.ret === undefined) return undefined;
  const bytes = Number(e.ret);
  if (!(bytes > 0)) return undefined;
  const at = argAt(args, UNSEEN_OUTPUT_CALLS.get(e.syscall) as number);
  const fd = at === -1 ? undefined : readFd(args, at);
  if (fd === undefined || !stderr.isStderr(e, fd)) return undefined;
  if (args.startsWith(`${fd}</dev/null>`, at)) return undefined;
  return bytes;
}

function unseenAlert(e: SyscallEvent, bytes: number, severity: Severity): Alert {
  return alertOn(
    e,
    severity,
    `${e.syscall} moved ${bytes} bytes into the program's stderr unseen: if this trace is on that stream (strace without -o FILE), later lines may be forged; ` +
      'with strace -o FILE they cannot be (say so with --own-stream / ownStream)',
    { reason: 'program_output_unseen', bytes },
  );
}

function alertOn(
  e: SyscallEvent,
  severity: Severity,
  message: string,
  details: Record<string, unknown>,
): Alert {
  const alert: Alert = {
    type: 'trace_lost',
    severity,
    message,
    count: 1,
    syscall: e.syscall,
    sample: cutSample(e.raw),
    details: { check: 'trace_integrity', ...details },
  };
  if (e.line !== undefined) alert.line = e.line;
  if (e.pid !== undefined) alert.pid = e.pid;
  if (e.process !== undefined) alert.process = e.process;
  return alert;
}
