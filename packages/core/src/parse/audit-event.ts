/**
 * One audit event being assembled from the records that share its serial, and how it turns
 * into records once complete: a SyscallEvent per SYSCALL (first one) and per SECCOMP record,
 * else one AuditRecordEvent. The values an event keeps are decoded straight from the record
 * line as it is read (no raw copy first); EXECVE arguments, which may come in chunks, are
 * joined and decoded here.
 */
import { errnoName, errnoNumber, resolveArch, syscallName, syscallNumber } from '../syscalls/index.js';
import type { AuditDetails, AuditRecordEvent, ParsedRecord, SyscallEvent } from '../types.js';
import { decodeValue, digitsAt, hexBytes, isHex } from './audit-fields.js';

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
  comm: string | undefined;
  exe: string | undefined;
  key: string | undefined;
}

export interface AvcFacts {
  lsm: 'apparmor' | 'selinux';
  result: string;
  operation: string | undefined;
  profile: string | undefined;
  name: string | undefined;
  denied: boolean;
}

/** Caps on what one event may accumulate (a hostile or broken log must not grow memory). */
export const MAX_ARGS = 4096;
export const MAX_ARG_CHARS = 1 << 21;
export const MAX_PATHS = 256;
export const MAX_RECORD_TYPES = 256;

/**
 * An event being assembled. Instances are reused (`init`) once emitted: an event lives for
 * dozens of records, long enough to be copied by the young-generation GC, so recycling them
 * saves both the allocation and the copying. Arrays kept across reuse (`types`, `syscalls`,
 * `pathNames`) hold `…Count` valid entries.
 */
export class PendingEvent {
  key: number | string = -1;
  serial: number | undefined;
  time: number | undefined;
  /** Record sequence number of the latest record (for completion by age). */
  lastSeq = 0;
  firstLine = '';
  firstLineNo = 0;
  interpreted = false;
  readonly types: string[] = [];
  typeCount = 0;
  readonly syscalls: SyscallRecord[] = [];
  syscallCount = 0;
  avc: AvcFacts | undefined;
  avcDenied = false;
  avcLine: string | undefined;
  avcLineNo = 0;
  /** Identity and pid from the first non-syscall record that carries them (`ids` set). */
  ids: Identity | undefined;
  pid: number | undefined;
  /** EXECVE: raw a<N> values, or chunk lists for a<N>[i]. */
  args: Array<string | string[] | undefined> | undefined;
  argChars = 0;
  /** CWD/PROCTITLE: seen (the first record wins, even when its value decodes to nothing) and decoded. */
  cwdSeen = false;
  cwd: string | undefined;
  /** PATH decoded `name=`s (undefined: `(null)`), in arrival order. */
  readonly pathNames: Array<string | undefined> = [];
  pathCount = 0;
  /** … and their `item=` numbers, only once one is not its arrival index (else undefined). */
  pathItems: number[] | undefined;
  proctitleSeen = false;
  proctitle: string | undefined;
  fields: Record<string, string> | undefined;

  constructor(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ) {
    this.init(key, serial, time, line, lineNo, interpreted);
  }

  /** Makes this a fresh event (all facts cleared). */
  init(
    key: number | string,
    serial: number | undefined,
    time: number | undefined,
    line: string,
    lineNo: number,
    interpreted: boolean,
  ): void {
    this.key = key;
    this.serial = serial;
    this.time = time;
    this.lastSeq = 0;
    this.firstLine = line;
    this.firstLineNo = lineNo;
    this.interpreted = interpreted;
    this.typeCount = 0;
    this.syscallCount = 0;
    this.avc = undefined;
    this.avcDenied = false;
    this.avcLine = undefined;
    this.avcLineNo = 0;
    this.ids = undefined;
    this.pid = undefined;
    this.args = undefined;
    this.argChars = 0;
    this.cwdSeen = false;
    this.cwd = undefined;
    this.pathCount = 0;
    this.pathItems = undefined;
    this.proctitleSeen = false;
    this.proctitle = undefined;
    this.fields = undefined;
  }

