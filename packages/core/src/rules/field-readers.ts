/**
 * How each field is read from an event and its context (the helpers behind the FIELDS
 * table): processes and ancestors, files, sockets, arguments and open modes.
 */

import { openedPath } from '../context/opened-path.js';
import { cloneFlagNames } from '../context/strace-calls.js';
import type { ProcessInfo, SocketAddress } from '../context/types.js';
import type { SyscallEvent } from '../types.js';
import type { Frame } from './fields.js';
import { parseIp } from './net.js';
import {
  argIndex,
  argValue,
  auditArgs,
  auditOpenMode,
  keyedArg,
  openMode,
  ptraceRequestName,
  splitArgs,
} from './syscall-args.js';

type Arg = number | string | undefined;

/** Calls whose audit record lists the directory (PARENT item) before the file it makes or removes. */
const AUDIT_PARENT_FIRST = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'mknod',
  'mknodat',
  'mkdir',
  'mkdirat',
  'unlink',
  'unlinkat',
  'rmdir',
]);

/**
 * The file a call is about: the first path, except for audit records of calls that create or
 * remove a name, whose PATH items put the PARENT directory first and the file last.
 */
export function mainPath(e: SyscallEvent): string | undefined {
  const paths = e.paths;
  if (paths === undefined || paths.length === 0) return undefined;
  if (e.source === 'audit') {
    return paths.length > 1 && AUDIT_PARENT_FIRST.has(e.syscall) ? paths[paths.length - 1] : paths[0];
  }
  return openedPath(e) ?? paths[0];
}

export function args(frame: Frame): string[] {
  if (frame.args === undefined) {
    const e = frame.event;
    // An audit record has no argument text: its a0..a3 registers are the arguments.
    frame.args = e.source === 'audit' ? auditArgs(e.audit) : splitArgs(e.args ?? '');
  }
  return frame.args;
}

export const SERVER_SIDE_LOCAL = new Set(['accept', 'accept4']);
export const FD_RETURNING = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'socket',
  'accept',
  'accept4',
  'memfd_create',
  'dup',
  'dup2',
  'dup3',
  'eventfd2',
  'pidfd_open',
]);

export function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = text.startsWith('0x') ? Number.parseInt(text, 16) : Number(text);
  return Number.isFinite(n) && text !== '' ? n : undefined;
}

export function proc(f: Frame): ProcessInfo | undefined {
  return f.event.process;
}

/** The n-th ancestor (1 = parent) of the event's process, through the lookup. */
export function ancestor(f: Frame, n: number): ProcessInfo | undefined {
  let p = f.event.process;
  for (let i = 0; i < n && p !== undefined; i++) {
    if (p.ppid === undefined || p.ppid === p.pid || f.lookup === undefined) return undefined;
    p = f.lookup.process(p.ppid);
  }
  return p;
}

/** Every ancestor from the parent up (capped: a pid loop in bad input must not spin). */
export function ancestors(f: Frame): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (let i = 1; i <= 64; i++) {
    const p = ancestor(f, i);
    if (p === undefined) break;
    out.push(p);
  }
  return out;
}

export const name = (p: ProcessInfo | undefined): string | undefined =>
  p?.comm ?? (p?.exe === undefined ? undefined : basename(p.exe).slice(0, 15));
export const exe0 = (p: ProcessInfo | undefined): string | undefined => p?.argv?.[0] ?? p?.exe;
export const argsOf = (p: ProcessInfo | undefined): string | undefined => p?.argv?.slice(1).join(' ');
export function cmdline(p: ProcessInfo | undefined): string | undefined {
  const n = name(p);
  if (n === undefined) return undefined;
  const a = argsOf(p);
  return a === undefined || a === '' ? n : `${n} ${a}`;
}

export function basename(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 || at === path.length - 1 ? path : path.slice(at + 1);
}
export function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 ? '.' : at === 0 ? '/' : path.slice(0, at);
}

export function socketSide(
  f: Frame,
  side: 'server' | 'client' | 'remote' | 'local',
): SocketAddress | undefined {
  const { peer, local } = f.event;
  if (side === 'remote') return peer;
  if (side === 'local') return local;
  const peerIsClient = SERVER_SIDE_LOCAL.has(f.event.syscall);
  return (side === 'server') !== peerIsClient ? peer : local;
}

export function socketText(a: SocketAddress): string {
  if (a.family === 'unix') return a.path ?? '';
  const host = a.address === undefined ? '' : a.address.includes(':') ? `[${a.address}]` : a.address;
  return a.port === undefined ? host : `${host}:${a.port}`;
}

/** Falco's `fd.name`: the file, or `client->server` for a socket. */
export function fdName(f: Frame): string | undefined {
  const { peer, local } = f.event;
  if (peer !== undefined || local !== undefined) {
    const client = socketSide(f, 'client');
    const server = socketSide(f, 'server');
    if (peer?.family === 'unix' || local?.family === 'unix') return (peer ?? local)?.path;
    return client === undefined
      ? socketText(server!)
      : `${socketText(client)}->${server ? socketText(server) : ''}`;
  }
  return framePath(f);
}

/** {@link mainPath} of the frame's event, worked out once. */
export function framePath(f: Frame): string | undefined {
  if (f.path === undefined) {
    const named = mainPath(f.event);
    f.path =
      named === undefined ? null : f.event.syscall.startsWith('symlink') ? named : f.run.resolve(named);
  }
  return f.path ?? undefined;
}

