/**
 * strace text → typed records. Reads every form strace 6 prints:
 *
 * ```
 * [PID ][TIME ][[NR] ][[IP] ]NAME(ARGS) = RET[ ERRNO (msg)][ (comment)][ (INJECTED)][ <DUR>]
 * ```
 *
 * The prefix is read by `prefix.ts`, the argument list and return part by `scan.ts`. Besides
 * syscall lines: `<unfinished …>`/`<… resumed>` halves (joined by pid into one event,
 * `joiner.ts`), `--- SIGNAL {…} ---`, `+++ exited with N +++`, `strace: …` notices
 * (`process-lines.ts`), `-c`/`-C` summary tables (`summary.ts`), `-k` stack lines and
 * `-e read=`/`write=` hex dumps. Lines the traced program printed into the same stream are
 * "not strace" (the dispatcher may hand them elsewhere), except where they split a syscall
 * line in two, which is rejoined. All state is this instance's.
 */
import type { ParsedRecord, SyscallEvent, TracerRecord } from '../../types.js';
import type { LineParser, ResolvedParseOptions } from '../line-parser.js';
import { argsBefore, DETACHED, endsWithEllipsis, isKnownSyscall, UNFINISHED } from './call-text.js';
import { intern, internName, MAX_KEYED_NAME, WORD_CODE } from './intern.js';
import { CallJoiner } from './joiner.js';
import { PrefixReader, readInt } from './prefix.js';
import { readExitLine, readSignalLine, readTracerLine } from './process-lines.js';
import { hasIssue, issue, shownProcess, tracer } from './records.js';
import {
  findArgsEnd,
  findArgsEndLoose,
  isWordChar,
  type ReturnParts,
  readReturn,
  returnParts,
} from './scan.js';
import { leaveSpawnHint } from './spawn-hints.js';
import {
  isSummaryBanner,
  isSummaryHeader,
  isSummaryRule,
  loneSummaryRowName,
  readSummaryRow,
  summaryColumns,
  summaryRowName,
} from './summary.js';

/**
 * `???(`, and `<... ??? resumed>`: strace's name for a call it could not decode (it failed to
 * read the call's number or registers; a thread that a sibling's exit_group kills as it enters
 * a call is one way, under load). No call of that name exists: it is a call syscan cannot see,
 * read as an unreadable line (fail closed), not as a syscall named `???` or program output.
 */
const UNDECODED_CALL = '???(';
const UNDECODED_WHY = "strace could not decode this call ('???': a thread killed as it entered a call, say)";

/** A syscall line split by the program's own output is rejoined over at most this many lines … */
const MAX_CONTINUATION_LINES = 8;
/** … and this many characters. */
const MAX_CONTINUATION_LENGTH = 64 * 1024;
/** Longest syscall name accepted (real ones are ≤ 24; `syscall_0x…` for unknown numbers). */
const MAX_NAME_LENGTH = 64;

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

/** A syscall line cut by the traced program's output, waiting for the rest. */
interface HeldLine {
  text: string;
  raw: string;
  line: number;
  count: number;
}

/** Pids the parser remembers having seen, for spawn hints (cleared past it). */
const MAX_SEEN_PIDS = 65_536;

export class StraceParser implements LineParser {
  readonly #denied: ReadonlySet<string>;
  readonly #calls = new CallJoiner();
  /** Pids events were made for (bounded), and the last one: a new pid may be a pending clone's child. */
  readonly #seenPids = new Set<number>();
  #lastPid: number | undefined;
  readonly #prefix: PrefixReader;
  #held: HeldLine | undefined;
  #inSummary = false;
  /** The columns of the summary table being read (from its header; undefined after a banner alone). */
  #summaryColumns: string[] | undefined;
  readonly #ret: ReturnParts = returnParts();
  #scratch: ParsedRecord[] = [];

  constructor(options: ResolvedParseOptions) {
    this.#denied = options.deniedErrnos;
    this.#prefix = new PrefixReader(options.stracePid);
  }

