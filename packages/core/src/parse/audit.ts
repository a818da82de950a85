/**
 * Linux audit reader: auditd's audit.log (RAW and ENRICHED), `node=` prefixes, kernel /
 * journal / dmesg / syslog lines (`audit: type=1400 audit(…)`), ausearch's default and `-i`
 * output, and the seed's loose `seccomp: syscall=connect denied` lines.
 *
 * Records are grouped into one event per `audit(SEC.MS:SERIAL)` (records may arrive out of
 * order). An event is complete at its EOE; userspace records (which never get one) complete
 * at once; any other event completes once it is clearly over: AGE_RECORDS records or
 * AGE_MS of audit time after its latest record, when the pending set passes MAX_PENDING
 * (oldest first), or at end of input. This is how auparse decides too, minus the wall clock
 * a pure parser cannot read.
 */
import type { ParsedRecord } from '../types.js';
import {
  type AvcFacts,
  type Identity,
  idNumber,
  MAX_PATHS,
  PendingEvent,
  type SyscallRecord,
} from './audit-event.js';
import {
  decodeAt,
  decodeValue,
  digitsAt,
  findValue,
  forEachField,
  intField,
  parseIntAt,
  proctitleValue,
  rawField,
  valueEnd,
} from './audit-fields.js';
import { isSingleRecordType, recordTypeName } from './audit-types.js';
import type { LineParser, ResolvedParseOptions } from './line-parser.js';

/** An event is over once this many later records arrived without one of its own. */
const AGE_RECORDS = 64;
/** … or once the log's clock is this far past its latest record (auparse's eoe_timeout). */
const AGE_MS = 2000;
/** Most events held open at once; past it the oldest is completed. */
const MAX_PENDING = 256;
/** Most emitted events (and syscall records) kept for reuse. */
const MAX_FREE = 512;
/** How far `audit(` may follow the type token (` msg=audit(` or ` audit(`). */
const MAX_TYPE_TO_STAMP = 16;

/** ENRICHED logs append interpreted fields after this byte. */
const GS = '\x1d';

/** Record types that carry no subject fields worth a search. */
const AUX_TYPES: ReadonlySet<string> = new Set([
  'PATH',
  'CWD',
  'EXECVE',
  'PROCTITLE',
  'SOCKADDR',
  'BPRM_FCAPS',
  'OBJ_PID',
  'MMAP',
  'FD_PAIR',
  'CAPSET',
  'IPC',
  'SOCKETCALL',
  'NETFILTER_CFG',
  'TIME_INJOFFSET',
  'TIME_ADJNTPVAL',
  'KERN_MODULE',
  'OPENAT2',
  'URINGOP',
  'EOE',
]);

interface Stamp {
  time: number | undefined;
  serial: number | undefined;
  interpreted: boolean;
  /** Index just past `)` of the stamp. */
  end: number;
}

export class AuditParser implements LineParser {
  readonly #deniedErrnos: ReadonlySet<string>;
  readonly #keepFields: boolean;
  readonly #pending = new Map<number | string, PendingEvent>();
  /** Emitted events kept for reuse. */
  readonly #free: PendingEvent[] = [];
  /** The first (oldest) event of `#pending`, undefined when it is empty. */
  #head: PendingEvent | undefined;
  /** The stamp of the record being read (one object, reused: records are read one at a time). */
  readonly #stamp: Stamp = { time: undefined, serial: undefined, interpreted: false, end: 0 };
  #seq = 0;
  #newestTime = Number.NEGATIVE_INFINITY;

  constructor(options: ResolvedParseOptions) {
    this.#deniedErrnos = options.deniedErrnos;
    this.#keepFields = options.auditFields;
  }

  parseLine(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    const c = line.charCodeAt(0);
    // ausearch block separators: `----` and `time->Sat Nov 28 08:18:04 2026`.
    if (c === 45 && /^-{4,}\s*$/.test(line)) return true;
    if (c === 116 && line.startsWith('time->')) return true;
    let start = 0;
    let any = false;
    for (;;) {
      const next = this.#record(line, start, lineNo, out, any);
      if (next === -1) break;
      any = true;
      if (next >= line.length) break;
      start = next;
    }
    if (any) return true;
    return this.#loose(line, lineNo, out);
  }