/** fd.directory and fd.filename of the frame's event, split once. */
export function fileParts(f: Frame): Frame {
  if (f.dir === undefined) {
    const p = filePath(f);
    f.dir = p === undefined ? null : dirname(p);
    f.base = p === undefined ? null : basename(p);
  }
  return f;
}

export function filePath(f: Frame): string | undefined {
  return f.event.peer === undefined && f.event.local === undefined ? framePath(f) : undefined;
}

export const ipOf = (a: SocketAddress | undefined): Uint8Array | undefined =>
  a?.address === undefined ? undefined : parseIp(a.address);

export function typechar(f: Frame): string | undefined {
  const s = f.event.peer ?? f.event.local;
  if (s !== undefined) return { inet: '4', inet6: '6', unix: 'u', netlink: 'n', other: 'o' }[s.family];
  return f.event.paths?.[0] === undefined ? undefined : 'f';
}

export function openFlag(f: Frame, key: 'read' | 'write' | 'create' | 'exec'): boolean {
  if (f.open === undefined) {
    const e = f.event;
    f.open =
      (e.source === 'audit' ? auditOpenMode(e.syscall, e.audit) : openMode(e.syscall, e.args ?? '')) ?? null;
  }
  return f.open?.[key] ?? false;
}

export function eventArg(f: Frame, arg: Arg): string | undefined {
  if (arg === 'res') return f.event.ret;
  const list = args(f);
  let raw: string | undefined;
  if (typeof arg === 'number') raw = list[arg];
  else if (arg !== undefined) {
    const at = argIndex(f.event.syscall, arg);
    raw = at >= 0 ? list[at] : keyedArg(list, arg);
  }
  if (raw === undefined) return undefined;
  const value = argValue(raw);
  // A request given as a number (audit's a0, strace -X raw) is named as strace names it.
  return arg === 'request' && f.event.syscall === 'ptrace' ? ptraceRequestName(value) : value;
}

/** Calls whose first register is a set of CLONE_* flags (clone's exit signal in its low byte). */
const CLONE_FLAG_CALLS = new Set(['clone', 'unshare']);

/**
 * `evt.args`: the arguments as printed. An audit record prints none, so its registers are
 * rendered the way strace would print the ones rules look at: clone's and unshare's flags
 * by name (`flags=CLONE_NEWUSER|…`), the rest as decimal numbers.
 */
export function eventArgsText(f: Frame): string | undefined {
  const e = f.event;
  if (e.source !== 'audit') return e.args === undefined ? undefined : namedCloneFlags(e.syscall, e.args);
  const list = args(f);
  if (list.length === 0) return undefined;
  if (!CLONE_FLAG_CALLS.has(e.syscall)) return list.join(', ');
  const bits = Number(BigInt(list[0]!) & 0xffffffffn);
  const names = cloneFlagNames(bits);
  return [`flags=${names.length > 0 ? names.join('|') : '0'}`, ...list.slice(1)].join(', ');
}

/** Where `strace -X raw` printed clone's, clone3's or unshare's flags as a number (`flags=0x10020000|17`, `unshare(0x10000000)`; `-e raw=clone`: `clone(0x10000011, 0, …)`). */
const NUMBERED_CLONE_FLAGS = /^(.*?flags=)(0x[0-9a-f]+)|^()(0x[0-9a-f]+)/;

/**
 * strace's text of a clone, clone3 or unshare with its flags by name as strace prints them
 * by default (`flags=CLONE_NEWNS|CLONE_NEWUSER|17`), where `-X raw` left them a number: rules
 * ask `evt.args contains CLONE_NEW`. Other calls, and named flags, as printed.
 */
function namedCloneFlags(syscall: string, text: string): string {
  if (!(CLONE_FLAG_CALLS.has(syscall) || syscall === 'clone3') || text.includes('CLONE_')) return text;
  const m = NUMBERED_CLONE_FLAGS.exec(text);
  // Only clone's and unshare's first argument is the flags (clone3's is a struct).
  if (m === null || (m[4] !== undefined && syscall === 'clone3')) return text;
  const names = cloneFlagNames(Number.parseInt((m[2] ?? m[4]) as string, 16));
  if (names.length === 0) return text;
  return `${m[1] ?? ''}${names.join('|')}${text.slice(m[0].length)}`;
}

/** The executable the event's process runs (for execve: the file being executed). */
export function runningExe(f: Frame): string | undefined {
  const s = f.event.syscall;
  if ((s === 'execve' || s === 'execveat') && f.event.paths?.[0] !== undefined) return f.event.paths[0];
  return f.event.process?.exe;
}

export function failed(e: SyscallEvent): boolean | undefined {
  if (e.errno !== undefined) return true;
  if (e.ret === undefined || e.ret === '?') return undefined;
  return e.ret.startsWith('-');
}

/** `HH:MM:SS.nnnnnnnnn` of a time in ms (epoch or since midnight: both give the time of day). */
export function clockTime(ms: number): string {
  const day = ((ms % 86_400_000) + 86_400_000) % 86_400_000;
  const whole = Math.floor(day / 1000);
  const ns = Math.round(Number((day - whole * 1000).toFixed(6)) * 1e6);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor(whole / 60) % 60)}:${two(whole % 60)}.${String(Math.min(ns, 999_999_999)).padStart(9, '0')}`;
}
