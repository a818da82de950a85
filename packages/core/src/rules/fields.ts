/**
 * Every field a rule can read, and how each is read from a SyscallEvent and its context.
 * This is the one module that knows the shape of events: when the context tracker changes
 * what it fills in, only this file changes.
 *
 * A field that cannot be read for an event (no process known, not a socket call) is
 * `undefined`, and every comparison on it is false, as in Falco.
 */
import type { ProcessInfo, ProcessLookup, SocketAddress } from '../context/types.js';
import type { SyscallEvent } from '../types.js';
import { parseIp } from './net.js';
import type { RunState } from './run-state.js';
import { argIndex, argValue, keyedArg, type OpenMode, openMode, splitArgs } from './syscall-args.js';

/** How a field's values compare: strings, numbers, booleans, IPs (16 bytes), CIDR-matched IPs, or several strings. */
export type FieldType = 'string' | 'number' | 'bool' | 'ip' | 'ipnet' | 'strings';
export type FieldValue = string | number | boolean | Uint8Array | readonly string[] | undefined;

/** One event being looked at, with what has been worked out about it so far. */
export interface Frame {
  event: SyscallEvent;
  lookup: ProcessLookup | undefined;
  run: RunState;
  /** `splitArgs(event.args)`, computed on first use. */
  args: string[] | undefined;
  /** The open mode (null: not an open call), computed on first use. */
  open: OpenMode | null | undefined;
  /** Directory and file name of the event's file (null: no file), computed on first use. */
  dir: string | null | undefined;
  base: string | null | undefined;
}

/** What a field takes after its name: nothing, `[N]`, `.NAME` / `[NAME]`. */
export type FieldArgKind = 'none' | 'index' | 'optional-index' | 'index-or-name';
type Arg = number | string | undefined;

export interface FieldDef {
  type: FieldType;
  arg: FieldArgKind;
  desc: string;
  get(frame: Frame, arg: Arg): FieldValue;
}

function args(frame: Frame): string[] {
  if (frame.args === undefined) frame.args = splitArgs(frame.event.args ?? '');
  return frame.args;
}

const SERVER_SIDE_LOCAL = new Set(['accept', 'accept4']);
const FD_RETURNING = new Set([
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

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = text.startsWith('0x') ? Number.parseInt(text, 16) : Number(text);
  return Number.isFinite(n) && text !== '' ? n : undefined;
}

function proc(f: Frame): ProcessInfo | undefined {
  return f.event.process;
}

/** The n-th ancestor (1 = parent) of the event's process, through the lookup. */
function ancestor(f: Frame, n: number): ProcessInfo | undefined {
  let p = f.event.process;
  for (let i = 0; i < n && p !== undefined; i++) {
    if (p.ppid === undefined || p.ppid === p.pid || f.lookup === undefined) return undefined;
    p = f.lookup.process(p.ppid);
  }
  return p;
}

/** Every ancestor from the parent up (capped: a pid loop in bad input must not spin). */
function ancestors(f: Frame): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (let i = 1; i <= 64; i++) {
    const p = ancestor(f, i);
    if (p === undefined) break;
    out.push(p);
  }
  return out;
}

const name = (p: ProcessInfo | undefined): string | undefined =>
  p?.comm ?? (p?.exe === undefined ? undefined : basename(p.exe).slice(0, 15));
const exe0 = (p: ProcessInfo | undefined): string | undefined => p?.argv?.[0] ?? p?.exe;
const argsOf = (p: ProcessInfo | undefined): string | undefined => p?.argv?.slice(1).join(' ');
function cmdline(p: ProcessInfo | undefined): string | undefined {
  const n = name(p);
  if (n === undefined) return undefined;
  const a = argsOf(p);
  return a === undefined || a === '' ? n : `${n} ${a}`;
}

export function basename(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 || at === path.length - 1 ? path : path.slice(at + 1);
}
function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 ? '.' : at === 0 ? '/' : path.slice(0, at);
}

function socketSide(f: Frame, side: 'server' | 'client' | 'remote' | 'local'): SocketAddress | undefined {
  const { peer, local } = f.event;
  if (side === 'remote') return peer;
  if (side === 'local') return local;
  const peerIsClient = SERVER_SIDE_LOCAL.has(f.event.syscall);
  return (side === 'server') !== peerIsClient ? peer : local;
}

