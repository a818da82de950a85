/**
 * What audit field values mean: ids, syscall names and numbers by arch, exit values and
 * errnos, SECCOMP actions and signals.
 */
import { errnoName, errnoNumber, resolveArch, syscallName, syscallNumber } from '../../syscalls/index.js';

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
export function signalNumber(sig: string): number | undefined {
  const n = Number(sig);
  if (Number.isInteger(n)) return n;
  return SIGNALS.get(sig);
}

/** The signal names ausearch -i prints for SECCOMP `sig=` (a Map: only these names, never inherited keys). */
const SIGNALS: ReadonlyMap<string, number> = new Map([
  ['SIGSYS', 31],
  ['SIGKILL', 9],
  ['SIGSEGV', 11],
  ['SIGABRT', 6],
  ['SIG0', 0],
]);
