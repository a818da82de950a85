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
import { type AvcFacts, type Identity, PendingEvent, type SyscallRecord } from './audit-event.js';
import {
  decodeValue,
  findValue,
  forEachField,
  intField,
  parseIntAt,
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
    for (const p of this.#pending.values()) p.emit(out, this.#deniedErrnos);
    this.#pending.clear();
  }

  /**
   * Reads the record starting at or after `start`. Returns the index where a further
   * record on the same line starts, `line.length` when none, or -1 when there is no record.
   */
  #record(line: string, start: number, lineNo: number, out: ParsedRecord[], continuation: boolean): number {
    let typeAt: number;
    let node: string | undefined;
    if (line.startsWith('type=', start)) {
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
    let typeEnd = typeAt;
    while (typeEnd < line.length && line.charCodeAt(typeEnd) !== 32) typeEnd++;
    const a = line.indexOf('audit(', typeEnd);
    if (a === -1 || a - typeEnd > MAX_TYPE_TO_STAMP) {
      // `type=` without a stamp: not an audit record (e.g. a strace argument) unless the
      // line starts like one.
      if (start === 0 && typeAt === 5) return this.#malformed(line, lineNo, out, 'no audit(…) stamp');
      return -1;
    }
    const stamp = readStamp(line, a + 6);
    if (stamp === undefined) return this.#malformed(line, lineNo, out, 'unreadable audit(…) stamp');
    let type = line.slice(typeAt, typeEnd);
    const t0 = type.charCodeAt(0);
    if (t0 >= 48 && t0 <= 57) type = recordTypeName(Number(type));
    else if (type.startsWith('UNKNOWN[')) {
      const nr = Number(type.slice(8, -1));
      if (Number.isInteger(nr)) type = recordTypeName(nr);
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
    const m = line.indexOf('msg=audit(', body);
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
        p.emit(out, this.#deniedErrnos);
      }
      return;
    }
    let held = true;
    if (p === undefined) {
      p = new PendingEvent(key, serial, time, line, lineNo, stamp.interpreted);
      // Serial-less lines (the seed's `audit(1234)`) and userspace messages stand alone.
      held = serial !== undefined && !isSingleRecordType(type);
      if (held) {
        this.#pending.set(key, p);
      }
    }
    p.lastSeq = seq;
    p.addType(type);
    this.#fill(p, line, lineNo, type, body, rawEnd, recEnd);
    if (!held) p.emit(out, this.#deniedErrnos);
    this.#expire(key, seq, out);
  }

  /** Completes events that are over: old by records or audit time, or past the cap. */
  #expire(current: number | string, seq: number, out: ParsedRecord[]): void {
    const pending = this.#pending;
    if (pending.size <= 1) return;
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
      p.emit(out, this.#deniedErrnos);
    }
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
        const seccomp = type === 'SECCOMP';
        const rec: SyscallRecord = seccomp
          ? {
              line,
              lineNo,
              arch: rawField(line, 'arch=', body, rawEnd),
              syscall: rawField(line, 'syscall=', body, rawEnd),
              success: undefined,
              exit: undefined,
              pid: intField(line, 'pid=', body, rawEnd),
              code: rawField(line, 'code=', body, rawEnd),
              sig: rawField(line, 'sig=', body, rawEnd),
              ids: identity(line, body, rawEnd),
              seccomp,
            }
          : readSyscallRecord(line, lineNo, body, rawEnd);
        // ENRICHED-only values, where the raw part lacks them.
        if (rawEnd < recEnd) {
          if (rec.arch === undefined) rec.arch = rawField(line, 'ARCH=', rawEnd + 1, recEnd);
          if (rec.syscall === undefined) {
            const s = rawField(line, 'SYSCALL=', rawEnd + 1, recEnd);
            if (s !== undefined && !s.startsWith('unknown')) rec.syscall = s;
          }
        }
        if (p.syscalls === undefined) p.syscalls = [rec];
        else if (p.syscalls.length < 64) p.syscalls.push(rec);
        break;
      }
      case 'EXECVE':
        readExecve(p, line, body, rawEnd);
        break;
      case 'CWD':
        p.cwd ??= rawField(line, 'cwd=', body, rawEnd);
        break;
      case 'PATH': {
        const name = rawField(line, 'name=', body, rawEnd);
        if (name !== undefined) {
          p.paths ??= [];
          if (p.paths.length < 256)
            p.paths.push([intField(line, 'item=', body, rawEnd) ?? p.paths.length, name]);
        }
        break;
      }
      case 'PROCTITLE':
        p.proctitle ??= rawField(line, 'proctitle=', body, rawEnd);
        break;
      default:
        if (!AUX_TYPES.has(type)) {
          if (p.ids === undefined) {
            p.ids = identity(line, body, rawEnd);
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
      const rec: SyscallRecord = {
        line,
        lineNo,
        arch: rawField(line, 'arch=', 0, end),
        syscall: line.slice(s, e),
        success: rawField(line, 'success=', 0, end),
        exit: rawField(line, 'exit=', 0, end),
        pid: intField(line, 'pid=', 0, end),
        code: rawField(line, 'code=', 0, end),
        sig: rawField(line, 'sig=', 0, end),
        ids: identity(line, 0, end),
        seccomp: false,
      };
      p.syscalls = [rec];
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
    p.ids = identity(line, 0, end);
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

/**
 * A SYSCALL record's fields. The kernel writes them in a fixed order (arch syscall success
 * exit a0..a3 items ppid pid auid uid … comm exe subj key), so each search starts where the
 * previous field was found, falling back to the whole body when a field is elsewhere: one
 * pass over the line instead of ten.
 */
function readSyscallRecord(line: string, lineNo: number, body: number, to: number): SyscallRecord {
  let at = body;
  const next = (keyEq: string): string | undefined => {
    let v = findValue(line, keyEq, at, to);
    if (v === -1 && at !== body) v = findValue(line, keyEq, body, to);
    if (v === -1) return undefined;
    const end = valueEnd(line, v, to);
    at = end;
    return line.slice(v, end);
  };
  const arch = next('arch=');
  const syscall = next('syscall=');
  const success = next('success=');
  const exit = next('exit=');
  const pidText = next('pid=');
  const auid = next('auid=');
  const uid = next('uid=');
  const comm = next('comm=');
  const exe = next('exe=');
  const key = next('key=');
  const pid = pidText === undefined ? undefined : parseIntAt(pidText, 0, pidText.length);
  return {
    line,
    lineNo,
    arch,
    syscall,
    success,
    exit,
    pid,
    code: undefined,
    sig: undefined,
    ids: { uid, auid, comm, exe, key },
    seccomp: false,
  };
}

function identity(line: string, from: number, to: number): Identity {
  return {
    uid: rawField(line, 'uid=', from, to),
    auid: rawField(line, 'auid=', from, to),
    comm: rawField(line, 'comm=', from, to),
    exe: rawField(line, 'exe=', from, to),
    key: rawField(line, 'key=', from, to),
  };
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
