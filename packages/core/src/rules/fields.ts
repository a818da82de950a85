/**
 * Every field a rule can read, and how each is read from a SyscallEvent and its context.
 * This table and its readers (`field-readers.ts`) are the only code that knows the shape of
 * events: when the context tracker changes what it fills in, only these two files change.
 *
 * A field that cannot be read for an event (no process known, not a socket call) is
 * `undefined`, and every comparison on it is false, as in Falco.
 */
import type { ProcessLookup } from '../context/types.js';
import type { SyscallEvent } from '../types.js';
import {
  ancestor,
  ancestors,
  args,
  argsOf,
  clockTime,
  cmdline,
  eventArg,
  eventArgsText,
  exe0,
  FD_RETURNING,
  failed,
  fdName,
  fileParts,
  framePath,
  ipOf,
  name,
  num,
  openFlag,
  proc,
  runningExe,
  SERVER_SIDE_LOCAL,
  socketSide,
  typechar,
} from './field-readers.js';
import type { RunState } from './run-state.js';
import { argIndex, argValue, type OpenMode } from './syscall-args.js';

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
  /** The event's file ({@link mainPath}; null: none), computed on first use. */
  path: string | null | undefined;
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
  /** What an output shows, when that differs from the compared values. */
  text?: ((frame: Frame) => string | undefined) | undefined;
}

const MOVES = new Set(['rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat']);

/**
 * The source (`fromEnd` 2) or target (1) of a rename or link: the last two paths, since strace
 * lists `[old, new]` and audit lists its PARENT items first (`[dir, dir, old, new]`).
 */
function movePath(f: Frame, fromEnd: 1 | 2): string | undefined {
  const paths = f.event.paths;
  if (paths === undefined || paths.length < 2 || !MOVES.has(f.event.syscall)) return undefined;
  // The tracker lists a symlink as [new link, what it points to]: the link is the target made.
  const symlink = f.event.syscall.startsWith('symlink');
  return paths[paths.length - (symlink ? 3 - fromEnd : fromEnd)];
}

const ENTER_ONLY: readonly string[] = Object.freeze(['>']);
const ENTER_AND_EXIT: readonly string[] = Object.freeze(['>', '<']);

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
    {
      // A strace line is a call's entry and its exit at once: `evt.dir = >` (Falco's entry-event
      // rules) and `evt.dir = <` both match it; a call seen only entering is just `>`.
      ...field('strings', "'>' entered, '<' completed: a complete call is both", (f) =>
        f.event.unfinished ? ENTER_ONLY : ENTER_AND_EXIT,
      ),
      text: (f) => (f.event.unfinished ? '>' : '<'),
    },
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
  [
    'evt.args',
    field('string', 'arguments as printed (audit: its registers, clone flags by name)', eventArgsText),
  ],
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
  ['evt.abspath', field('string', 'the absolute path the call names', (f) => framePath(f))],
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
  ['fs.path.name', field('string', 'the path the call operates on', (f) => framePath(f))],
  ['fs.path.source', field('string', 'rename/link source path', (f) => movePath(f, 2))],
  ['fs.path.target', field('string', 'rename/link target path', (f) => movePath(f, 1))],
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
  [
    'user.name',
    field(
      'string',
      "user name of the uid, as the log's host named it (audit ENRICHED, ausearch -i)",
      (f) => proc(f)?.user,
    ),
  ],
  ['user.loginname', field('string', 'login user name (of the auid)', (f) => proc(f)?.loginUser)],
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
