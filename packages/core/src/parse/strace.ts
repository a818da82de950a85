/**
 * strace text → typed records. Reads every form strace 6 prints:
 *
 * ```
 * [PID ][TIME ][[NR] ][[IP] ]NAME(ARGS) = RET[ ERRNO (msg)][ (comment)][ (INJECTED)][ <DUR>]
 * ```
 *
 * PID is `1234  `, `[pid 1234] ` or `-Y`'s `1234<comm> `; TIME is `-t`/`-tt`
 * (`HH:MM:SS[.frac]`), `-ttt` (`EPOCH.frac`) or `-r` (`  0.000123`), µs or ns. Besides
 * syscall lines: `<unfinished …>`/`<… NAME resumed>` halves (joined by pid into one event),
 * `--- SIGNAL {…} ---`, `+++ exited with N +++`, `strace: …` notices, `-c`/`-C` summary
 * tables, `-k` stack lines and `-e read=`/`write=` hex dumps. Lines the traced program
 * printed into the same stream are "not strace" (the dispatcher may hand them elsewhere),
 * except where they split a syscall line in two, which is rejoined.
 */
import { syscallNumber } from '../syscalls/index.js';
import type { ParsedRecord, SyscallEvent } from '../types.js';
import { type LineParser, type ResolvedParseOptions, resolveParseOptions } from './line-parser.js';
import {
  findArgsEnd,
  findArgsEndLoose,
  isDigit,
  isWordChar,
  type ReturnParts,
  readReturn,
} from './strace-scan.js';
import { isSummaryBanner, isSummaryHeader, isSummaryRule, summaryRowName } from './strace-summary.js';

/** Most `<unfinished …>` halves waiting for their `<… resumed>` at once (one per pid). */
export const MAX_PENDING_CALLS = 4096;
/** A syscall line split by the program's own output is rejoined over at most this many lines … */
const MAX_CONTINUATION_LINES = 8;
/** … and this many characters. */
const MAX_CONTINUATION_LENGTH = 64 * 1024;
/** Longest syscall name accepted (real ones are ≤ 24; `syscall_0x…` for unknown numbers). */
const MAX_NAME_LENGTH = 64;
/** pid_max is at most 2^22 (7 digits); a longer leading number is a `-ttt`-style epoch. */
const MAX_PID_DIGITS = 7;
/** `-Y`'s `<comm>`: 15 characters, each up to 4 with `-xx` (`\\x73`), plus the brackets. */
const MAX_COMM_LENGTH = 64;
const DAY_MS = 86_400_000;
const UNFINISHED = ' <unfinished ...>';
const DETACHED = ' <detached ...>';
const RAW_SAMPLE = 240;

/** What reading one line produced. */
type Read = 0 | 1 | 2;
const Read = {
  /** Not strace output (program output, another format). */
  NotStrace: 0,
  /** Consumed: records (or an issue) were appended. */
  Done: 1,
  /** A syscall line whose argument list does not close on this line. */
  Incomplete: 2,
} as const;

/** An `<unfinished …>` half waiting for its `<… resumed>` line. */
interface PendingCall {
  syscall: string;
  raw: string;
  line: number;
  pid: number | undefined;
  time: number | undefined;
  nr: number | undefined;
  args: string;
}

/** A syscall line cut by the traced program's output, waiting for the rest. */
interface HeldLine {
  text: string;
  raw: string;
  line: number;
  count: number;
}

export class StraceParser implements LineParser {
  readonly #denied: ReadonlySet<string>;
  /** Insertion-ordered, so the oldest half is the first key when the cap is reached. */
  readonly #pending = new Map<number, PendingCall>();
  #held: HeldLine | undefined;
  #inSummary = false;

  // Prefix of the line being read (fields, not a returned object: no allocation per line).
  #pid: number | undefined;
  #time: number | undefined;
  #nr: number | undefined;
  #hadPrefix = false;
  /** A prefix only strace prints (`[pid N]`, `N<comm>`, a timestamp, `[nr]`/`[ip]`), not just a number. */
  #strongPrefix = false;

  // Clock state: `-t`/`-tt` wrap past midnight, `-r` running sum.
  #dayOffset = 0;
  #lastTod = -1;
  #relativeNs = 0;