function socketText(a: SocketAddress): string {
  if (a.family === 'unix') return a.path ?? '';
  const host = a.address === undefined ? '' : a.address.includes(':') ? `[${a.address}]` : a.address;
  return a.port === undefined ? host : `${host}:${a.port}`;
}

/** Falco's `fd.name`: the file, or `client->server` for a socket. */
function fdName(f: Frame): string | undefined {
  const { peer, local } = f.event;
  if (peer !== undefined || local !== undefined) {
    const client = socketSide(f, 'client');
    const server = socketSide(f, 'server');
    if (peer?.family === 'unix' || local?.family === 'unix') return (peer ?? local)?.path;
    return client === undefined
      ? socketText(server!)
      : `${socketText(client)}->${server ? socketText(server) : ''}`;
  }
  return f.event.paths?.[0];
}

/** fd.directory and fd.filename of the frame's event, split once. */
function fileParts(f: Frame): Frame {
  if (f.dir === undefined) {
    const p = filePath(f);
    f.dir = p === undefined ? null : dirname(p);
    f.base = p === undefined ? null : basename(p);
  }
  return f;
}

function filePath(f: Frame): string | undefined {
  return f.event.peer === undefined && f.event.local === undefined ? f.event.paths?.[0] : undefined;
}

const ipOf = (a: SocketAddress | undefined): Uint8Array | undefined =>
  a?.address === undefined ? undefined : parseIp(a.address);

function typechar(f: Frame): string | undefined {
  const s = f.event.peer ?? f.event.local;
  if (s !== undefined) return { inet: '4', inet6: '6', unix: 'u', netlink: 'n', other: 'o' }[s.family];
  return f.event.paths?.[0] === undefined ? undefined : 'f';
}

function openFlag(f: Frame, key: 'read' | 'write' | 'create' | 'exec'): boolean {
  if (f.open === undefined) f.open = openMode(f.event.syscall, f.event.args ?? '') ?? null;
  return f.open?.[key] ?? false;
}

function eventArg(f: Frame, arg: Arg): string | undefined {
  if (arg === 'res') return f.event.ret;
  const list = args(f);
  let raw: string | undefined;
  if (typeof arg === 'number') raw = list[arg];
  else if (arg !== undefined) {
    const at = argIndex(f.event.syscall, arg);
    raw = at >= 0 ? list[at] : keyedArg(list, arg);
  }
  return raw === undefined ? undefined : argValue(raw);
}

/** The executable the event's process runs (for execve: the file being executed). */
function runningExe(f: Frame): string | undefined {
  const s = f.event.syscall;
  if ((s === 'execve' || s === 'execveat') && f.event.paths?.[0] !== undefined) return f.event.paths[0];
  return f.event.process?.exe;
}