  parseLine(line: string, lineNo: number, out: ParsedRecord[], truncated = false): boolean {
    if (truncated) return this.#readTruncated(line, lineNo, out);
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
      out.push(
        issue(
          held.raw,
          held.line,
          'syscall line never completed: the trace ends inside it',
          'trace_ends_mid_line',
        ),
      );
    }
    this.#calls.end(out);
    this.#inSummary = false;
  }

  /** Reads one (possibly rejoined) line. `text` is what is parsed, `raw` what records carry. */
  #read(text: string, raw: string, lineNo: number, out: ParsedRecord[]): Read {
    const c0 = text.charCodeAt(0);
    if (this.#inSummary) {
      const row =
        summaryRowName(text) ?? (this.#summaryColumns === undefined ? undefined : loneSummaryRowName(text));
      if (row !== undefined || isSummaryRule(text)) {
        const record = tracer('summary', raw, lineNo, undefined);
        if (row !== undefined) {
          // What strace counted: the integrity check compares it with the calls the trace showed.
          const columns = this.#summaryColumns;
          if (columns !== undefined) (record as TracerRecord).summaryRow = readSummaryRow(text, columns, row);
          if (row === 'total') this.#inSummary = false;
        }
        out.push(record);
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
      readTracerLine(text, raw, lineNo, out);
      return Read.Done;
    }
    const prefix = this.#prefix;
    const p = prefix.read(text);
    if (p < 0) return this.#readOther(text, raw, lineNo, out);
    const c = text.charCodeAt(p);
    if ((c >= 97 && c <= 122) || c === 95 || (c >= 65 && c <= 90)) {
      return this.#readSyscall(text, raw, lineNo, out, p);
    }
    if (c === 60 && text.startsWith('<... ', p)) return this.#readResumed(text, raw, lineNo, out, p);
    if (c === 43 && text.startsWith('+++ ', p)) {
      readExitLine(text, raw, lineNo, out, p, prefix, this.#calls);
      return Read.Done;
    }
    if (c === 45 && text.startsWith('--- ', p)) {
      readSignalLine(text, raw, lineNo, out, p, prefix);
      return Read.Done;
    }
    if (c === 91 && text.startsWith('[ Process PID=', p)) {
      // `[ Process PID=1234 runs in 32 bit mode. ]`: a personality switch notice.
      out.push(tracer('message', raw, lineNo, readInt(text, p + 14)));
      return Read.Done;
    }
    // strace's own word for a call it could not decode, whatever the prefix (`12 ???(`).
    if (c === 63 && text.startsWith(UNDECODED_CALL, p)) {
      out.push(issue(raw, lineNo, UNDECODED_WHY));
      return Read.Done;
    }
    // `12 files` is program output; `[pid 12] ???` or `12:00:01 ???` is broken strace.
    if (!prefix.strongPrefix) return this.#readOther(text, raw, lineNo, out);
    out.push(issue(raw, lineNo, 'strace prefix followed by something that is not a syscall, signal or exit'));
    return Read.Done;
  }

  /** `NAME(ARGS) = RET …` (or its `<unfinished …>`/`<detached …>` half) after the prefix, at `p`. */
  #readSyscall(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    const prefix = this.#prefix;
    let i = p;
    let c = s.charCodeAt(i);
    // The name's exact key is packed on the way (internName needs it; no compare, no second
    // pass over the name). NaN past the end is no word character.
    let code = c < 128 ? WORD_CODE[c]! : 0;
    let k0 = 0;
    let k1 = 0;
    let k2 = 0;
    while (code !== 0) {
      const n = i - p;
      if (n < 5) k0 = k0 * 64 + code;
      else if (n < 10) k1 = k1 * 64 + code;
      else if (n < 15) k2 = k2 * 64 + code;
      c = s.charCodeAt(++i);
      code = c < 128 ? WORD_CODE[c]! : 0;
    }
    if (c !== 40 /* ( */ || i - p > MAX_NAME_LENGTH) {
      // A word without `(` is a syscall line only when it is a syscall name after a prefix
      // (`1234 openat` cut short); otherwise it is program output or a summary header.
      if (!prefix.hadPrefix || !isKnownSyscall(s.slice(p, i))) return this.#readOther(s, raw, lineNo, out);
      out.push(issue(raw, lineNo, 'expected a syscall name followed by "("'));
      return Read.Done;
    }
    const name = i - p <= MAX_KEYED_NAME ? internName(s, p, i, k0, k1, k2) : intern(s, p, i);
    const argsStart = i + 1;
    const tail = endsWithEllipsis(s);
    if (tail && s.endsWith(UNFINISHED)) {
      // A completed call never ends in `<unfinished ...>`: only the `)`-less first half does.
      this.#calls.add(
        {
          syscall: name,
          raw,
          line: lineNo,
          pid: prefix.pid,
          time: prefix.time,
          nr: prefix.nr,
          comm: prefix.comm,
          args: s.slice(argsStart, s.length - UNFINISHED.length),
        },
        out,
      );
      return Read.Done;
    }
    if (tail && s.endsWith(DETACHED)) {
      // strace let go of the process mid-call: this half will never be resumed.
      const event = this.#event(name, raw, lineNo, s.slice(argsStart, s.length - DETACHED.length), undefined);
      event.unfinished = true;
      out.push(event);
      return Read.Done;
    }
    const ret = this.#ret;
    let close = findArgsEnd(s, argsStart, ret);
    if (close < 0) close = findArgsEndLoose(s, argsStart);
    if (close < 0) {
      if (!prefix.strongPrefix && !isKnownSyscall(name)) return Read.NotStrace;
      return Read.Incomplete;
    }
    readReturn(s, close, ret);
    out.push(this.#event(name, raw, lineNo, argsBefore(s, argsStart, close), ret));
    return Read.Done;
  }

  /** `<... NAME resumed>REST) = RET`: completes the pending half of the same pid (`???`: see UNDECODED_CALL). */
  #readResumed(s: string, raw: string, lineNo: number, out: ParsedRecord[], p: number): Read {
    const prefix = this.#prefix;
    const nameStart = p + 5;
    const nameEnd = s.indexOf(' resumed>', nameStart);
    if (nameEnd === -1 || nameEnd - nameStart > MAX_NAME_LENGTH) {
      out.push(issue(raw, lineNo, 'malformed "<... NAME resumed>" marker'));
      return Read.Done;
    }
    if (nameEnd - nameStart === 3 && s.startsWith('???', nameStart)) {
      out.push(issue(raw, lineNo, UNDECODED_WHY));
      return Read.Done;
    }
    const name = intern(s, nameStart, nameEnd);
    const restStart = nameEnd + 9;
    const first = this.#calls.take(prefix.pid, name, out);
    if (endsWithEllipsis(s) && s.endsWith(UNFINISHED)) {
      // Resumed and interrupted again before returning: still pending, arguments so far kept.
      const part = s.slice(restStart, s.length - UNFINISHED.length);
      this.#calls.add(
        {
          syscall: name,
          raw: first === undefined ? raw : `${first.raw}\n${raw}`,
          line: first?.line ?? lineNo,
          pid: prefix.pid,
          time: first?.time ?? prefix.time,
          nr: first?.nr ?? prefix.nr,
          comm: first?.comm ?? prefix.comm,
          args: first === undefined ? part : first.args + part,
        },
        out,
      );
      return Read.Done;
    }
    const ret = this.#ret;
    let close = findArgsEnd(s, restStart, ret);
    if (close < 0) close = findArgsEndLoose(s, restStart);
    if (close < 0) {
      if (first !== undefined) this.#calls.restore(first);
      return Read.Incomplete;
    }
    readReturn(s, close, ret);
    const rest = argsBefore(s, restStart, close);
    if (first === undefined) {
      const event = this.#event(name, raw, lineNo, rest, ret);
      event.resumedOnly = true;
      out.push(event);
      return Read.Done;
    }
    if (prefix.nr === undefined) prefix.nr = first.nr;
    const event = this.#event(name, `${first.raw}\n${raw}`, first.line, first.args + rest, ret);
    event.time = first.time;
    event.pid = first.pid ?? prefix.pid;
    out.push(event);
    return Read.Done;
  }

  /**
   * A line cut at `maxLineLength`: its end (the return value, maybe the closing `)`) is
   * gone, so it is never held for a continuation nor read for a return value. A syscall
   * (or `<… NAME resumed>`) head still gives its event, named and flagged `truncated`, so
   * that a flood of huge lines cannot hide a call; any other head is read as usual.
   */
  #readTruncated(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      out.push(issue(held.raw, held.line, 'syscall line never completed (argument list not closed)'));
    }
    const prefix = this.#prefix;
    const p = line.charCodeAt(0) === 115 && line.startsWith('strace: ') ? -1 : prefix.read(line);
    const resumed = p >= 0 && line.startsWith('<... ', p);
    const nameStart = resumed ? p + 5 : p;
    let i = nameStart;
    if (p >= 0) while (isWordChar(line.charCodeAt(i))) i++;
    const named =
      i > nameStart &&
      i - nameStart <= MAX_NAME_LENGTH &&
      (resumed ? line.startsWith(' resumed>', i) : line.charCodeAt(i) === 40);
    const name = named ? line.slice(nameStart, i) : '';
    if (!named || (!prefix.strongPrefix && !isKnownSyscall(name))) {
      const result = this.#read(line, line, lineNo, out);
      if (result !== Read.Incomplete) return result === Read.Done;
      out.push(issue(line, lineNo, 'line cut before its argument list closed'));
      return true;
    }
    const first = resumed ? this.#calls.take(prefix.pid, name, out) : undefined;
    const args = line.slice(resumed ? i + 9 : i + 1);
    const event = this.#event(
      name,
      first === undefined ? line : `${first.raw}\n${line}`,
      first?.line ?? lineNo,
      first === undefined ? args : first.args + args,
      undefined,
    );
    if (first !== undefined) {
      event.time = first.time;
      event.pid = first.pid ?? prefix.pid;
      if (event.nr === undefined) event.nr = first.nr;
    } else if (resumed) {
      event.resumedOnly = true;
    }
    event.truncated = true;
    out.push(event);
    return true;
  }

  /** Lines without a strace prefix that are not syscalls: summary tables, or not ours. */
  #readOther(s: string, raw: string, lineNo: number, out: ParsedRecord[]): Read {
    if (isSummaryHeader(s) || isSummaryBanner(s)) {
      this.#inSummary = true;
      this.#summaryColumns = isSummaryHeader(s) ? summaryColumns(s) : undefined;
      out.push(tracer('summary', raw, lineNo, undefined));
      return Read.Done;
    }
    if (isSummaryRule(s)) {
      out.push(tracer('summary', raw, lineNo, undefined));
      return Read.Done;
    }
    return Read.NotStrace;
  }

  /** One syscall event. Every strace and context field is always present (one object shape for V8). */
  #event(name: string, raw: string, line: number, args: string, ret: ReturnParts | undefined): SyscallEvent {
    const errno = ret?.errno;
    const prefix = this.#prefix;
    const event: SyscallEvent = {
      kind: 'syscall',
      syscall: name,
      denied: errno !== undefined && this.#denied.has(errno),
      raw,
      source: 'strace',
      line,
      pid: prefix.pid,
      time: prefix.time,
      nr: prefix.nr,
      args,
      ret: ret?.ret,
      errno,
      durationUs: ret?.durationUs,
      unfinished: undefined,
      resumedOnly: undefined,
      injected: ret?.injected ? true : undefined,
      truncated: undefined,
      process: shownProcess(prefix.pid, prefix.comm),
      // The context tracker's fields, present from the start (undefined, which JSON leaves
      // out) so that every event keeps one shape: added later, `paths` gave events a second
      // hidden class and an out-of-object property store to allocate, and `peer`/`local` (a
      // few events in a thousand) made every site that reads events see several shapes.
      paths: undefined,
      peer: undefined,
      local: undefined,
    };
    const pid = prefix.pid;
    if (pid !== undefined && pid !== this.#lastPid) this.#sawPid(pid, event);
    return event;
  }

  /** A pid's first event, while exactly one clone is pending: hinted as that clone's child (see spawn-hints.ts). */
  #sawPid(pid: number, event: SyscallEvent): void {
    this.#lastPid = pid;
    const seen = this.#seenPids;
    if (seen.has(pid)) return;
    // Bounded; forgetting only costs hints the tracker checks against what it knows anyway.
    if (seen.size >= MAX_SEEN_PIDS) seen.clear();
    seen.add(pid);
    const half = this.#calls.onlySpawnHalf(pid);
    if (half?.pid !== undefined)
      leaveSpawnHint(event, { parent: half.pid, syscall: half.syscall, args: half.args });
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
      readTracerLine(line.slice(notice), line.slice(notice), lineNo, out);
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
