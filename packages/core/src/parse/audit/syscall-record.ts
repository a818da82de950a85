/**
 * SYSCALL and SECCOMP records: who made which call, and how it ended. One reader per
 * parser: it keeps the latest `arch=` text and the records of emitted events for reuse
 * (neither shared with another parser).
 */
import type { ValueDecoder } from './decoder.js';
import { digitsAt, findValue, intField, parseIntAt, rawField, valueEnd } from './fields.js';
import { idNumber } from './interpret.js';

/**
 * Facts of a SYSCALL or SECCOMP record: raw texts where the event needs the text, values
 * already read (and identity fields already decoded) where it needs only those.
 */
export interface SyscallRecord extends Identity {
  line: string;
  lineNo: number;
  /** `arch=` (hex id or name), else the ENRICHED `ARCH=`. */
  arch: string | undefined;
  /** `syscall=` (number or name), else the ENRICHED `SYSCALL=`; unused when `nr` >= 0. */
  syscall: string | undefined;
  /** The syscall number when `syscall=` is a plain decimal, else -1 (read `syscall`). */
  nr: number;
  /** `success=yes` → true, any other `success=` → false. */
  success: boolean | undefined;
  exit: string | undefined;
  /** `a0=… a1=… a2=… a3=…` as logged (hex): the call's first arguments (open flags, for one). */
  registers: string | undefined;
  /** `items=`: how many PATH records the kernel wrote for the call. */
  items: number | undefined;
  pid: number | undefined;
  /** SECCOMP `code=` and `sig=`. */
  code: string | undefined;
  sig: string | undefined;
  seccomp: boolean;
}

/**
 * Who did it: the subject fields common to SYSCALL, SECCOMP, AVC and userspace records,
 * decoded (ids as numbers) when the record is read.
 */
export interface Identity {
  uid: number | undefined;
  auid: number | undefined;
  /** The names the log's own host gave `uid` and `auid` (ENRICHED `UID="root"`, ausearch -i `uid=root`); `unset` is none. */
  user: string | undefined;
  loginUser: string | undefined;
  comm: string | undefined;
  exe: string | undefined;
  key: string | undefined;
}

/** The registers after `a0=`, in the kernel's order. */
const REGISTER_KEYS = ['a1=', 'a2=', 'a3='] as const;

/** Most emitted syscall records kept for reuse. */
const MAX_FREE = 512;

export class SyscallRecordReader {
  readonly #decoder: ValueDecoder;
  /** Syscall records of emitted events, for reuse. */
  readonly #free: SyscallRecord[] = [];
  /** The latest `arch=` text: one arch per log is the rule, so its text is reused, not sliced again. */
  #lastArch = '';
  /** Where the value `#number` read last ends. */
  #numberEnd = 0;

  constructor(decoder: ValueDecoder) {
    this.#decoder = decoder;
  }

