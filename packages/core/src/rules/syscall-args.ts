/**
 * Reading strace's printed arguments for `evt.arg[N]`, `evt.arg.NAME` and the open-mode
 * fields (`evt.is_open_write`, …). Only events a rule looks at pay for this, once each.
 */

import type { AuditDetails } from '../types.js';

/** Splits strace's argument text at top-level commas (quotes, `{}`, `[]`, `()`, `<…>` decorations, comments). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    // `3</etc/passwd>`: a -y decoration right after a value, never a comparison in strace output.
    else if (c === '<' && i > start && text[i - 1] !== ' ') depth++;
    else if (c === '>' && depth > 0 && text[i - 1] !== '-') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  const last = text.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/**
 * A number followed by the name of its constant in a C comment, as `strace -X verbose`
 * prints constants (`0x10`, then `PTRACE_ATTACH` commented; `0x10020000`, then
 * `CLONE_NEWNS|CLONE_NEWUSER`).
 */
const NAMED_NUMBER = /(?:0x[0-9a-f]+|-?\d+) \/\* ([A-Z][A-Z0-9_]*(?:\|[A-Z][A-Z0-9_]*)*) \*\//g;

/** The text of a quoted strace string with C escapes decoded; other values as printed, without a `<…>` decoration. */
export function argValue(raw: string): string {
  if (raw.startsWith('"')) {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i]!;
      if (c === '"') break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = raw[++i];
      if (e === undefined) break;
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'x') {
        out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (e >= '0' && e <= '7') {
        let j = i;
        while (j < i + 3 && raw[j]! >= '0' && raw[j]! <= '7') j++;
        out += String.fromCharCode(Number.parseInt(raw.slice(i, j), 8));
        i = j - 1;
      } else out += e;
    }
    return out;
  }
  // `strace -X verbose` prints a constant as its number and its name: `0x10 /* PTRACE_ATTACH */`.
  // The name is what strace prints by default, and what rules compare against.
  if (raw.endsWith(' */') && raw.indexOf('"') === -1) return raw.replace(NAMED_NUMBER, '$1');
  const deco = raw.indexOf('<');
  return deco > 0 && raw.endsWith('>') ? raw.slice(0, deco) : raw;
}

/** Falco's argument names per syscall, for `evt.arg.NAME` (strace's order). */
const ARG_NAMES: Readonly<Record<string, readonly string[]>> = {
  open: ['name', 'flags', 'mode'],
  openat: ['dirfd', 'name', 'flags', 'mode'],
  openat2: ['dirfd', 'name', 'how', 'size'],
  creat: ['name', 'mode'],
  execve: ['filename', 'argv', 'envp'],
  execveat: ['dirfd', 'pathname', 'argv', 'envp', 'flags'],
  connect: ['fd', 'addr', 'addrlen'],
  bind: ['fd', 'addr', 'addrlen'],
  accept: ['fd', 'addr', 'addrlen'],
  accept4: ['fd', 'addr', 'addrlen', 'flags'],
  sendto: ['fd', 'data', 'size', 'flags', 'addr', 'addrlen'],
  socket: ['domain', 'type', 'proto'],
  ptrace: ['request', 'pid', 'addr', 'data'],
  process_vm_readv: ['pid', 'local_iov', 'liovcnt', 'remote_iov', 'riovcnt', 'flags'],
  process_vm_writev: ['pid', 'local_iov', 'liovcnt', 'remote_iov', 'riovcnt', 'flags'],
  kill: ['pid', 'sig'],
  tkill: ['tid', 'sig'],
  tgkill: ['pid', 'tid', 'sig'],
  unshare: ['flags'],
  setns: ['fd', 'nstype'],
  mount: ['dev', 'dir', 'type', 'flags', 'data'],
  umount2: ['name', 'flags'],
  chmod: ['filename', 'mode'],
  fchmod: ['fd', 'mode'],
  fchmodat: ['dirfd', 'filename', 'mode', 'flags'],
  chown: ['path', 'uid', 'gid'],
  rename: ['oldpath', 'newpath'],
  renameat: ['olddirfd', 'oldpath', 'newdirfd', 'newpath'],
  renameat2: ['olddirfd', 'oldpath', 'newdirfd', 'newpath', 'flags'],
  link: ['oldpath', 'newpath'],
  linkat: ['olddir', 'oldpath', 'newdir', 'newpath', 'flags'],
  symlink: ['target', 'linkpath'],
  symlinkat: ['target', 'linkdirfd', 'linkpath'],
  unlink: ['path'],
  unlinkat: ['dirfd', 'name', 'flags'],
  mkdir: ['path', 'mode'],
  mkdirat: ['dirfd', 'path', 'mode'],
  chdir: ['path'],
  bpf: ['cmd', 'attr', 'size'],
  init_module: ['img', 'length', 'uargs'],
  finit_module: ['fd', 'uargs', 'flags'],
  delete_module: ['name', 'flags'],
  kexec_load: ['entry', 'nr_segments', 'segments', 'flags'],
  kexec_file_load: ['kernel_fd', 'initrd_fd', 'cmdline_len', 'cmdline', 'flags'],
  setuid: ['uid'],
  setgid: ['gid'],
  setresuid: ['ruid', 'euid', 'suid'],
  memfd_create: ['name', 'flags'],
  mprotect: ['addr', 'length', 'prot'],
  prctl: ['option', 'arg2', 'arg3', 'arg4', 'arg5'],
  read: ['fd', 'data', 'size'],
  write: ['fd', 'data', 'size'],
  close: ['fd'],
  dup2: ['oldfd', 'newfd'],
  dup3: ['oldfd', 'newfd', 'flags'],
};