  addType(type: string): void {
    if (this.typeCount < MAX_RECORD_TYPES) this.types[this.typeCount++] = type;
  }

  /** Keeps a SYSCALL/SECCOMP record (at most 64 per event). */
  addSyscall(rec: SyscallRecord): void {
    if (this.syscallCount < 64) this.syscalls[this.syscallCount++] = rec;
  }

  /** Keeps a decoded PATH name with its `item=` (undefined: numbered by arrival). */
  addPath(name: string | undefined, item: number | undefined): void {
    const count = this.pathCount;
    if (count >= MAX_PATHS) return;
    const nr = item ?? count;
    if (this.pathItems === undefined && nr !== count) {
      // Not numbered 0, 1, 2 … in arrival order: keep every item number from now on.
      this.pathItems = [];
      for (let i = 0; i < count; i++) this.pathItems.push(i);
    }
    this.pathItems?.push(nr);
    this.pathNames[count] = name;
    this.pathCount = count + 1;
  }

  /** Appends the records this event stands for to `out`. */
  emit(out: ParsedRecord[], deniedErrnos: ReadonlySet<string>): void {
    const syscalls = this.syscalls;
    const count = this.syscallCount;
    if (count === 0) {
      const details = this.#details();
      const event: AuditRecordEvent = {
        kind: 'audit',
        source: 'audit',
        recordTypes: details.recordTypes,
        denied: this.avcDenied,
        raw: this.avcLine ?? this.firstLine,
        line: this.avcLine === undefined ? this.firstLineNo : this.avcLineNo,
        audit: details,
      };
      if (this.time !== undefined) event.time = this.time;
      if (this.serial !== undefined) event.serial = this.serial;
      if (this.pid !== undefined) event.pid = this.pid;
      out.push(event);
      return;
    }
    if (count === 1) {
      // The usual event: its details are built for it alone, no copy needed.
      out.push(this.#syscallEvent(syscalls[0]!, undefined, deniedErrnos));
      return;
    }
    const base = this.#details();
    let sawSyscall = false;
    for (let i = 0; i < count; i++) {
      const rec = syscalls[i]!;
      // One event per serial for SYSCALL (a repeated SYSCALL record is part of it); each
      // SECCOMP record is an event of its own.
      if (!rec.seccomp) {
        if (sawSyscall) continue;
        sawSyscall = true;
      }
      out.push(this.#syscallEvent(rec, base, deniedErrnos));
    }
  }

  /**
   * The event of one SYSCALL/SECCOMP record. `base`: the event's details shared by several
   * records (copied), else they are built for this event alone.
   */
  #syscallEvent(
    rec: SyscallRecord,
    base: AuditDetails | undefined,
    deniedErrnos: ReadonlySet<string>,
  ): SyscallEvent {
    let name: string;
    let nr: number | undefined;
    let arch: string | undefined = rec.arch === undefined ? undefined : resolveArch(rec.arch);
    if (rec.nr >= 0) {
      // Plain decimal number: resolveSyscall's numeric case without the text.
      nr = rec.nr;
      const table = arch ?? (rec.arch === undefined ? 'x86_64' : undefined);
      if (arch === 'x86_64' && nr >= 0x40000000) arch = 'x32';
      name = (table === undefined ? undefined : syscallName(nr, table)) ?? `syscall_${nr}`;
    } else {
      const r = resolveSyscall(rec.syscall, rec.arch);
      name = r.name;
      nr = r.nr;
      arch = r.arch;
    }
    let ret: string | undefined;
    let errno: string | undefined;
    let denied: boolean;
    let exit: number | undefined;
    let action: ReturnType<typeof seccompAction>;
    let signal: number | undefined;
    const success = rec.success;
    if (rec.seccomp) {
      action = seccompAction(rec.code);
      signal = rec.sig === undefined ? undefined : signalNumber(rec.sig);
      errno = action?.errno;
      denied = action === undefined ? signal === 31 : action.blocks;
    } else {
      const text = rec.exit;
      if (text !== undefined) {
        ret = text;
        let exitErrno: string | undefined;
        const neg = text.charCodeAt(0) === 45;
        const n = digitsAt(text, neg ? 1 : 0, text.length);
        if (n >= 0) {
          // Plain decimal: readExit's numeric case.
          exit = neg ? -n : n;
          exitErrno = exit < 0 && exit > -4096 ? errnoName(-exit) : undefined;
        } else {
          const r = readExit(text);
          exit = r.exit;
          exitErrno = r.errno;
        }
        if (exitErrno !== undefined && success !== true) errno = exitErrno;
      }
      denied = (success === false && errno !== undefined && deniedErrnos.has(errno)) || this.avcDenied;
    }
    let audit: AuditDetails | undefined;
    if (base === undefined && success !== undefined && exit !== undefined)
      audit = this.#usualDetails(rec, success, exit);
    if (audit === undefined) {
      audit = base === undefined ? this.#details() : { ...base };
      applyIdentity(audit, rec);
      if (rec.seccomp) {
        if (action !== undefined) audit.seccompAction = action.name;
        if (signal !== undefined) audit.signal = signal;
      } else {
        if (success !== undefined) audit.success = success;
        if (exit !== undefined) audit.exit = exit;
      }
    }
    const pid = rec.pid;
    const time = this.time;
    const raw = rec.line;
    const line = rec.lineNo;
    if (
      pid !== undefined &&
      time !== undefined &&
      nr !== undefined &&
      arch !== undefined &&
      ret !== undefined
    ) {
      // auditd's usual SYSCALL record: the whole event in one literal (an object grown key by
      // key reallocates its property store several times).
      return errno === undefined
        ? {
            kind: 'syscall',
            syscall: name,
            denied,
            raw,
            source: 'audit',
            line,
            pid,
            time,
            nr,
            arch,
            ret,
            audit,
          }
        : {
            kind: 'syscall',
            syscall: name,
            denied,
            raw,
            source: 'audit',
            line,
            pid,
            time,
            nr,
            arch,
            ret,
            errno,
            audit,
          };
    }
    const event: SyscallEvent = { kind: 'syscall', syscall: name, denied, raw, source: 'audit' };
    event.line = line;
    if (pid !== undefined) event.pid = pid;
    if (time !== undefined) event.time = time;
    if (nr !== undefined) event.nr = nr;
    if (arch !== undefined) event.arch = arch;
    if (ret !== undefined) event.ret = ret;
    if (errno !== undefined) event.errno = errno;
    event.audit = audit;
    return event;
  }

  /**
   * The details of auditd's usual SYSCALL event (CWD, PATH and PROCTITLE records, subject
   * fields, success and exit; EXECVE and `key=` or not) as one literal, key order as
   * `#details` + `applyIdentity` give it: an object grown key by key reallocates its property
   * store several times. Undefined for any other event.
   */
  #usualDetails(rec: SyscallRecord, success: boolean, exit: number): AuditDetails | undefined {
    const { cwd, proctitle } = this;
    const { exe, comm, key, uid, auid } = rec;
    if (
      this.ids !== undefined ||
      this.avc !== undefined ||
      this.fields !== undefined ||
      cwd === undefined ||
      this.pathCount === 0 ||
      proctitle === undefined ||
      exe === undefined ||
      comm === undefined ||
      uid === undefined ||
      auid === undefined
    ) {
      return undefined;
    }
    const serial = this.serial ?? 0;
    const recordTypes = this.types.slice(0, this.typeCount);
    const paths = pathList(this.pathNames, this.pathCount, this.pathItems);
    if (this.args === undefined) {
      return key === undefined
        ? { serial, recordTypes, cwd, paths, proctitle, exe, comm, uid, auid, success, exit }
        : { serial, recordTypes, cwd, paths, proctitle, exe, comm, key, uid, auid, success, exit };
    }
    const argv = decodeArgs(this.args, this.interpreted);
    return key === undefined
      ? { serial, recordTypes, argv, cwd, paths, proctitle, exe, comm, uid, auid, success, exit }
      : { serial, recordTypes, argv, cwd, paths, proctitle, exe, comm, key, uid, auid, success, exit };
  }