  /** Takes back the record of an emitted event. */
  release(rec: SyscallRecord): void {
    if (this.#free.length >= MAX_FREE) return;
    // Kept for reuse, it must not keep the line (and so its read chunk) alive meanwhile.
    rec.line = '';
    rec.syscall = undefined;
    rec.exit = undefined;
    rec.registers = undefined;
    rec.items = undefined;
    rec.code = undefined;
    rec.sig = undefined;
    rec.comm = undefined;
    rec.exe = undefined;
    rec.key = undefined;
    this.#free.push(rec);
  }

  /** A SyscallRecord with nothing read yet (one shape for every record). */
  blank(line: string, lineNo: number, seccomp: boolean): SyscallRecord {
    const rec = this.#free.pop();
    if (rec === undefined) {
      return {
        line,
        lineNo,
        arch: undefined,
        syscall: undefined,
        nr: -1,
        success: undefined,
        exit: undefined,
        registers: undefined,
        items: undefined,
        pid: undefined,
        code: undefined,
        sig: undefined,
        uid: undefined,
        auid: undefined,
        user: undefined,
        loginUser: undefined,
        comm: undefined,
        exe: undefined,
        key: undefined,
        seccomp,
      };
    }
    rec.line = line;
    rec.lineNo = lineNo;
    rec.arch = undefined;
    rec.syscall = undefined;
    rec.nr = -1;
    rec.success = undefined;
    rec.exit = undefined;
    rec.registers = undefined;
    rec.items = undefined;
    rec.pid = undefined;
    rec.code = undefined;
    rec.sig = undefined;
    rec.uid = undefined;
    rec.auid = undefined;
    rec.user = undefined;
    rec.loginUser = undefined;
    rec.comm = undefined;
    rec.exe = undefined;
    rec.key = undefined;
    rec.seccomp = seccomp;
    return rec;
  }

  /**
   * A SYSCALL record's fields, read from `text[body, to)`; `raw` is the line the record
   * keeps. The kernel writes them in a fixed order (arch syscall success exit a0..a3 items
   * ppid pid auid uid … comm exe subj key), so each search starts where the previous field
   * was found, falling back to the whole body when a field is elsewhere: one pass over the
   * line instead of ten. Values are read in place: only `arch`, a non-numeric `syscall` and
   * `exit` are kept as text; the identity is decoded now.
   */
  readSyscall(
    text: string,
    raw: string,
    lineNo: number,
    body: number,
    to: number,
    interpreted: boolean,
  ): SyscallRecord {
    const rec = this.blank(raw, lineNo, false);
    const decoder = this.#decoder;
    let at = body;
    let v = seekValue(text, 'arch=', at, body, to);
    if (v !== -1) {
      at = valueEnd(text, v, to);
      rec.arch = this.#archAt(text, v, at);
    }
    v = seekValue(text, 'syscall=', at, body, to);
    if (v !== -1) {
      const nr = this.#number(text, v, to);
      at = this.#numberEnd;
      if (nr >= 0) rec.nr = nr;
      else rec.syscall = text.slice(v, at);
    }
    v = seekValue(text, 'success=', at, body, to);
    if (v !== -1) {
      at = valueEnd(text, v, to);
      rec.success =
        at - v === 3 &&
        text.charCodeAt(v) === 121 &&
        text.charCodeAt(v + 1) === 101 &&
        text.charCodeAt(v + 2) === 115;
    }
    v = seekValue(text, 'exit=', at, body, to);
    if (v !== -1) {
      at = valueEnd(text, v, to);
      rec.exit = text.slice(v, at);
    }
    // The argument registers, one slice for all four: rules read open flags from them.
    v = seekValue(text, 'a0=', at, body, to);
    if (v !== -1) {
      let end = valueEnd(text, v, to);
      for (const key of REGISTER_KEYS) {
        const w = seekValue(text, key, end, body, to);
        if (w === -1 || w < end) break;
        end = valueEnd(text, w, to);
      }
      rec.registers = text.slice(v - 3, end);
      at = end;
    }
    v = seekValue(text, 'items=', at, body, to);
    if (v !== -1) {
      const items = this.#number(text, v, to);
      if (items >= 0) {
        rec.items = items;
        at = this.#numberEnd;
      }
    }
    v = seekValue(text, 'pid=', at, body, to);
    if (v !== -1) {
      const pid = this.#number(text, v, to);
      at = this.#numberEnd;
      rec.pid = pid >= 0 ? pid : parseIntAt(text, v, at);
    }
    v = seekValue(text, 'auid=', at, body, to);
    if (v !== -1) {
      const auid = this.#number(text, v, to);
      at = this.#numberEnd;
      rec.auid = auid >= 0 ? auid : idAt(text, v, at);
      if (rec.auid === undefined && interpreted) rec.loginUser = userName(text.slice(v, at));
    }
    v = seekValue(text, 'uid=', at, body, to);
    if (v !== -1) {
      const uid = this.#number(text, v, to);
      at = this.#numberEnd;
      rec.uid = uid >= 0 ? uid : idAt(text, v, at);
      if (rec.uid === undefined && interpreted) rec.user = userName(text.slice(v, at));
    }
    v = seekValue(text, 'comm=', at, body, to);
    if (v !== -1) {
      at = valueEnd(text, v, to);
      rec.comm = decoder.decodeAt(text, v, at, interpreted);
    }
    v = seekValue(text, 'exe=', at, body, to);
    if (v !== -1) {
      at = valueEnd(text, v, to);
      rec.exe = decoder.decodeAt(text, v, at, interpreted);
    }
    v = seekValue(text, 'key=', at, body, to);
    if (v !== -1) rec.key = decoder.decodeAt(text, v, valueEnd(text, v, to), interpreted);
    return rec;
  }

  /** A SECCOMP record's fields (their order varies between kernels: each is searched in the whole body). */
  readSeccomp(
    text: string,
    raw: string,
    lineNo: number,
    body: number,
    to: number,
    interpreted: boolean,
  ): SyscallRecord {
    const rec = this.blank(raw, lineNo, true);
    rec.arch = rawField(text, 'arch=', body, to);
    rec.syscall = rawField(text, 'syscall=', body, to);
    rec.pid = intField(text, 'pid=', body, to);
    rec.code = rawField(text, 'code=', body, to);
    rec.sig = rawField(text, 'sig=', body, to);
    readIdentity(rec, text, body, to, interpreted, this.#decoder);
    return rec;
  }

  /**
   * A value that is usually a plain decimal, starting at `v`: its number when it is 1–15
   * digits ended by a space, a tab or the record end (read in the walk that finds that end),
   * else -1; `#numberEnd` is set to the value's end (`valueEnd`'s when it is no such number).
   */
  #number(line: string, v: number, to: number): number {
    let i = v;
    let n = 0;
    let d = line.charCodeAt(i) - 48;
    while (d >= 0 && d <= 9 && i < to) {
      n = n * 10 + d;
      d = line.charCodeAt(++i) - 48;
    }
    const stop = line.charCodeAt(i);
    if (i > v && i - v <= 15 && (i === to || stop === 32 || stop === 9)) {
      this.#numberEnd = i;
      return n;
    }
    // Anything else ends where any value ends, and is no plain decimal there either (the
    // digits stop before that end, or there are more than 15 of them).
    this.#numberEnd = valueEnd(line, v, to);
    return -1;
  }

  #archAt(line: string, from: number, to: number): string {
    const last = this.#lastArch;
    if (to - from === last.length && sameText(line, from, last)) return last;
    this.#lastArch = line.slice(from, to);
    return this.#lastArch;
  }
}