/** Index of argument `name` of `syscall`, or -1. */
export function argIndex(syscall: string, name: string): number {
  return ARG_NAMES[syscall]?.indexOf(name) ?? -1;
}

/** A `key=value` argument (strace prints `clone(child_stack=NULL, flags=…)`), by key. */
export function keyedArg(args: readonly string[], name: string): string | undefined {
  const prefix = `${name}=`;
  for (const a of args) if (a.startsWith(prefix)) return a.slice(prefix.length);
  return undefined;
}

/** How a file was opened, from the flags (and mode) strace printed. */
export interface OpenMode {
  read: boolean;
  write: boolean;
  create: boolean;
  /** Created with an execute bit in the mode. */
  exec: boolean;
}

const OPENS = new Set(['open', 'openat', 'openat2', 'creat']);

/**
 * The open mode of an `open`/`openat`/`openat2`/`creat` call, or undefined for other calls.
 * Reads only what follows the call's last quoted string (the path): the flags and mode are
 * never quoted, so a path naming `O_WRONLY` cannot fake them. Runs for every open event a
 * rule looks at: one pass over the few `O_` flags, no allocation.
 */
export function openMode(syscall: string, argsText: string): OpenMode | undefined {
  if (!OPENS.has(syscall)) return undefined;
  const from = argsText.lastIndexOf('"') + 1;
  if (syscall === 'creat')
    return { read: false, write: true, create: true, exec: execBits(argsText, from, syscall) };
  let at = argsText.indexOf('O_', from);
  if (at < 0) return from > 0 ? numberedOpenMode(syscall, argsText, from) : undefined;
  let wronly = false;
  let rdwr = false;
  let path = false;
  let create = false;
  let trunc = false;
  for (; at >= 0; at = argsText.indexOf('O_', at + 2)) {
    const c = argsText.charCodeAt(at + 2);
    // Only the first letter decides between the flags that matter; startsWith confirms.
    if (c === 87 /* W */) wronly ||= argsText.startsWith('WRONLY', at + 2);
    else if (c === 82 /* R */) rdwr ||= argsText.startsWith('RDWR', at + 2);
    else if (c === 80 /* P */) path ||= argsText.startsWith('PATH', at + 2);
    else if (c === 67 /* C */) create ||= argsText.startsWith('CREAT', at + 2);
    else if (c === 84 /* T */) {
      trunc ||= argsText.startsWith('TRUNC', at + 2);
      create ||= argsText.startsWith('TMPFILE', at + 2);
    }
  }
  const read = !wronly && !path;
  const write = wronly || rdwr || (!read && trunc);
  return modeOf(read, write, create, create && execBits(argsText, from, syscall));
}