  readonly #ret: ReturnParts = { ret: '', errno: undefined, durationUs: undefined, injected: false };
  #scratch: ParsedRecord[] = [];

  constructor(options: ResolvedParseOptions) {
    this.#denied = options.deniedErrnos;
  }

  parseLine(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    if (this.#held !== undefined) return this.#continueHeld(line, lineNo, out);
    const result = this.#read(line, line, lineNo, out);
    if (result === Read.Incomplete) {
      this.#hold(line, lineNo, out);
      return true;
    }
    return result === Read.Done;
  }

  end(out: ParsedRecord[]): void {
    if (this.#held !== undefined) {
      const held = this.#held;
      this.#held = undefined;
      out.push(issue(held.raw, held.line, 'syscall line never completed (argument list not closed)'));
    }
    for (const call of this.#pending.values()) out.push(unfinishedEvent(call));
    this.#pending.clear();
    this.#inSummary = false;
  }

  /** Reads one (possibly rejoined) line. `text` is what is parsed, `raw` what records carry. */
  #read(text: string, raw: string, lineNo: number, out: ParsedRecord[]): Read {
    const c0 = text.charCodeAt(0);
    if (this.#inSummary) {
      if (summaryRowName(text) !== undefined || isSummaryRule(text)) {
        if (summaryRowName(text) === 'total') this.#inSummary = false;
        out.push(tracer('summary', raw, lineNo, undefined));
        return Read.Done;
      }
      this.#inSummary = false;
    }
    if (c0 === 32) {
      // `-k` stack frames (` > /lib/…(sym+0x1) [0x…]`) and `-e read=`/`write=` hex dumps
      // (` | 00000  7f 45 …  .ELF |`) annotate the line above: recognised, not records.
      const c1 = text.charCodeAt(1);
      if ((c1 === 62 || c1 === 124) && text.charCodeAt(2) === 32) return Read.Done;
    } else if (c0 === 115 && text.startsWith('strace: ')) {
      return this.#readTracer(text, raw, lineNo, out);
    }
    const p = this.#readPrefix(text);
    if (p < 0) return this.#readOther(text, raw, lineNo, out);
    const c = text.charCodeAt(p);
    if ((c >= 97 && c <= 122) || c === 95 || (c >= 65 && c <= 90)) {
      return this.#readSyscall(text, raw, lineNo, out, p);
    }
    if (c === 60 && text.startsWith('<... ', p)) return this.#readResumed(text, raw, lineNo, out, p);
    if (c === 43 && text.startsWith('+++ ', p)) return this.#readExit(text, raw, lineNo, out, p);
    if (c === 45 && text.startsWith('--- ', p)) return this.#readSignal(text, raw, lineNo, out, p);
    if (c === 91 && text.startsWith('[ Process PID=', p)) {
      // `[ Process PID=1234 runs in 32 bit mode. ]`: a personality switch notice.
      out.push(tracer('message', raw, lineNo, readInt(text, p + 14)));
      return Read.Done;
    }
    // `12 files` is program output; `[pid 12] ???` or `12:00:01 ???` is broken strace.
    if (!this.#strongPrefix) return this.#readOther(text, raw, lineNo, out);
    out.push(issue(raw, lineNo, 'strace prefix followed by something that is not a syscall, signal or exit'));
    return Read.Done;
  }

  /**
   * Reads pid, timestamp, `-n` number and `-i` address; returns the index after them, or
   * -1 when the line cannot start a strace record. Sets #pid, #time, #nr, #hadPrefix.
   */
  #readPrefix(s: string): number {
    this.#pid = undefined;
    this.#time = undefined;
    this.#nr = undefined;
    this.#hadPrefix = false;
    this.#strongPrefix = false;
    let i = 0;
    let c = s.charCodeAt(0);
    if (c === 91 /* [ */ && s.startsWith('[pid ', 0)) {
      i = 5;
      while (s.charCodeAt(i) === 32) i++;
      const start = i;
      let pid = 0;
      for (c = s.charCodeAt(i); isDigit(c); c = s.charCodeAt(++i)) pid = pid * 10 + (c - 48);
      if (i === start) return -1;
      if (c === 60 /* -Y: [pid 12<comm>] */) {
        const close = s.indexOf('>] ', i);
        if (close === -1 || close - i > MAX_COMM_LENGTH) return -1;
        i = close + 1;
      }
      if (s.charCodeAt(i) !== 93 || s.charCodeAt(i + 1) !== 32) return -1;
      this.#pid = pid;
      this.#hadPrefix = true;
      this.#strongPrefix = true;
      i += 2;
      c = s.charCodeAt(i);
      while (c === 32) c = s.charCodeAt(++i);
    } else if (isDigit(c)) {
      // `1234  ` (pid), `1234<comm> ` (-Y), or a timestamp starting with digits.
      let j = 0;
      let pid = 0;
      while (isDigit(c)) {
        pid = pid * 10 + (c - 48);
        c = s.charCodeAt(++j);
      }
      if (j <= MAX_PID_DIGITS && (c === 32 || c === 60)) {
        if (c === 60) {
          const close = s.indexOf('> ', j);
          if (close === -1 || close - j > MAX_COMM_LENGTH) return -1;
          j = close + 1;
          this.#strongPrefix = true;
        }
        this.#pid = pid;
        this.#hadPrefix = true;
        i = j;
        c = s.charCodeAt(i);
        while (c === 32) c = s.charCodeAt(++i);
      } else {
        c = s.charCodeAt(0);
      }
    }
    // Timestamp: after the pid, or at the start (`-r` pads with leading spaces).
    if (c === 32 && i === 0) {
      while (c === 32) c = s.charCodeAt(++i);
      if (!isDigit(c)) return -1;
    }
    if (isDigit(c)) {
      const after = this.#readTime(s, i);
      if (after < 0) return this.#hadPrefix ? i : -1;
      i = after;
      this.#hadPrefix = true;
      this.#strongPrefix = true;
      c = s.charCodeAt(i);
    }
    // `-n` syscall number `[ 257] ` and `-i` instruction pointer `[00007f…] `.
    while (c === 91 /* [ */) {
      const close = s.indexOf('] ', i);
      if (close === -1 || close - i > 20) break;
      const nr = readBracketNumber(s, i + 1, close);
      if (nr === -2) break; // not ours: `[ Process PID=…`
      if (nr >= 0) this.#nr = nr;
      this.#hadPrefix = true;
      this.#strongPrefix = true;
      i = close + 2;
      c = s.charCodeAt(i);
    }
    return i;
  }

  /**
   * Reads a timestamp at `i` (a digit) and sets #time; returns the index after it and its
   * trailing spaces, or -1 when the digits are no timestamp.
   */
  #readTime(s: string, i: number): number {
    let whole = 0;
    let c = s.charCodeAt(i);
    const start = i;
    while (isDigit(c)) {
      whole = whole * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    let tod = -1;
    if (c === 58 /* : */) {
      // -t / -tt: HH:MM:SS
      const m = twoDigits(s, i + 1);
      const sec = twoDigits(s, i + 4);
      if (m < 0 || sec < 0 || s.charCodeAt(i + 3) !== 58 || i - start > 2) return -1;
      tod = ((whole * 60 + m) * 60 + sec) * 1000;
      i += 6;
      c = s.charCodeAt(i);
    } else if (c !== 46 /* . */ && !(c === 32 && i - start > MAX_PID_DIGITS)) {
      return -1;
    }
    let fracNs = 0;
    if (c === 46) {
      let digits = 0;
      c = s.charCodeAt(++i);
      while (isDigit(c)) {
        if (digits < 9) {
          fracNs = fracNs * 10 + (c - 48);
          digits++;
        }
        c = s.charCodeAt(++i);
      }
      if (digits === 0) return -1;
      for (; digits < 9; digits++) fracNs *= 10;
    }
    if (c !== 32) return -1;
    while (c === 32) c = s.charCodeAt(++i);
    if (tod >= 0) {
      // Time of day: ms since midnight, a day added each time the clock wraps (a jump back
      // of more than 12 h; small steps back are threads printing out of order).
      let t = tod + fracNs / 1e6 + this.#dayOffset;
      if (this.#lastTod >= 0 && t < this.#lastTod - DAY_MS / 2) {
        this.#dayOffset += DAY_MS;
        t += DAY_MS;
      }
      this.#lastTod = t;
      this.#time = t;
    } else if (whole >= 100_000_000) {
      // -ttt / format:unix: seconds since the epoch.
      this.#time = whole * 1000 + fracNs / 1e6;
    } else {
      // -r: seconds since the previous line; the running sum is time since the first.
      this.#relativeNs += whole * 1e9 + fracNs;
      this.#time = this.#relativeNs / 1e6;
    }
    return i;
  }

  #readSyscall(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    let i = p;
    let c = s.charCodeAt(i);
    while (isWordChar(c)) c = s.charCodeAt(++i);
    if (c !== 40 /* ( */ || i - p > MAX_NAME_LENGTH) {
      // A word without `(` is a syscall line only when it is a syscall name after a prefix
      // (`1234 openat` cut short); otherwise it is program output or a summary header.
      if (!this.#hadPrefix || !isKnownSyscall(s.slice(p, i))) return this.#readOther(s, raw, lineNo, out);
      out.push(issue(raw, lineNo, 'expected a syscall name followed by "("'));
      return Read.Done;
    }
    const name = s.slice(p, i);
    const argsStart = i + 1;
    const tail = endsWithEllipsis(s);
    if (tail && s.endsWith(UNFINISHED)) {
      // A completed call never ends in `<unfinished ...>`: only the `)`-less first half does.
      this.#addPending(
        {
          syscall: name,
          raw,
          line: lineNo,
          pid: this.#pid,
          time: this.#time,
          nr: this.#nr,
          args: s.slice(argsStart, s.length - UNFINISHED.length),
        },
        out,
      );
      return Read.Done;
    }
    if (tail && s.endsWith(DETACHED)) {
      // strace let go of the process mid-call: this half will never be resumed.
      out.push(this.#event(name, raw, lineNo, s.slice(argsStart, s.length - DETACHED.length), undefined));
      (out[out.length - 1] as SyscallEvent).unfinished = true;
      return Read.Done;
    }
    let close = findArgsEnd(s, argsStart);
    if (close < 0) close = findArgsEndLoose(s, argsStart);
    if (close < 0) {
      if (!this.#strongPrefix && !isKnownSyscall(name)) return Read.NotStrace;
      return Read.Incomplete;
    }
    readReturn(s, close, this.#ret);
    out.push(this.#event(name, raw, lineNo, argsBefore(s, argsStart, close), this.#ret));
    return Read.Done;
  }

  /** `<... NAME resumed>REST) = RET`: completes the pending half of the same pid. */
  #readResumed(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    const nameStart = p + 5;
    const nameEnd = s.indexOf(' resumed>', nameStart);
    if (nameEnd === -1 || nameEnd - nameStart > MAX_NAME_LENGTH) {
      out.push(issue(raw, lineNo, 'malformed "<... NAME resumed>" marker'));
      return Read.Done;
    }
    const name = s.slice(nameStart, nameEnd);
    const restStart = nameEnd + 9;
    let key = this.#pid ?? 0;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      // Written to stderr, strace prints `[pid N]` only while several processes live, so
      // one process's halves can come with and without the prefix.
      key = this.#findUnprefixed(key, name);
      pending = this.#pending.get(key);
    }
    let first: PendingCall | undefined;
    if (pending !== undefined) {
      this.#pending.delete(key);
      if (pending.syscall === name) first = pending;
      else out.push(unfinishedEvent(pending));
    }
    if (endsWithEllipsis(s) && s.endsWith(UNFINISHED)) {
      // Resumed and interrupted again before returning: still pending, arguments so far kept.
      const part = s.slice(restStart, s.length - UNFINISHED.length);
      this.#addPending(
        {
          syscall: name,
          raw: first === undefined ? raw : `${first.raw}\n${raw}`,
          line: first?.line ?? lineNo,
          pid: this.#pid,
          time: first?.time ?? this.#time,
          nr: first?.nr ?? this.#nr,
          args: first === undefined ? part : first.args + part,
        },
        out,
      );
      return Read.Done;
    }
    let close = findArgsEnd(s, restStart);
    if (close < 0) close = findArgsEndLoose(s, restStart);
    if (close < 0) {
      if (first !== undefined) this.#pending.set(key, first);
      return Read.Incomplete;
    }
    readReturn(s, close, this.#ret);
    const rest = argsBefore(s, restStart, close);
    if (first === undefined) {
      const event = this.#event(name, raw, lineNo, rest, this.#ret);
      event.resumedOnly = true;
      out.push(event);
      return Read.Done;
    }
    if (this.#nr === undefined) this.#nr = first.nr;
    const event = this.#event(name, `${first.raw}\n${raw}`, first.line, first.args + rest, this.#ret);
    event.time = first.time;
    event.pid = first.pid ?? this.#pid;
    out.push(event);
    return Read.Done;
  }

  /**
   * Key of the pending `name` half a resumed line with no half under its own `key` may
   * close: a prefix-less half (key 0) for a `[pid N]` line, or for a prefix-less line the
   * only pending half of that name. Returns `key` when there is none.
   */
  #findUnprefixed(key: number, name: string): number {
    if (key !== 0) return this.#pending.get(0)?.syscall === name ? 0 : key;
    let found = key;
    for (const [k, call] of this.#pending) {
      if (call.syscall !== name) continue;
      if (found !== key) return key; // ambiguous: leave it
      found = k;
    }
    return found;
  }

  #addPending(call: PendingCall, out: ParsedRecord[]): void {
    const key = call.pid ?? 0;
    const previous = this.#pending.get(key);
    if (previous !== undefined) {
      // A second half for the same pid: the first will never be resumed.
      this.#pending.delete(key);
      out.push(unfinishedEvent(previous));
    } else if (this.#pending.size >= MAX_PENDING_CALLS) {
      const oldest = this.#pending.keys().next().value as number;
      out.push(unfinishedEvent(this.#pending.get(oldest)!));
      this.#pending.delete(oldest);
    }
    this.#pending.set(key, call);
  }

  /** `+++ exited with 1 +++`, `+++ killed by SIGKILL (core dumped) +++`, `+++ superseded by execve in pid 12 +++`. */
  #readExit(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    if (!s.endsWith(' +++')) {
      out.push(issue(raw, lineNo, 'malformed "+++ … +++" process line'));
      return Read.Done;
    }
    // The process is gone: a call it left unfinished will never be resumed.
    this.#flushPid(this.#pid ?? 0, out);
    const body = s.slice(p + 4, s.length - 4);
    let exitCode: number | undefined;
    let signal: string | undefined;
    let coreDumped: boolean | undefined;
    if (body.startsWith('exited with ')) {
      exitCode = Number(body.slice(12));
      if (!Number.isInteger(exitCode)) exitCode = undefined;
    } else if (body.startsWith('killed by ')) {
      const sp = body.indexOf(' ', 10);
      signal = body.slice(10, sp === -1 ? body.length : sp);
      if (body.endsWith('(core dumped)')) coreDumped = true;
    }
    out.push({
      kind: 'exit',
      source: 'strace',
      pid: this.#pid,
      time: this.#time,
      exitCode,
      signal,
      coreDumped,
      raw,
      line: lineNo,
    });
    return Read.Done;
  }

  /** `--- SIGCHLD {si_signo=SIGCHLD, …} ---` or `--- stopped by SIGSTOP ---`. */
  #readSignal(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    if (!s.endsWith(' ---')) {
      out.push(issue(raw, lineNo, 'malformed "--- SIGNAL … ---" line'));
      return Read.Done;
    }
    const body = s.slice(p + 4, s.length - 4);
    let signal: string;
    let info: string | undefined;
    if (body.startsWith('stopped by ')) {
      signal = body.slice(11);
    } else {
      const sp = body.indexOf(' ');
      signal = sp === -1 ? body : body.slice(0, sp);
      const open = body.indexOf('{');
      if (open !== -1 && body.endsWith('}')) info = body.slice(open + 1, -1);
    }
    out.push({
      kind: 'signal',
      source: 'strace',
      signal,
      info,
      pid: this.#pid,
      time: this.#time,
      raw,
      line: lineNo,
    });
    return Read.Done;
  }

  /** `strace: Process 123 attached` / `detached`, and every other `strace: …` notice. */
  #readTracer(s: string, raw: string, lineNo: number, out: ParsedRecord[]): Read {
    if (s.startsWith('strace: Process ')) {
      let i = 16;
      let pid = 0;
      let c = s.charCodeAt(i);
      while (isDigit(c)) {
        pid = pid * 10 + (c - 48);
        c = s.charCodeAt(++i);
      }
      if (i > 16) {
        if (s.startsWith(' attached', i)) {
          out.push(tracer('attached', raw, lineNo, pid));
          return Read.Done;
        }
        if (s.startsWith(' detached', i)) {
          out.push(tracer('detached', raw, lineNo, pid));
          return Read.Done;
        }
      }
    }
    out.push(tracer('message', raw, lineNo, undefined));
    return Read.Done;
  }

  /** Lines without a strace prefix that are not syscalls: summary tables, or not ours. */
  #readOther(s: string, raw: string, lineNo: number, out: ParsedRecord[]): Read {
    if (isSummaryHeader(s) || isSummaryBanner(s)) {
      this.#inSummary = true;
      out.push(tracer('summary', raw, lineNo, undefined));
      return Read.Done;
    }
    if (isSummaryRule(s)) {
      out.push(tracer('summary', raw, lineNo, undefined));
      return Read.Done;
    }
    return Read.NotStrace;
  }

  #flushPid(key: number, out: ParsedRecord[]): void {
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    this.#pending.delete(key);
    out.push(unfinishedEvent(pending));
  }

  /** One syscall event. Every strace field is always present (one object shape for V8). */
  #event(name: string, raw: string, line: number, args: string, ret: ReturnParts | undefined): SyscallEvent {
    const errno = ret?.errno;
    return {
      kind: 'syscall',
      syscall: name,
      denied: errno !== undefined && this.#denied.has(errno),
      raw,
      source: 'strace',
      line,
      pid: this.#pid,
      time: this.#time,
      nr: this.#nr,
      args,
      ret: ret?.ret,
      errno,
      durationUs: ret?.durationUs,
      unfinished: undefined,
      resumedOnly: undefined,
      injected: ret?.injected ? true : undefined,
    };
  }

  /**
   * A syscall line whose argument list did not close: the traced program wrote to the
   * same stream mid-line (`write(2, "\n", 1` ⏎ `) = 1`, `vfork(strace: Process 9 attached`
   * ⏎ ` <unfinished ...>`). Held until the next line says whether it continues it.
   */
  #hold(line: string, lineNo: number, out: ParsedRecord[]): void {
    let text = line;
    const notice = line.indexOf('strace: Process ');
    if (notice > 0) {
      // strace's own notice landed inside the line: report it, keep the syscall part.
      this.#readTracer(line.slice(notice), line.slice(notice), lineNo, out);
      text = line.slice(0, notice);
    }
    this.#held = { text, raw: text, line: lineNo, count: 1 };
  }

  #continueHeld(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    const held = this.#held!;
    this.#held = undefined;
    const scratch = this.#scratch;
    // A line that reads as strace on its own (a prefixed syscall, exit, signal) is not a
    // continuation: the held line never completed.
    scratch.length = 0;
    const alone = this.#read(line, line, lineNo, scratch);
    if (alone !== Read.NotStrace && !hasIssue(scratch)) {
      out.push(issue(held.raw, held.line, 'syscall line never completed (argument list not closed)'));
      for (const r of scratch) out.push(r);
      scratch.length = 0;
      if (alone === Read.Incomplete) this.#hold(line, lineNo, out);
      return true;
    }
    scratch.length = 0;
    const joinedText = held.text + line;
    const joinedRaw = `${held.raw}\n${line}`;
    const joined = this.#read(joinedText, joinedRaw, held.line, scratch);
    if (joined === Read.Done && !hasIssue(scratch)) {
      for (const r of scratch) out.push(r);
      scratch.length = 0;
      return true;
    }
    scratch.length = 0;
    if (held.count < MAX_CONTINUATION_LINES && joinedText.length <= MAX_CONTINUATION_LENGTH) {
      this.#held = { text: joinedText, raw: joinedRaw, line: held.line, count: held.count + 1 };
      return true;
    }
    out.push(issue(held.raw, held.line, 'syscall line never completed (argument list not closed)'));
    return this.parseLine(line, lineNo, out);
  }
}