  end(out: ParsedRecord[]): void {
    for (const p of this.#pending.values()) this.#emit(p, out);
    this.#pending.clear();
    this.#head = undefined;
  }

  /**
   * Reads the record starting at or after `start`. Returns the index where a further
   * record on the same line starts, `line.length` when none, or -1 when there is no record.
   */
  #record(line: string, start: number, lineNo: number, out: ParsedRecord[], continuation: boolean): number {
    let typeAt: number;
    let node: string | undefined;
    if (
      line.charCodeAt(start) === 116 &&
      line.charCodeAt(start + 1) === 121 &&
      line.charCodeAt(start + 2) === 112 &&
      line.charCodeAt(start + 3) === 101 &&
      line.charCodeAt(start + 4) === 61
    ) {
      // `type=`
      typeAt = start + 5;
    } else if (line.startsWith('node=', start)) {
      const sp = line.indexOf(' ', start);
      if (sp === -1) return -1;
      node = line.slice(start + 5, sp);
      let t = sp;
      while (line.charCodeAt(t) === 32) t++;
      if (!line.startsWith('type=', t)) return -1;
      typeAt = t + 5;
    } else if (!continuation) {
      // Prefixed forms: syslog/journal/dmesg (`… kernel: [ 1.2] audit: type=1400 audit(…)`),
      // grep output (`audit.log:type=AVC msg=audit(…)`).
      const a = line.indexOf('audit(', start);
      if (a === -1) return -1;
      const t = line.lastIndexOf('type=', a);
      if (t === -1 || t < start) return -1;
      typeAt = t + 5;
      const n = line.lastIndexOf('node=', t);
      if (n !== -1 && n >= start) node = line.slice(n + 5, valueEnd(line, n + 5, t));
    } else {
      return -1;
    }
    // The usual types are recognised with their trailing space, which also ends the token.
    let type = knownType(line, typeAt);
    let typeEnd: number;
    if (type !== undefined) typeEnd = typeAt + type.length;
    else {
      typeEnd = line.indexOf(' ', typeAt);
      if (typeEnd === -1) typeEnd = line.length;
    }
    // auditd's own form first: ` msg=audit(` right after the type. (`audit(` cannot overlap
    // itself, so one found there is the first after the type.)
    const a = line.startsWith('audit(', typeEnd + 5) ? typeEnd + 5 : line.indexOf('audit(', typeEnd);
    if (a === -1 || a - typeEnd > MAX_TYPE_TO_STAMP) {
      // `type=` without a stamp: not an audit record (e.g. a strace argument) unless the
      // line starts like one.
      if (start === 0 && typeAt === 5) return this.#malformed(line, lineNo, out, 'no audit(…) stamp');
      return -1;
    }
    const stamp = this.#stamp;
    if (!fastStamp(line, a + 6, stamp)) {
      const slow = readStamp(line, a + 6);
      if (slow === undefined) return this.#malformed(line, lineNo, out, 'unreadable audit(…) stamp');
      stamp.time = slow.time;
      stamp.serial = slow.serial;
      stamp.interpreted = slow.interpreted;
      stamp.end = slow.end;
    }
    if (type === undefined) {
      type = line.slice(typeAt, typeEnd);
      const t0 = type.charCodeAt(0);
      if (t0 >= 48 && t0 <= 57) type = recordTypeName(Number(type));
      else if (type.startsWith('UNKNOWN[')) {
        const nr = Number(type.slice(8, -1));
        if (Number.isInteger(nr)) type = recordTypeName(nr);
      }
    }
    // Body: after `): ` (or ausearch -i's `) : `), up to a following record on this line.
    let body = stamp.end;
    while (body < line.length) {
      const ch = line.charCodeAt(body);
      if (ch !== 58 && ch !== 32) break;
      body++;
    }
    let recEnd = line.length;
    let next = line.length;
    const m = nextRecordStamp(line, body);
    if (m !== -1) {
      const t = line.lastIndexOf(' type=', m);
      if (t >= body) {
        recEnd = t;
        next = t + 1;
      }
    }
    let rawEnd = recEnd;
    const gs = line.indexOf(GS, body);
    if (gs !== -1 && gs < recEnd) rawEnd = gs;
    this.#add(line, lineNo, type, node, stamp, body, rawEnd, recEnd, out);
    return next;
  }

