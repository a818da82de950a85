/**
 * One audit event being assembled from the records that share its serial, and how it turns
 * into records once complete: a SyscallEvent per SYSCALL (first one) and per SECCOMP record,
 * else one AuditRecordEvent. Record texts are kept raw (still quoted or hex) and decoded only
 * here, once per event.
 */
import { errnoName, errnoNumber, resolveArch, syscallName, syscallNumber } from '../syscalls/index.js';
import type { AuditDetails, AuditRecordEvent, ParsedRecord, SyscallEvent } from '../types.js';
import { decodeProctitle, decodeValue, hexBytes, isHex } from './audit-fields.js';

/** Facts of a SYSCALL or SECCOMP record (raw field texts). */
export interface SyscallRecord {
  line: string;
  lineNo: number;
  /** `arch=` (hex id or name), else the ENRICHED `ARCH=`. */
  arch: string | undefined;
  /** `syscall=` (number or name), else the ENRICHED `SYSCALL=`. */
  syscall: string | undefined;
  success: string | undefined;
  exit: string | undefined;
  pid: number | undefined;
  /** SECCOMP `code=` and `sig=`. */
  code: string | undefined;
  sig: string | undefined;
  ids: Identity;
  seccomp: boolean;
}

/** Who did it: the subject fields common to SYSCALL, SECCOMP, AVC and userspace records. */
export interface Identity {
  uid: string | undefined;
  auid: string | undefined;
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

export class PendingEvent {
  readonly key: number | string;
  readonly serial: number | undefined;
  readonly time: number | undefined;
  /** Record sequence number and audit time of the latest record (for completion by age). */
  lastSeq = 0;
  readonly firstLine: string;
  readonly firstLineNo: number;
  readonly interpreted: boolean;
  types: string[] = [];
  syscalls: SyscallRecord[] | undefined;
  avc: AvcFacts | undefined;
  avcDenied = false;
  avcLine: string | undefined;
  avcLineNo = 0;
  /** Identity and pid from the first non-syscall record that carries them. */
  ids: Identity | undefined;
  pid: number | undefined;
  /** EXECVE: raw a<N> values, or chunk lists for a<N>[i]. */
  args: Array<string | string[] | undefined> | undefined;
  argChars = 0;
  cwd: string | undefined;
  paths: Array<[number, string]> | undefined;
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
    this.key = key;
    this.serial = serial;
    this.time = time;
    this.firstLine = line;
    this.firstLineNo = lineNo;
    this.interpreted = interpreted;
  }

  addType(type: string): void {
    if (this.types.length < MAX_RECORD_TYPES) this.types.push(type);
  }

  /** Appends the records this event stands for to `out`. */
  emit(out: ParsedRecord[], deniedErrnos: ReadonlySet<string>): void {
    const details = this.#details();
    const syscalls = this.syscalls;
    if (syscalls === undefined) {
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
    let sawSyscall = false;
    for (const rec of syscalls) {
      // One event per serial for SYSCALL (a repeated SYSCALL record is part of it); each
      // SECCOMP record is an event of its own.
      if (!rec.seccomp) {
        if (sawSyscall) continue;
        sawSyscall = true;
      }
      out.push(this.#syscallEvent(rec, details, deniedErrnos));
    }
  }

  #syscallEvent(rec: SyscallRecord, base: AuditDetails, deniedErrnos: ReadonlySet<string>): SyscallEvent {
    const audit: AuditDetails = { ...base };
    applyIdentity(audit, rec.ids, this.interpreted);
    const { name, nr, arch } = resolveSyscall(rec.syscall, rec.arch);
    const event: SyscallEvent = {
      kind: 'syscall',
      syscall: name,
      denied: false,
      raw: rec.line,
      source: 'audit',
    };
    event.line = rec.lineNo;
    if (rec.pid !== undefined) event.pid = rec.pid;
    if (this.time !== undefined) event.time = this.time;
    if (nr !== undefined) event.nr = nr;
    if (arch !== undefined) event.arch = arch;
    if (rec.seccomp) {
      const action = seccompAction(rec.code);
      const signal = rec.sig === undefined ? undefined : signalNumber(rec.sig);
      if (action !== undefined) audit.seccompAction = action.name;
      if (signal !== undefined) audit.signal = signal;
      if (action?.errno !== undefined) event.errno = action.errno;
      event.denied = action === undefined ? signal === 31 : action.blocks;
    } else {
      if (rec.success !== undefined) audit.success = rec.success === 'yes';
      if (rec.exit !== undefined) {
        event.ret = rec.exit;
        const { exit, errno } = readExit(rec.exit);
        if (exit !== undefined) audit.exit = exit;
        if (errno !== undefined && audit.success !== true) event.errno = errno;
      }
      event.denied =
        (audit.success === false && event.errno !== undefined && deniedErrnos.has(event.errno)) ||
        this.avcDenied;
    }
    event.audit = audit;
    return event;
  }

  #details(): AuditDetails {
    const d: AuditDetails = { serial: this.serial ?? 0, recordTypes: this.types };
    const interpreted = this.interpreted;
    if (this.ids !== undefined) applyIdentity(d, this.ids, interpreted);
    if (this.args !== undefined) d.argv = decodeArgs(this.args, interpreted);
    if (this.cwd !== undefined) {
      const cwd = decodeValue(this.cwd, interpreted);
      if (cwd !== undefined) d.cwd = cwd;
    }
    if (this.paths !== undefined) {
      const paths: string[] = [];
      for (const [, raw] of this.paths.sort((a, b) => a[0] - b[0])) {
        const p = decodeValue(raw, interpreted);
        if (p !== undefined) paths.push(p);
      }
      d.paths = paths;
    }
    if (this.proctitle !== undefined) {
      const t = decodeProctitle(this.proctitle, interpreted);
      if (t !== undefined) d.proctitle = t;
    }
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

function applyIdentity(d: AuditDetails, ids: Identity, interpreted: boolean): void {
  if (ids.exe !== undefined) {
    const v = decodeValue(ids.exe, interpreted);
    if (v !== undefined) d.exe = v;
  }
  if (ids.comm !== undefined) {
    const v = decodeValue(ids.comm, interpreted);
    if (v !== undefined) d.comm = v;
  }
  if (ids.key !== undefined) {
    const v = decodeValue(ids.key, interpreted);
    if (v !== undefined) d.key = v;
  }
  const uid = idNumber(ids.uid);
  if (uid !== undefined) d.uid = uid;
  const auid = idNumber(ids.auid);
  if (auid !== undefined) d.auid = auid;
}

/** `1000` → 1000; interpreted `unset` → 4294967295 (auid never set); user names → undefined. */
function idNumber(raw: string | undefined): number | undefined {
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