/**
 * Reads one strace line on its own, without a parser's state: a syscall line gives its
 * event, an `<unfinished …>` half a flagged event, a `<… resumed>` half a `resumedOnly`
 * event. Undefined when the line is not strace output or carries no record (`-k` frames).
 */
export function parseStraceLine(line: string): ParsedRecord | undefined {
  const parser = new StraceParser(defaultOptions);
  const out: ParsedRecord[] = [];
  parser.parseLine(line, 1, out);
  parser.end(out);
  return out[0];
}

const defaultOptions = resolveParseOptions({ source: 'strace' });

function unfinishedEvent(call: PendingCall): SyscallEvent {
  return {
    kind: 'syscall',
    syscall: call.syscall,
    denied: false,
    raw: call.raw,
    source: 'strace',
    line: call.line,
    pid: call.pid,
    time: call.time,
    nr: call.nr,
    args: call.args,
    ret: undefined,
    errno: undefined,
    durationUs: undefined,
    unfinished: true,
    resumedOnly: undefined,
    injected: undefined,
  };
}

function tracer(
  event: 'attached' | 'detached' | 'summary' | 'message',
  raw: string,
  line: number,
  pid: number | undefined,
): ParsedRecord {
  return { kind: 'tracer', source: 'strace', event, pid, raw, line };
}