  #details(): AuditDetails {
    const d: AuditDetails = { serial: this.serial ?? 0, recordTypes: this.types.slice(0, this.typeCount) };
    const interpreted = this.interpreted;
    if (this.ids !== undefined) applyIdentity(d, this.ids);
    if (this.args !== undefined) d.argv = decodeArgs(this.args, interpreted);
    if (this.cwd !== undefined) d.cwd = this.cwd;
    if (this.pathCount > 0) d.paths = pathList(this.pathNames, this.pathCount, this.pathItems);
    if (this.proctitle !== undefined) d.proctitle = this.proctitle;
    if (this.avc !== undefined) {
      const { lsm, result, operation, profile, name } = this.avc;
      const avc: NonNullable<AuditDetails['avc']> = { lsm, result };
      if (operation !== undefined) avc.operation = operation;
      if (profile !== undefined) avc.profile = profile;
      if (name !== undefined) avc.name = name;
      d.avc = avc;
    }
    if (this.fields !== undefined) d.fields = this.fields;
    return d;
  }
}

/** Decoded PATH names ordered by `item=` (arrival order among equal items), `(null)`s left out. */
function pathList(names: Array<string | undefined>, count: number, items: number[] | undefined): string[] {
  let sorted = true;
  if (items !== undefined) {
    for (let i = 1; i < count; i++) {
      if (items[i]! < items[i - 1]!) {
        sorted = false;
        break;
      }
    }
  }
  const paths: string[] = [];
  if (sorted) {
    let i = 0;
    while (i < count && names[i] !== undefined) i++;
    // The usual case: every name decoded, in order (one exact-size copy).
    if (i === count) return names.slice(0, count) as string[];
    for (i = 0; i < count; i++) {
      const p = names[i];
      if (p !== undefined) paths.push(p);
    }
    return paths;
  }
  // A stable sort by item=.
  const order = items!.map((_, i) => i).sort((a, b) => items![a]! - items![b]!);
  for (const i of order) {
    const p = names[i];
    if (p !== undefined) paths.push(p);
  }
  return paths;
}