/** True when `line` holds `text` at `from` (a code loop: `startsWith` costs more on a sliced line). */
function sameText(line: string, from: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (line.charCodeAt(from + k) !== text.charCodeAt(k)) return false;
  return true;
}

/**
 * Where `keyEq`'s value starts, searched from `at` on, else from `body` on (a field out of
 * the usual order); -1 when there is none.
 */
function seekValue(line: string, keyEq: string, at: number, body: number, to: number): number {
  const v = findValue(line, keyEq, at, to);
  return v === -1 && at !== body ? findValue(line, keyEq, body, to) : v;
}

/**
 * A user name as a log's host wrote it (`root`, `"alice"`), or undefined for none: `unset`
 * (never logged in), `unknown(1234)` (no such user there), an empty or overlong value.
 */
export function userName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (name === '' || name === 'unset' || name.startsWith('unknown(') || name.length > 64) return undefined;
  // A flat copy: the event is held longer than the read chunk it was sliced from.
  return ` ${name}`.slice(1);
}

/** `uid=`/`auid=` value → number (as `idNumber` reads it). */
function idAt(line: string, from: number, to: number): number | undefined {
  const n = digitsAt(line, from, to);
  return n >= 0 ? n : idNumber(line.slice(from, to));
}

/** Reads the identity fields of `line[from, to)` into `ids`, decoded. */
export function readIdentity(
  ids: Identity,
  line: string,
  from: number,
  to: number,
  interpreted: boolean,
  decoder: ValueDecoder,
): void {
  let v = findValue(line, 'uid=', from, to);
  if (v !== -1) {
    const end = valueEnd(line, v, to);
    ids.uid = idAt(line, v, end);
    if (ids.uid === undefined && interpreted) ids.user = userName(line.slice(v, end));
  }
  v = findValue(line, 'auid=', from, to);
  if (v !== -1) {
    const end = valueEnd(line, v, to);
    ids.auid = idAt(line, v, end);
    if (ids.auid === undefined && interpreted) ids.loginUser = userName(line.slice(v, end));
  }
  v = findValue(line, 'comm=', from, to);
  if (v !== -1) ids.comm = decoder.decodeAt(line, v, valueEnd(line, v, to), interpreted);
  v = findValue(line, 'exe=', from, to);
  if (v !== -1) ids.exe = decoder.decodeAt(line, v, valueEnd(line, v, to), interpreted);
  v = findValue(line, 'key=', from, to);
  if (v !== -1) ids.key = decoder.decodeAt(line, v, valueEnd(line, v, to), interpreted);
}

/** The identity fields of `line[from, to)`, decoded. */
export function identity(
  line: string,
  from: number,
  to: number,
  interpreted: boolean,
  decoder: ValueDecoder,
): Identity {
  const ids: Identity = {
    uid: undefined,
    auid: undefined,
    user: undefined,
    loginUser: undefined,
    comm: undefined,
    exe: undefined,
    key: undefined,
  };
  readIdentity(ids, line, from, to, interpreted, decoder);
  return ids;
}