function issue(raw: string, line: number, why: string): ParsedRecord {
  return {
    kind: 'issue',
    code: 'unrecognised_syscall_line',
    message: `line ${line}: unrecognised strace line: ${why}`,
    raw: raw.length > RAW_SAMPLE ? raw.slice(0, RAW_SAMPLE) : raw,
    line,
  };
}

function hasIssue(records: ParsedRecord[]): boolean {
  for (const r of records) if (r.kind === 'issue') return true;
  return false;
}

/**
 * The argument text `s[from, close)`, without the marker of `read(3,  <unfinished ...>) = ?`
 * (the process died mid-call): the marker is not an argument. `close - 1` is at least the
 * `(` (never out of range, which would stop V8 inlining charCodeAt).
 */
function argsBefore(s: string, from: number, close: number): string {
  if (
    s.charCodeAt(close - 1) === 62 &&
    close - from >= UNFINISHED.length &&
    s.startsWith(UNFINISHED, close - UNFINISHED.length)
  ) {
    return s.slice(from, close - UNFINISHED.length);
  }
  return s.slice(from, close);
}

/**
 * Without a prefix only strace prints, `word(` is taken for a syscall line only when the
 * word is a syscall name, so program output such as `usage(1` is not reported as broken.
 */
function isKnownSyscall(name: string): boolean {
  return syscallNumber(name, 'x86_64') !== undefined || syscallNumber(name, 'aarch64') !== undefined;
}