function applyIdentity(d: AuditDetails, ids: Identity): void {
  if (ids.exe !== undefined) d.exe = ids.exe;
  if (ids.comm !== undefined) d.comm = ids.comm;
  if (ids.key !== undefined) d.key = ids.key;
  if (ids.uid !== undefined) d.uid = ids.uid;
  if (ids.auid !== undefined) d.auid = ids.auid;
}

/** `1000` → 1000; interpreted `unset` → 4294967295 (auid never set); user names → undefined. */
export function idNumber(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'unset') return 4294967295;
  const n = Number(raw);
  return Number.isInteger(n) && raw.length > 0 ? n : undefined;
}

/**
 * Syscall name, number and arch from raw `syscall=` / `arch=` texts. Numbers resolve
 * through the arch's table (x86_64 when none; the x32 table for x86_64 numbers with the x32
 * bit); names (ausearch -i, ENRICHED, the seed's loose lines) are mapped to the kernel's
 * name through their number (`pread` → `pread64`). An unknown number becomes `syscall_<nr>`.
 */
export function resolveSyscall(
  syscall: string | undefined,
  archField: string | undefined,
): { name: string; nr: number | undefined; arch: string | undefined } {
  let arch: string | undefined = archField === undefined ? undefined : resolveArch(archField);
  const table = arch ?? (archField === undefined ? 'x86_64' : undefined);
  if (syscall === undefined || syscall.length === 0) return { name: 'unknown', nr: undefined, arch };
  const c = syscall.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const nr = Number(syscall);
    if (!Number.isInteger(nr)) return { name: syscall, nr: undefined, arch };
    if (arch === 'x86_64' && nr >= 0x40000000) arch = 'x32';
    const name = table === undefined ? undefined : syscallName(nr, table);
    return { name: name ?? `syscall_${nr}`, nr, arch };
  }
  if (table === undefined) return { name: syscall, nr: undefined, arch };
  const nr = syscallNumber(syscall, table);
  if (nr === undefined) return { name: syscall, nr: undefined, arch };
  if (arch === 'x86_64' && nr >= 0x40000000) arch = 'x32';
  return { name: syscallName(nr, table) ?? syscall, nr, arch };
}