/**
 * The open mode of flags printed as a number, as `strace -X raw` prints them
 * (`openat(-100, "/x", 0x241, 0666)`, `openat2(-100, "/x", {flags=0x80000, …}, 24)`).
 */
function numberedOpenMode(syscall: string, argsText: string, from: number): OpenMode | undefined {
  const at = syscall === 'openat2' ? argsText.indexOf('flags=', from) + 6 : argsText.indexOf(',', from) + 1;
  if (at < from + 1) return undefined;
  const token = /^\s*(0x[0-9a-f]+|\d+)/i.exec(argsText.slice(at, at + 24));
  if (token === null) return undefined;
  const text = token[1] as string;
  const flags =
    text.startsWith('0x') || text.startsWith('0X')
      ? Number.parseInt(text, 16)
      : Number.parseInt(text, text.startsWith('0') ? 8 : 10);
  const { read, write, create } = flagsMode(flags);
  return modeOf(read, write, create, create && execBits(argsText, from, syscall));
}

/** What open flags (a number) ask for: the same bits on every Linux arch syscan reads. */
function flagsMode(flags: number): { read: boolean; write: boolean; create: boolean } {
  const access = flags & O_ACCMODE;
  const path = (flags & O_PATH) !== 0;
  const read = access !== O_WRONLY && !path;
  const create = (flags & (O_CREAT | O_TMPFILE)) !== 0;
  const write = access === O_WRONLY || access === O_RDWR || (!read && (flags & O_TRUNC) !== 0);
  return { read, write, create };
}

/** The 16 possible modes, made once: an open event costs no allocation. */
const MODES: readonly OpenMode[] = Array.from({ length: 16 }, (_, bits) =>
  Object.freeze({
    read: (bits & 1) !== 0,
    write: (bits & 2) !== 0,
    create: (bits & 4) !== 0,
    exec: (bits & 8) !== 0,
  }),
);

function modeOf(read: boolean, write: boolean, create: boolean, exec: boolean): OpenMode {
  return MODES[(read ? 1 : 0) | (write ? 2 : 0) | (create ? 4 : 0) | (exec ? 8 : 0)]!;
}

/** Whether the mode argument (or openat2's `mode=`) has an execute bit. */
function execBits(argsText: string, from: number, syscall: string): boolean {
  const at = syscall === 'openat2' ? argsText.indexOf('mode=0', from) + 5 : argsText.lastIndexOf(', 0') + 2;
  if (at < from + 2) return false;
  return (Number.parseInt(argsText.slice(at), 8) & 0o111) !== 0;
}