  #add(
    line: string,
    lineNo: number,
    type: string,
    node: string | undefined,
    stamp: Stamp,
    body: number,
    rawEnd: number,
    recEnd: number,
    out: ParsedRecord[],
  ): void {
    const seq = ++this.#seq;
    const { serial, time } = stamp;
    if (time !== undefined && time > this.#newestTime) this.#newestTime = time;
    const key = serial === undefined ? -1 : node === undefined ? serial : `${node}:${serial}`;
    let p = serial === undefined ? undefined : this.#pending.get(key);
    if (type === 'EOE') {
      if (p !== undefined) {
        this.#pending.delete(key);
        if (p === this.#head) this.#head = this.#first();
        this.#emit(p, out);
      }
      return;
    }
    let held = true;
    if (p === undefined) {
      p = this.#event(key, serial, time, line, lineNo, stamp.interpreted);
      // Serial-less lines (the seed's `audit(1234)`) and userspace messages stand alone.
      held = serial !== undefined && !isSingleRecordType(type);
      if (held) {
        if (this.#pending.size === 0) this.#head = p;
        this.#pending.set(key, p);
      }
    }
    p.lastSeq = seq;
    p.addType(type);
    this.#fill(p, line, lineNo, type, body, rawEnd, recEnd);
    if (!held) this.#emit(p, out);
    this.#expire(key, seq, out);
  }

  /** A fresh event, recycled from the emitted ones when possible. */
  #event(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ): PendingEvent {
    const p = this.#free.pop();
    if (p === undefined) return new PendingEvent(key, serial, time, line, lineNo, interpreted);
    p.init(key, serial, time, line, lineNo, interpreted);
    return p;
  }

  /** Emits a complete event and takes it (and its syscall records) back for reuse. */
  #emit(p: PendingEvent, out: ParsedRecord[]): void {
    p.emit(out, this.#deniedErrnos);
    for (let i = 0; i < p.syscallCount; i++) freeRecord(p.syscalls[i]!);
    if (this.#free.length < MAX_FREE) this.#free.push(p);
  }

  /** Completes events that are over: old by records or audit time, or past the cap. */
  #expire(current: number | string, seq: number, out: ParsedRecord[]): void {
    const pending = this.#pending;
    if (pending.size <= 1) return;
    // The loop below stops at the oldest event unless it is over: decide that on `#head`
    // without starting an iteration (the usual case, once per record).
    const head = this.#head!;
    if (
      pending.size <= MAX_PENDING &&
      (head.key === current ||
        !(
          seq - head.lastSeq > AGE_RECORDS ||
          (head.time !== undefined && this.#newestTime - head.time > AGE_MS)
        ))
    ) {
      return;
    }
    for (const p of pending.values()) {
      if (p.key === current) {
        if (pending.size <= MAX_PENDING) break;
        continue;
      }
      const old =
        pending.size > MAX_PENDING ||
        seq - p.lastSeq > AGE_RECORDS ||
        (p.time !== undefined && this.#newestTime - p.time > AGE_MS);
      if (!old) break;
      pending.delete(p.key);
      this.#emit(p, out);
    }
    this.#head = this.#first();
  }

  /** The oldest pending event (Map order is insertion order). */
  #first(): PendingEvent | undefined {
    for (const p of this.#pending.values()) return p;
    return undefined;
  }

  /** Takes what the event keeps from one record of type `type`. */
  #fill(
    p: PendingEvent,
    line: string,
    lineNo: number,
    type: string,
    body: number,
    rawEnd: number,
    recEnd: number,
  ): void {
    switch (type) {
      case 'SYSCALL':
      case 'SECCOMP': {
        const rec =
          type === 'SECCOMP'
            ? readSeccompRecord(line, lineNo, body, rawEnd, p.interpreted)
            : readSyscallRecord(line, lineNo, body, rawEnd, p.interpreted);
        // ENRICHED-only values, where the raw part lacks them.
        if (rawEnd < recEnd) {
          if (rec.arch === undefined) rec.arch = rawField(line, 'ARCH=', rawEnd + 1, recEnd);
          if (rec.syscall === undefined && rec.nr < 0) {
            const s = rawField(line, 'SYSCALL=', rawEnd + 1, recEnd);
            if (s !== undefined && !s.startsWith('unknown')) rec.syscall = s;
          }
        }
        p.addSyscall(rec);
        break;
      }
      case 'EXECVE':
        readExecve(p, line, body, rawEnd);
        break;
      case 'CWD':
        if (!p.cwdSeen) {
          const v = findValue(line, 'cwd=', body, rawEnd);
          if (v !== -1) {
            p.cwdSeen = true;
            p.cwd = decodeAt(line, v, valueEnd(line, v, rawEnd), p.interpreted);
          }
        }
        break;
      case 'PATH': {
        const v = findValue(line, 'name=', body, rawEnd);
        if (v !== -1) {
          const name = decodeAt(line, v, valueEnd(line, v, rawEnd), p.interpreted);
          p.addPath(name, p.pathCount < MAX_PATHS ? intField(line, 'item=', body, rawEnd) : undefined);
        }
        break;
      }
      case 'PROCTITLE':
        if (!p.proctitleSeen) {
          const v = findValue(line, 'proctitle=', body, rawEnd);
          if (v !== -1) {
            p.proctitleSeen = true;
            p.proctitle = proctitleValue(line, v, rawEnd, p.interpreted);
          }
        }
        break;
      default:
        if (!AUX_TYPES.has(type)) {
          if (p.ids === undefined) {
            p.ids = identity(line, body, rawEnd, p.interpreted);
            p.pid = intField(line, 'pid=', body, rawEnd);
          }
          const avc = readAvc(line, body, rawEnd, type);
          if (avc !== undefined) {
            if (p.avc === undefined || (avc.denied && !p.avcDenied)) {
              p.avc = avc;
              p.avcLine = line;
              p.avcLineNo = lineNo;
            }
            if (avc.denied) p.avcDenied = true;
          }
        }
    }
    if (this.#keepFields) keepFields(p, line, type, body, rawEnd);
  }

  /** The seed's loose forms: lines with `syscall=` or an AVC/AppArmor verdict but no stamp. */
  #loose(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    const s = findValue(line, 'syscall=', 0, line.length);
    const end = line.length;
    if (s !== -1) {
      let e = s;
      while (e < end) {
        const ch = line.charCodeAt(e);
        const word = (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95;
        if (!word) break;
        e++;
      }
      if (e === s) return false;
      const p = new PendingEvent(-1, undefined, undefined, line, lineNo, false);
      const success = rawField(line, 'success=', 0, end);
      const rec = syscallRecord(line, lineNo, false);
      rec.arch = rawField(line, 'arch=', 0, end);
      rec.syscall = line.slice(s, e);
      rec.success = success === undefined ? undefined : success === 'yes';
      rec.exit = rawField(line, 'exit=', 0, end);
      rec.pid = intField(line, 'pid=', 0, end);
      rec.code = rawField(line, 'code=', 0, end);
      rec.sig = rawField(line, 'sig=', 0, end);
      readIdentity(rec, line, 0, end, false);
      p.addSyscall(rec);
      const avc = readAvc(line, 0, end, '');
      if (avc !== undefined) p.avc = avc;
      // Seed wording: a verdict word anywhere outside a value (`… action=blocked denied`).
      p.avcDenied = (avc?.denied ?? false) || looseVerdict(line);
      if (rec.code !== undefined) rec.seccomp = true;
      p.addType(rec.seccomp ? 'SECCOMP' : 'SYSCALL');
      p.emit(out, this.#deniedErrnos);
      if (rec.seccomp && p.avcDenied) {
        // A blocking word on a loose seccomp line wins over an unreadable code.
        const last = out[out.length - 1];
        if (last?.kind === 'syscall') last.denied = true;
      }
      return true;
    }
    const avc = readAvc(line, 0, end, '');
    if (avc === undefined) return false;
    const p = new PendingEvent(-1, undefined, undefined, line, lineNo, false);
    p.addType('AVC');
    p.avc = avc;
    p.avcDenied = avc.denied;
    p.avcLine = line;
    p.avcLineNo = lineNo;
    p.ids = identity(line, 0, end, false);
    p.pid = intField(line, 'pid=', 0, end);
    p.emit(out, this.#deniedErrnos);
    return true;
  }

  #malformed(line: string, lineNo: number, out: ParsedRecord[], why: string): number {
    out.push({
      kind: 'issue',
      code: 'malformed_audit_record',
      message: `line ${lineNo}: audit record with ${why}`,
      raw: line.length > 240 ? line.slice(0, 240) : line,
      line: lineNo,
    });
    return line.length;
  }
}

/**
 * auditd's usual stamp, `SEC.MMM:SERIAL)` at `i`, read in one pass into `stamp`. Returns
 * false for any other shape, which `readStamp` then reads (same result where both apply).
 */
function fastStamp(line: string, i: number, stamp: Stamp): boolean {
  let k = i;
  let sec = 0;
  let d = line.charCodeAt(k) - 48;
  if (d < 0 || d > 9) return false;
  do {
    sec = sec * 10 + d;
    d = line.charCodeAt(++k) - 48;
  } while (d >= 0 && d <= 9);
  if (line.charCodeAt(k) !== 46) return false;
  const d1 = line.charCodeAt(k + 1) - 48;
  const d2 = line.charCodeAt(k + 2) - 48;
  const d3 = line.charCodeAt(k + 3) - 48;
  if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || line.charCodeAt(k + 4) !== 58) return false;
  k += 5;
  let serial = 0;
  d = line.charCodeAt(k) - 48;
  if (d < 0 || d > 9) return false;
  do {
    serial = serial * 10 + d;
    d = line.charCodeAt(++k) - 48;
  } while (d >= 0 && d <= 9);
  if (line.charCodeAt(k) !== 41 || k - i > 40) return false;
  stamp.time = sec * 1000 + d1 * 100 + d2 * 10 + d3;
  stamp.serial = serial;
  stamp.interpreted = false;
  stamp.end = k + 1;
  return true;
}

/**
 * The record type names of auditd's syscall events, with the space that ends them, matched
 * in place (no slice, no lookup): narrowed by first letter, then one native compare (cheaper
 * than a compare loop). Undefined for any other type, or one that ends the line.
 */
function knownType(line: string, at: number): string | undefined {
  switch (line.charCodeAt(at)) {
    case 80: // P
      if (line.startsWith('PATH ', at)) return 'PATH';
      return line.startsWith('PROCTITLE ', at) ? 'PROCTITLE' : undefined;
    case 83: // S
      if (line.startsWith('SYSCALL ', at)) return 'SYSCALL';
      if (line.startsWith('SOCKADDR ', at)) return 'SOCKADDR';
      return line.startsWith('SECCOMP ', at) ? 'SECCOMP' : undefined;
    case 67: // C
      return line.startsWith('CWD ', at) ? 'CWD' : undefined;
    case 69: // E
      if (line.startsWith('EXECVE ', at)) return 'EXECVE';
      return line.startsWith('EOE ', at) ? 'EOE' : undefined;
    case 65: // A
      return line.startsWith('AVC ', at) ? 'AVC' : undefined;
    default:
      return undefined;
  }
}

/**
 * Index of the first `msg=audit(` at or after `from`, or -1: found through its `(`, which is
 * rare in a record (a one-character search is several times cheaper than a pattern search).
 */
function nextRecordStamp(line: string, from: number): number {
  let q = line.indexOf('(', from + 9);
  while (q !== -1) {
    if (line.charCodeAt(q - 1) === 116 && line.startsWith('msg=audit', q - 9)) return q - 9;
    q = line.indexOf('(', q + 1);
  }
  return -1;
}

/**
 * Reads `SEC.MS:SERIAL)` (or ausearch -i's `MM/DD/YY HH:MM:SS.mmm:SERIAL)`, read as UTC since
 * the zone is not printed; or the seed's serial-less `SEC)`) starting at `i`.
 */
function readStamp(line: string, i: number): Stamp | undefined {
  const close = line.indexOf(')', i);
  if (close === -1 || close - i > 40) return undefined;
  const colon = line.lastIndexOf(':', close);
  let serial: number | undefined;
  let timeEnd = close;
  if (colon > i) {
    const s = allDigits(line, colon + 1, close) ? parseIntAt(line, colon + 1, close) : undefined;
    if (s !== undefined) {
      serial = s;
      timeEnd = colon;
    }
  }
  const slash = line.indexOf('/', i);
  if (slash !== -1 && slash < timeEnd) {
    const time = readDate(line.slice(i, timeEnd));
    if (time === undefined) return undefined;
    return { time, serial, interpreted: true, end: close + 1 };
  }
  const sec = parseIntAt(line, i, timeEnd);
  if (sec === undefined || sec < 0) return undefined;
  let j = i;
  while (j < timeEnd && line.charCodeAt(j) !== 46) j++;
  if (!allDigits(line, i, j)) return undefined;
  let ms = 0;
  if (j < timeEnd) {
    // Fraction: milliseconds as auditd prints them; longer fractions are cut, not rounded.
    let scale = 100;
    for (let k = j + 1; k < timeEnd; k++) {
      const d = line.charCodeAt(k) - 48;
      if (d < 0 || d > 9) return undefined;
      ms += d * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  return { time: sec * 1000 + ms, serial, interpreted: false, end: close + 1 };
}

function allDigits(line: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let k = from; k < to; k++) {
    const d = line.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** `11/28/26 08:18:04.639` (or a 4-digit year) → epoch ms, as UTC. */
function readDate(text: string): number | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2,4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (m === null) return undefined;
  let year = Number(m[3]);
  if (year < 100) year += 2000;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  return Date.UTC(year, Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

/** Syscall records of emitted events, for reuse. */
const freeRecords: SyscallRecord[] = [];

function freeRecord(rec: SyscallRecord): void {
  if (freeRecords.length < MAX_FREE) freeRecords.push(rec);
}

/** A SyscallRecord with nothing read yet (one shape for every record). */
function syscallRecord(line: string, lineNo: number, seccomp: boolean): SyscallRecord {
  const rec = freeRecords.pop();
  if (rec === undefined) {
    return {
      line,
      lineNo,
      arch: undefined,
      syscall: undefined,
      nr: -1,
      success: undefined,
      exit: undefined,
      pid: undefined,
      code: undefined,
      sig: undefined,
      uid: undefined,
      auid: undefined,
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
  rec.pid = undefined;
  rec.code = undefined;
  rec.sig = undefined;
  rec.uid = undefined;
  rec.auid = undefined;
  rec.comm = undefined;
  rec.exe = undefined;
  rec.key = undefined;
  rec.seccomp = seccomp;
  return rec;
}

/** Bounds of the value `seek` found (module scratch: records are read one at a time). */
let valueStart = 0;
let valueStop = 0;

/**
 * Finds `keyEq`'s value from `at` on, else from `body` on (a field out of the usual order);
 * sets `valueStart`/`valueStop`.
 */
function seek(line: string, keyEq: string, at: number, body: number, to: number): boolean {
  let v = findValue(line, keyEq, at, to);
  if (v === -1 && at !== body) v = findValue(line, keyEq, body, to);
  if (v === -1) return false;
  valueStart = v;
  valueStop = valueEnd(line, v, to);
  return true;
}

/**
 * `seek` for a value that is usually a plain decimal: reads its digits and finds its end in
 * one pass. Sets `valueNumber` to the value (1–15 digits ended by a space, tab or the record
 * end), else to -1 with the bounds found as `seek` finds them.
 */
let valueNumber = -1;

function seekNumber(line: string, keyEq: string, at: number, body: number, to: number): boolean {
  let v = findValue(line, keyEq, at, to);
  if (v === -1 && at !== body) v = findValue(line, keyEq, body, to);
  if (v === -1) return false;
  valueStart = v;
  let n = 0;
  let i = v;
  let d = line.charCodeAt(i) - 48;
  while (d >= 0 && d <= 9 && i < to) {
    n = n * 10 + d;
    d = line.charCodeAt(++i) - 48;
  }
  const stop = line.charCodeAt(i);
  if (i > v && i - v <= 15 && (i === to || stop === 32 || stop === 9)) {
    valueStop = i;
    valueNumber = n;
  } else {
    valueStop = valueEnd(line, v, to);
    valueNumber = -1;
  }
  return true;
}

/** The latest `arch=` text: one arch per log is the rule, so its text is reused, not sliced again. */
let lastArch = '';

function archAt(line: string, from: number, to: number): string {
  if (to - from === lastArch.length && line.startsWith(lastArch, from)) return lastArch;
  lastArch = line.slice(from, to);
  return lastArch;
}

/** `uid=`/`auid=` value → number (as `idNumber` reads it). */
function idAt(line: string, from: number, to: number): number | undefined {
  const n = digitsAt(line, from, to);
  return n >= 0 ? n : idNumber(line.slice(from, to));
}

/**
 * A SYSCALL record's fields. The kernel writes them in a fixed order (arch syscall success
 * exit a0..a3 items ppid pid auid uid … comm exe subj key), so each search starts where the
 * previous field was found, falling back to the whole body when a field is elsewhere: one
 * pass over the line instead of ten. Values are read in place: only `arch`, a non-numeric
 * `syscall` and `exit` are kept as text; the identity is decoded now.
 */
function readSyscallRecord(
  line: string,
  lineNo: number,
  body: number,
  to: number,
  interpreted: boolean,
): SyscallRecord {
  const rec = syscallRecord(line, lineNo, false);
  let at = body;
  if (seek(line, 'arch=', at, body, to)) {
    rec.arch = archAt(line, valueStart, valueStop);
    at = valueStop;
  }
  if (seekNumber(line, 'syscall=', at, body, to)) {
    if (valueNumber >= 0) rec.nr = valueNumber;
    else {
      const nr = digitsAt(line, valueStart, valueStop);
      if (nr >= 0) rec.nr = nr;
      else rec.syscall = line.slice(valueStart, valueStop);
    }
    at = valueStop;
  }
  if (seek(line, 'success=', at, body, to)) {
    rec.success =
      valueStop - valueStart === 3 &&
      line.charCodeAt(valueStart) === 121 &&
      line.charCodeAt(valueStart + 1) === 101 &&
      line.charCodeAt(valueStart + 2) === 115;
    at = valueStop;
  }
  if (seek(line, 'exit=', at, body, to)) {
    rec.exit = line.slice(valueStart, valueStop);
    at = valueStop;
  }
  if (seekNumber(line, 'pid=', at, body, to)) {
    rec.pid = valueNumber >= 0 ? valueNumber : parseIntAt(line, valueStart, valueStop);
    at = valueStop;
  }
  if (seekNumber(line, 'auid=', at, body, to)) {
    rec.auid = valueNumber >= 0 ? valueNumber : idAt(line, valueStart, valueStop);
    at = valueStop;
  }
  if (seekNumber(line, 'uid=', at, body, to)) {
    rec.uid = valueNumber >= 0 ? valueNumber : idAt(line, valueStart, valueStop);
    at = valueStop;
  }
  if (seek(line, 'comm=', at, body, to)) {
    rec.comm = decodeAt(line, valueStart, valueStop, interpreted);
    at = valueStop;
  }
  if (seek(line, 'exe=', at, body, to)) {
    rec.exe = decodeAt(line, valueStart, valueStop, interpreted);
    at = valueStop;
  }
  if (seek(line, 'key=', at, body, to)) rec.key = decodeAt(line, valueStart, valueStop, interpreted);
  return rec;
}

/** A SECCOMP record's fields (their order varies between kernels: each is searched in the whole body). */
function readSeccompRecord(
  line: string,
  lineNo: number,
  body: number,
  to: number,
  interpreted: boolean,
): SyscallRecord {
  const rec = syscallRecord(line, lineNo, true);
  rec.arch = rawField(line, 'arch=', body, to);
  rec.syscall = rawField(line, 'syscall=', body, to);
  rec.pid = intField(line, 'pid=', body, to);
  rec.code = rawField(line, 'code=', body, to);
  rec.sig = rawField(line, 'sig=', body, to);
  readIdentity(rec, line, body, to, interpreted);
  return rec;
}

/** Reads the identity fields of `line[from, to)` into `ids`, decoded. */
function readIdentity(ids: Identity, line: string, from: number, to: number, interpreted: boolean): void {
  let v = findValue(line, 'uid=', from, to);
  if (v !== -1) ids.uid = idAt(line, v, valueEnd(line, v, to));
  v = findValue(line, 'auid=', from, to);
  if (v !== -1) ids.auid = idAt(line, v, valueEnd(line, v, to));
  v = findValue(line, 'comm=', from, to);
  if (v !== -1) ids.comm = decodeAt(line, v, valueEnd(line, v, to), interpreted);
  v = findValue(line, 'exe=', from, to);
  if (v !== -1) ids.exe = decodeAt(line, v, valueEnd(line, v, to), interpreted);
  v = findValue(line, 'key=', from, to);
  if (v !== -1) ids.key = decodeAt(line, v, valueEnd(line, v, to), interpreted);
}

function identity(line: string, from: number, to: number, interpreted: boolean): Identity {
  const ids: Identity = { uid: undefined, auid: undefined, comm: undefined, exe: undefined, key: undefined };
  readIdentity(ids, line, from, to, interpreted);
  return ids;
}

/**
 * AVC facts of a record: AppArmor `apparmor="DENIED" operation=… profile=… name=…` (AVC,
 * USER_AVC msg='…', dbus lines), SELinux `avc:  denied  { read } for … name=…`, and the old
 * APPARMOR_* record types. SELinux `permissive=1` denials were logged, not enforced.
 */
function readAvc(line: string, from: number, to: number, type: string): AvcFacts | undefined {
  const aa = rawField(line, 'apparmor=', from, to);
  if (aa !== undefined) {
    const result = decodeValue(aa) ?? aa;
    return {
      lsm: 'apparmor',
      result,
      operation: decodedField(line, 'operation=', from, to),
      profile: decodedField(line, 'profile=', from, to),
      name: decodedField(line, 'name=', from, to),
      denied: result.toUpperCase() === 'DENIED',
    };
  }
  const avc = line.indexOf('avc:', from);
  if (avc !== -1 && avc < to) {
    let i = avc + 4;
    while (line.charCodeAt(i) === 32) i++;
    let e = i;
    while (e < to && line.charCodeAt(e) !== 32) e++;
    const result = line.slice(i, e);
    if (result !== 'denied' && result !== 'granted') return undefined;
    let operation: string | undefined;
    const open = line.indexOf('{', e);
    if (open !== -1 && open < to) {
      const close = line.indexOf('}', open);
      if (close !== -1 && close < to) operation = line.slice(open + 1, close).trim();
    }
    return {
      lsm: 'selinux',
      result,
      operation,
      profile: rawField(line, 'scontext=', from, to),
      name: decodedField(line, 'name=', from, to),
      denied: result === 'denied' && rawField(line, 'permissive=', from, to) !== '1',
    };
  }
  if (type.startsWith('APPARMOR')) {
    let result = type === 'APPARMOR_DENIED' ? 'DENIED' : type === 'APPARMOR_ALLOWED' ? 'ALLOWED' : '';
    if (type === 'APPARMOR') {
      const word = /^(REJECTING|PERMITTING|AUDITING)\b/.exec(line.slice(from, Math.min(to, from + 16)));
      if (word !== null) result = word[1]!;
    }
    if (result === '') return undefined;
    return {
      lsm: 'apparmor',
      result,
      operation: decodedField(line, 'operation=', from, to),
      profile: decodedField(line, 'profile=', from, to),
      name: decodedField(line, 'name=', from, to),
      denied: result === 'DENIED' || result === 'REJECTING',
    };
  }
  return undefined;
}

function decodedField(line: string, keyEq: string, from: number, to: number): string | undefined {
  const raw = rawField(line, keyEq, from, to);
  return raw === undefined ? undefined : decodeValue(raw);
}

/** A bare verdict word (`denied`, `DENIED`, `blocked`) or a blocking `action=`, as the seed read loose lines. */
function looseVerdict(line: string): boolean {
  return /(?:^|[\s:])(?:denied|DENIED|blocked)(?=$|[\s,.;:])|\baction="?(?:blocked|block|deny|denied|kill\w*|trap|errno)\b/.test(
    line,
  );
}

/** EXECVE `argc=N a0=… a1_len=N a1[0]=… a1[1]=…`: raw values by argument index. */
function readExecve(p: PendingEvent, line: string, from: number, to: number): void {
  p.args ??= [];
  const args = p.args;
  forEachField(line, from, to, (key, raw) => {
    if (key.charCodeAt(0) !== 97 /* a */) return;
    let i = 1;
    let n = 0;
    while (i < key.length) {
      const d = key.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    if (i === 1 || n >= 4096) return;
    if (p.argChars + raw.length > 1 << 21) return;
    if (i === key.length) {
      while (args.length <= n) args.push(undefined);
      args[n] = raw;
      p.argChars += raw.length;
    } else if (key.charCodeAt(i) === 91 /* [ */) {
      const chunk = Number(key.slice(i + 1, -1));
      if (!Number.isInteger(chunk) || chunk < 0 || chunk >= 65536) return;
      while (args.length <= n) args.push(undefined);
      let chunks = args[n];
      if (!Array.isArray(chunks)) {
        chunks = [];
        args[n] = chunks;
      }
      while (chunks.length <= chunk) chunks.push('');
      chunks[chunk] = raw;
      p.argChars += raw.length;
    }
    // a<N>_len only announces the chunks.
  });
}

/** `auditFields: true`: every field of every record, decoded, first occurrence per `TYPE.key`. */
function keepFields(p: PendingEvent, line: string, type: string, from: number, to: number): void {
  p.fields ??= {};
  const fields = p.fields;
  let count = Object.keys(fields).length;
  const visit = (key: string, raw: string): void => {
    if (count >= 512) return;
    const k = `${type}.${key}`;
    if (k in fields) return;
    if (key === 'msg' && raw.charCodeAt(0) === 39) {
      // Userspace records nest their own fields in msg='…'.
      forEachField(raw, 1, raw.length - 1, visit);
      return;
    }
    const v = decodeValue(raw, p.interpreted);
    fields[k] = v ?? raw;
    count++;
  };
  forEachField(line, from, to, visit);
}