/** `exit=-13` → {-13, EACCES}; interpreted `EACCES(Permission denied)` → {-13, EACCES}. */
export function readExit(text: string): { exit: number | undefined; errno: string | undefined } {
  const c = text.charCodeAt(0);
  if (c === 45 || (c >= 48 && c <= 57)) {
    const exit = Number(text);
    if (!Number.isFinite(exit)) return { exit: undefined, errno: undefined };
    const errno = exit < 0 && exit > -4096 ? errnoName(-exit) : undefined;
    return { exit, errno };
  }
  const paren = text.indexOf('(');
  const name = paren === -1 ? text : text.slice(0, paren);
  const nr = errnoNumber(name);
  return nr === undefined ? { exit: undefined, errno: undefined } : { exit: -nr, errno: name };
}

/** SECCOMP_RET_* actions (include/uapi/linux/seccomp.h), by `code & 0xffff0000`. */
const SECCOMP_ACTIONS: ReadonlyMap<number, string> = new Map([
  [0x80000000, 'kill_process'],
  [0x00000000, 'kill_thread'],
  [0x00030000, 'trap'],
  [0x00050000, 'errno'],
  [0x7fc00000, 'user_notif'],
  [0x7ff00000, 'trace'],
  [0x7ffc0000, 'log'],
  [0x7fff0000, 'allow'],
]);

/**
 * The action of a SECCOMP `code=` (hex, or ausearch -i's name). Every action but `log` and
 * `allow` stops the call as made: killed, trapped, failed with an errno, or handed to a tracer
 * or supervisor. `errno` carries its errno name (`code=0x50001` → EPERM).
 */
export function seccompAction(
  code: string | undefined,
): { name: string; blocks: boolean; errno?: string } | undefined {
  if (code === undefined) return undefined;
  let name: string | undefined;
  let data = -1;
  if (code.startsWith('0x') || code.startsWith('0X')) {
    const n = Number.parseInt(code.slice(2), 16);
    if (!Number.isFinite(n)) return undefined;
    name = SECCOMP_ACTIONS.get((n & 0xffff0000) >>> 0);
    data = n & 0xffff;
  } else {
    name = code.toLowerCase().replace(/-/g, '_');
    if (name === 'kill') name = 'kill_process';
    else if (name === 'notify') name = 'user_notif';
    if (![...SECCOMP_ACTIONS.values()].includes(name)) return undefined;
  }
  if (name === undefined) return undefined;
  const action: { name: string; blocks: boolean; errno?: string } = {
    name,
    blocks: name !== 'log' && name !== 'allow',
  };
  if (name === 'errno' && data > 0) {
    const errno = errnoName(data);
    if (errno !== undefined) action.errno = errno;
  }
  return action;
}

/** `sig=31` or interpreted `sig=SIGSYS` → 31. */
function signalNumber(sig: string): number | undefined {
  const n = Number(sig);
  if (Number.isInteger(n)) return n;
  const names: Record<string, number> = { SIGSYS: 31, SIGKILL: 9, SIGSEGV: 11, SIGABRT: 6, SIG0: 0 };
  return names[sig];
}

const utf8 = new TextDecoder('utf-8');

function decodeArgs(args: Array<string | string[] | undefined>, interpreted: boolean): string[] {
  const argv: string[] = [];
  for (const a of args) {
    if (a === undefined) argv.push('');
    else if (typeof a === 'string') argv.push(decodeValue(a, interpreted) ?? '');
    else {
      // a<N>[i] chunks: all hex (the argument needed encoding) or all quoted.
      const joined = a.join('');
      if (!interpreted && isHex(joined) && !a.some((c) => c.charCodeAt(0) === 34)) {
        argv.push(utf8.decode(hexBytes(joined)));
      } else {
        argv.push(a.map((chunk) => decodeValue(chunk, interpreted) ?? '').join(''));
      }
    }
  }
  return argv;
}