function failed(e: SyscallEvent): boolean | undefined {
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

const field = (
  type: FieldType,
  desc: string,
  get: FieldDef['get'],
  arg: FieldArgKind = 'none',
): FieldDef => ({
  type,
  arg,
  desc,
  get,
});

/** The fields syscan supplies, by Falco name (plus `syscan.*` extensions). */
export const FIELDS: ReadonlyMap<string, FieldDef> = new Map<string, FieldDef>([
  ['evt.type', field('string', 'syscall name', (f) => f.event.syscall)],
  [
    'evt.dir',
    field('string', "'<' for a completed call, '>' for one seen only entering", (f) =>
      f.event.unfinished ? '>' : '<',
    ),
  ],
  [
    'evt.res',
    field('string', "'SUCCESS' or the errno name", (f) =>
      failed(f.event) === undefined
        ? undefined
        : (f.event.errno ?? (failed(f.event) ? f.event.ret : 'SUCCESS')),
    ),
  ],
  ['evt.rawres', field('number', 'return value as a number', (f) => num(f.event.ret))],
  ['evt.failed', field('bool', 'the call returned an error', (f) => failed(f.event))],
  [
    'evt.time',
    field('string', 'event time, HH:MM:SS.nnnnnnnnn (UTC)', (f) =>
      f.event.time === undefined ? undefined : clockTime(f.event.time),
    ),
  ],
  ['evt.num', field('number', 'input line number', (f) => f.event.line)],
  ['evt.args', field('string', 'arguments as printed', (f) => f.event.args)],
  ['evt.arg', field('string', 'one argument: evt.arg[N] or evt.arg.NAME', eventArg, 'index-or-name')],
  ['evt.rawarg', field('string', 'one argument as printed: evt.rawarg.NAME', eventArg, 'index-or-name')],
  ['evt.is_open_read', field('bool', 'open call for reading', (f) => openFlag(f, 'read'))],
  ['evt.is_open_write', field('bool', 'open call for writing', (f) => openFlag(f, 'write'))],
  ['evt.is_open_create', field('bool', 'open call that may create the file', (f) => openFlag(f, 'create'))],
  [
    'evt.is_open_exec',
    field('bool', 'open call that creates an executable file', (f) => openFlag(f, 'exec')),
  ],
  ['evt.hostname', field('string', 'host that logged the event', (f) => f.event.host)],
  ['evt.source', field('string', "always 'syscall'", () => 'syscall')],
  ['evt.abspath', field('string', 'the absolute path the call names', (f) => f.event.paths?.[0])],
  [
    'fd.num',
    field('number', 'file descriptor returned or used', (f) =>
      FD_RETURNING.has(f.event.syscall)
        ? num(f.event.ret)
        : argIndex(f.event.syscall, 'fd') === 0
          ? num(argValue(args(f)[0] ?? ''))
          : undefined,
    ),
  ],
  ['fd.name', field('string', 'file path, or client->server for sockets', fdName)],
  ['fd.directory', field('string', 'directory of the file', (f) => fileParts(f).dir ?? undefined)],
  ['fd.filename', field('string', 'file name without directory', (f) => fileParts(f).base ?? undefined)],
  ['fd.typechar', field('string', 'f file, 4 IPv4, 6 IPv6, u unix, n netlink', typechar)],
  [
    'fd.type',
    field(
      'string',
      'file, ipv4, ipv6, unix, netlink',
      (f) => ({ f: 'file', 4: 'ipv4', 6: 'ipv6', u: 'unix', n: 'netlink', o: undefined })[typechar(f) ?? 'o'],
    ),
  ],
  [
    'fd.sockfamily',
    field('string', 'ip or unix', (f) => {
      const s = f.event.peer ?? f.event.local;
      return s === undefined ? undefined : s.family === 'inet' || s.family === 'inet6' ? 'ip' : s.family;
    }),
  ],
  [
    'fd.l4proto',
    field('string', 'tcp, udp or raw', (f) => {
      const p = (f.event.peer ?? f.event.local)?.protocol;
      return p === 'other' ? undefined : p;
    }),
  ],
  ['fd.sip', field('ip', 'server IP', (f) => ipOf(socketSide(f, 'server')))],
  ['fd.cip', field('ip', 'client IP', (f) => ipOf(socketSide(f, 'client')))],
  ['fd.rip', field('ip', 'remote IP', (f) => ipOf(socketSide(f, 'remote')))],
  ['fd.lip', field('ip', 'local IP', (f) => ipOf(socketSide(f, 'local')))],
  ['fd.sport', field('number', 'server port', (f) => socketSide(f, 'server')?.port)],
  ['fd.cport', field('number', 'client port', (f) => socketSide(f, 'client')?.port)],
  ['fd.rport', field('number', 'remote port', (f) => socketSide(f, 'remote')?.port)],
  ['fd.lport', field('number', 'local port', (f) => socketSide(f, 'local')?.port)],
  ['fd.snet', field('ipnet', 'server IP, compared with CIDRs', (f) => ipOf(socketSide(f, 'server')))],
  ['fd.cnet', field('ipnet', 'client IP, compared with CIDRs', (f) => ipOf(socketSide(f, 'client')))],
  ['fd.rnet', field('ipnet', 'remote IP, compared with CIDRs', (f) => ipOf(socketSide(f, 'remote')))],
  ['fd.lnet', field('ipnet', 'local IP, compared with CIDRs', (f) => ipOf(socketSide(f, 'local')))],
  [
    'fd.is_server',
    field('bool', 'the process is the server end', (f) =>
      f.event.peer === undefined && f.event.local === undefined
        ? undefined
        : SERVER_SIDE_LOCAL.has(f.event.syscall) || f.event.syscall === 'bind',
    ),
  ],
  ['fs.path.name', field('string', 'the path the call operates on', (f) => f.event.paths?.[0])],
  [
    'fs.path.source',
    field('string', 'rename/link source path', (f) =>
      f.event.paths?.length === 2 ? f.event.paths[0] : undefined,
    ),
  ],
  [
    'fs.path.target',
    field('string', 'rename/link target path', (f) =>
      f.event.paths?.length === 2 ? f.event.paths[1] : undefined,
    ),
  ],
  ['proc.pid', field('number', 'process id', (f) => proc(f)?.pid ?? f.event.pid)],
  ['proc.ppid', field('number', 'parent process id', (f) => proc(f)?.ppid)],
  ['thread.tid', field('number', 'thread id (strace pid)', (f) => f.event.pid)],
  ['proc.name', field('string', 'command name (comm, 15 characters)', (f) => name(proc(f)))],
  ['proc.exe', field('string', 'argv[0]', (f) => exe0(proc(f)))],
  ['proc.exepath', field('string', 'full executable path', (f) => proc(f)?.exe)],
  ['proc.args', field('string', 'arguments after argv[0], joined by spaces', (f) => argsOf(proc(f)))],
  ['proc.cmdline', field('string', 'proc.name and proc.args', (f) => cmdline(proc(f)))],
  ['proc.cmdnargs', field('number', 'number of arguments', (f) => proc(f)?.argv?.length)],
  ['proc.cwd', field('string', 'working directory', (f) => proc(f)?.cwd)],
  ['proc.pname', field('string', "parent's name", (f) => name(ancestor(f, 1)))],
  ['proc.pexe', field('string', "parent's argv[0]", (f) => exe0(ancestor(f, 1)))],
  ['proc.pexepath', field('string', "parent's executable path", (f) => ancestor(f, 1)?.exe)],
  ['proc.pcmdline', field('string', "parent's command line", (f) => cmdline(ancestor(f, 1)))],
  [
    'proc.aname',
    field(
      'strings',
      'name of the N-th ancestor (0 = self), or of any ancestor',
      (f, n) =>
        n === undefined
          ? ancestors(f)
              .map(name)
              .filter((x) => x !== undefined)
          : name(ancestor(f, n as number)),
      'optional-index',
    ),
  ],
  [
    'proc.apid',
    field('number', 'pid of the N-th ancestor', (f, n) => ancestor(f, n as number)?.pid, 'index'),
  ],
  [
    'proc.aexe',
    field(
      'strings',
      'argv[0] of the N-th ancestor, or of any',
      (f, n) =>
        n === undefined
          ? ancestors(f)
              .map(exe0)
              .filter((x) => x !== undefined)
          : exe0(ancestor(f, n as number)),
      'optional-index',
    ),
  ],
  [
    'proc.aexepath',
    field(
      'strings',
      'executable path of the N-th ancestor, or of any',
      (f, n) =>
        n === undefined
          ? ancestors(f)
              .map((p) => p.exe)
              .filter((x) => x !== undefined)
          : ancestor(f, n as number)?.exe,
      'optional-index',
    ),
  ],
  [
    'proc.acmdline',
    field(
      'strings',
      'command line of the N-th ancestor, or of any',
      (f, n) =>
        n === undefined
          ? ancestors(f)
              .map(cmdline)
              .filter((x) => x !== undefined)
          : cmdline(ancestor(f, n as number)),
      'optional-index',
    ),
  ],
  ['user.uid', field('number', 'user id', (f) => proc(f)?.uid)],
  ['user.loginuid', field('number', 'login user id (audit auid)', (f) => proc(f)?.auid)],
  ['group.gid', field('number', 'group id', (f) => proc(f)?.gid)],
  [
    'syscan.exe_written',
    field('bool', "the process's executable was written by this run", (f) => {
      const e = runningExe(f);
      return e === undefined ? undefined : f.run.written.has(e);
    }),
  ],
  [
    'syscan.exe_made_executable',
    field('bool', "the process's executable was made executable by this run", (f) => {
      const e = runningExe(f);
      return e === undefined ? undefined : f.run.executable.has(e);
    }),
  ],
]);

/** Fields whose values depend on what the run did before (the evaluator keeps RunState only when a rule reads them). */
export const RUN_STATE_FIELDS: ReadonlySet<string> = new Set([
  'syscan.exe_written',
  'syscan.exe_made_executable',
]);