/** Cheap pre-check for the ` <unfinished ...>` / ` <detached ...>` endings. */
function endsWithEllipsis(s: string): boolean {
  const n = s.length;
  return s.charCodeAt(n - 1) === 62 && s.charCodeAt(n - 2) === 46;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function readInt(s: string, i: number): number | undefined {
  let n = 0;
  const start = i;
  for (let c = s.charCodeAt(i); isDigit(c); c = s.charCodeAt(++i)) n = n * 10 + (c - 48);
  return i > start ? n : undefined;
}

/**
 * Content of a `[…]` prefix between `from` and `to`: `-n`'s `[ 257]` → 257; `-i`'s
 * `[00007f…]` or `[????????????????]` → -1 (recognised, no number); anything else → -2.
 */
function readBracketNumber(s: string, from: number, to: number): number {
  let i = from;
  while (s.charCodeAt(i) === 32) i++;
  const padded = i > from;
  const width = to - from;
  let allDigits = true;
  let allHex = true;
  for (let j = i; j < to; j++) {
    const c = s.charCodeAt(j);
    if (!isDigit(c)) allDigits = false;
    if (!(isDigit(c) || (c >= 97 && c <= 102) || c === 63)) allHex = false;
  }
  if (i === to) return -2;
  // -i prints a fixed-width, zero-padded address (8 or 16 digits); -n pads with spaces.
  if (!padded && width >= 8 && allHex) return -1;
  if (allDigits) return readInt(s, i) ?? -2;
  return -2;
}