/** The mode argument of chmod/fchmod/fchmodat, as a number. */
export function chmodMode(syscall: string, args: readonly string[]): number | undefined {
  const at = syscall === 'chmod' || syscall === 'fchmod' ? 1 : syscall === 'fchmodat' ? 2 : -1;
  const text = at < 0 ? undefined : args[at];
  if (text === undefined || !/^0[0-7]*$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

/** Generic Linux open flag bits (x86, arm, aarch64, riscv agree on these). */
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_PATH = 0o10000000;
const O_TMPFILE = 0o20000000;

/** Argument registers (a0…a3) holding the flags and the mode, per open call. */
const AUDIT_OPEN_ARGS: Readonly<Record<string, readonly [flags: number, mode: number]>> = {
  open: [1, 2],
  openat: [2, 3],
};

/** Where an audit event's argument registers are: its `registers`, or its kept fields. */
type AuditArgSource = Pick<AuditDetails, 'fields' | 'registers'>;

/**
 * The open mode of an audit SYSCALL record, from its `aN` registers (hex, as auditd logs
 * them): the event's `registers`, or its kept fields (`auditFields: true`). Undefined when
 * the record does not say.
 */
export function auditOpenMode(syscall: string, audit: AuditArgSource | undefined): OpenMode | undefined {
  if (audit === undefined) return undefined;
  const { fields, registers } = audit;
  if (fields === undefined && registers === undefined) return undefined;
  const reg = (n: number): number | undefined => {
    const v = auditRegister(audit, n);
    return v === undefined || !/^[0-9a-f]{1,16}$/i.test(v) ? undefined : Number.parseInt(v, 16);
  };
  if (syscall === 'creat') {
    const mode = reg(1);
    return mode === undefined
      ? undefined
      : { read: false, write: true, create: true, exec: (mode & 0o111) !== 0 };
  }
  const at = AUDIT_OPEN_ARGS[syscall];
  const flags = at === undefined ? undefined : reg(at[0]);
  if (at === undefined || flags === undefined) return undefined;
  const { read, write, create } = flagsMode(flags);
  return { read, write, create, exec: create && ((reg(at[1]) ?? 0) & 0o111) !== 0 };
}

/** `aN`'s value in a record's `a0=… a1=… a2=… a3=…`. */
function registerValue(registers: string | undefined, n: number): string | undefined {
  if (registers === undefined) return undefined;
  const key = `a${n}=`;
  let at = 0;
  if (!registers.startsWith(key)) {
    const i = registers.indexOf(` ${key}`);
    if (i === -1) return undefined;
    at = i + 1;
  }
  const from = at + key.length;
  const end = registers.indexOf(' ', from);
  return registers.slice(from, end === -1 ? registers.length : end);
}

/** What an audit event's registers or kept fields say of `aN` (hex, as logged). */
function auditRegister(audit: AuditArgSource, n: number): string | undefined {
  return audit.fields?.[`SYSCALL.a${n}`] ?? registerValue(audit.registers, n);
}

/**
 * An audit SYSCALL's arguments a0..a3 as decimal numbers (as strace prints numbers), for
 * rules that read `evt.arg.*`; empty when the record did not say. The kernel logs them as
 * unsigned hex: values past 2^53 go through BigInt, so none is rounded.
 */
export function auditArgs(audit: AuditArgSource | undefined): string[] {
  const out: string[] = [];
  if (audit === undefined) return out;
  for (let n = 0; n < 4; n++) {
    const hex = auditRegister(audit, n);
    if (hex === undefined || !/^[0-9a-f]{1,16}$/i.test(hex)) break;
    out.push(hex.length > 13 ? BigInt(`0x${hex}`).toString() : String(Number.parseInt(hex, 16)));
  }
  return out;
}

/** ptrace requests by number (include/uapi/linux/ptrace.h, with x86's register requests). */
const PTRACE_REQUESTS: Readonly<Record<number, string>> = {
  0: 'PTRACE_TRACEME',
  1: 'PTRACE_PEEKTEXT',
  2: 'PTRACE_PEEKDATA',
  3: 'PTRACE_PEEKUSER',
  4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSER',
  7: 'PTRACE_CONT',
  8: 'PTRACE_KILL',
  9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS',
  13: 'PTRACE_SETREGS',
  14: 'PTRACE_GETFPREGS',
  15: 'PTRACE_SETFPREGS',
  16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH',
  18: 'PTRACE_GETFPXREGS',
  19: 'PTRACE_SETFPXREGS',
  24: 'PTRACE_SYSCALL',
  // 0x4200 and up (the formatter writes object keys in decimal).
  16896: 'PTRACE_SETOPTIONS',
  16897: 'PTRACE_GETEVENTMSG',
  16898: 'PTRACE_GETSIGINFO',
  16899: 'PTRACE_SETSIGINFO',
  16900: 'PTRACE_GETREGSET',
  16901: 'PTRACE_SETREGSET',
  16902: 'PTRACE_SEIZE',
  16903: 'PTRACE_INTERRUPT',
  16904: 'PTRACE_LISTEN',
  16905: 'PTRACE_PEEKSIGINFO',
  16906: 'PTRACE_GETSIGMASK',
  16907: 'PTRACE_SETSIGMASK',
  16908: 'PTRACE_SECCOMP_GET_FILTER',
  16909: 'PTRACE_SECCOMP_GET_METADATA',
  16910: 'PTRACE_GET_SYSCALL_INFO',
  16911: 'PTRACE_GET_RSEQ_CONFIGURATION',
};

/** A ptrace request given as a number (`16`, `0x10`) by its name; a name, or an unknown number, as it is. */
export function ptraceRequestName(value: string): string {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(value)) return value;
  return PTRACE_REQUESTS[Number(value)] ?? value;
}
