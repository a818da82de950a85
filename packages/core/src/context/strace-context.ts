/**
 * Context from strace traces: follows each process through clone/fork, execve, chdir and
 * the set*id calls, keeps its fds, and attaches `process`, `paths`, `peer` and `local` to
 * every syscall event. Only successful calls change state (a denied execve runs nothing);
 * every call, denied or not, gets the paths and peer it named.
 */

import { takeSpawnHint } from '../parse/strace/spawn-hints.js';
import type { ExitRecord, SyscallEvent } from '../types.js';
import { PathArrays } from './path-arrays.js';
import { commOf, dirName, normalizePath, resolvePath } from './paths.js';
import { type FdCap, FdTable, type ProcessTable, TrackedProcess } from './process-table.js';
import { inheritAtSpawn, readSpawn, type SpawnInfo, spawnFlags } from './spawn.js';
import {
  AT_FDCWD,
  argAt,
  decorationText,
  decorEnd,
  decorStart,
  forgetReadFd,
  readCString,
  readCutEntries,
  readEnd,
  readFd,
  readInt,
  readStringArray,
  readTruncated,
} from './strace-args.js';
import { type CallSpec, callSpecOf, Effect, ID_CALLS, ID_GETTERS } from './strace-calls.js';
import { attachSocket, setPeer, trackFds } from './strace-effects.js';
import { fdEntryAt } from './strace-fds.js';

/** Key of the process in a trace whose lines carry no pid (strace without -f). */
const NO_PID = -1;

export interface StraceLimits {
  readonly maxFdsPerProcess: number;
  readonly maxArgs: number;
  readonly maxArgLength: number;
  readonly maxPathsPerEvent: number;
  readonly maxPathLength: number;
}

export class StraceContext {
  readonly #table: ProcessTable;
  readonly #limits: StraceLimits;
  readonly #onSpawn: (spawn: SpawnInfo) => void;
  readonly #fdCap: FdCap;
  readonly #pathArrays: PathArrays;

  constructor(table: ProcessTable, limits: StraceLimits, onSpawn: (spawn: SpawnInfo) => void) {
    this.#table = table;
    this.#limits = limits;
    this.#onSpawn = onSpawn;
    this.#fdCap = { max: limits.maxFdsPerProcess, forgotten: 0 };
    this.#pathArrays = new PathArrays(limits.maxPathLength);
  }

  /** Paths that climb (`../`) out of a working directory the trace never showed, and the first of them. */
  unresolvedPaths = 0;
  firstUnresolved:
    | { path: string; syscall: string; line: number | undefined; pid: number | undefined }
    | undefined;

  /**
   * Counts `path` when it is `..` or `../…`: relative to a working directory nobody showed (no
   * -y, no chdir to an absolute path, no getcwd), it could be anywhere, and path rules cannot
   * judge it. Any path of a call counts (a symlink's target as much as its name).
   */
  #climbed(e: SyscallEvent, path: string): void {
    if (path.charCodeAt(0) !== 46 || path.charCodeAt(1) !== 46) return;
    if (path.length !== 2 && path.charCodeAt(2) !== 47) return; // `..x` is a name
    this.unresolvedPaths++;
    this.firstUnresolved ??= { path, syscall: e.syscall, line: e.line, pid: e.pid };
  }

  /** Open fds forgotten because a process had more than maxFdsPerProcess. */
  get forgottenFds(): number {
    return this.#fdCap.forgotten;
  }

  observe(e: SyscallEvent): void {
    const tid = e.pid ?? NO_PID;
    let proc = this.#table.get(tid);
    // First sight of this pid (an exited one stays for late lines).
    if (proc === undefined) proc = this.#firstSight(e, tid);
    // `-Y` comm (set by the reader on the event): the kernel's own name wins. Threads name
    // themselves (`V8Worker`); the process is named by its leader's.
    const shownComm = e.process?.comm;
    if (shownComm !== undefined && shownComm !== proc.comm && (tid === proc.pid || tid === NO_PID)) {
      proc.comm = shownComm;
      proc.changed();
    }
    // A `<… resumed>` half alone has lost the first arguments: its positions are unknown.
    if (e.resumedOnly !== true && e.args !== undefined) this.#apply(e, proc, tid);
    e.process = proc.snapshot();
  }

  /**
   * A new entry for a pid never seen: the child of the one clone still pending when the
   * parser hints so (see spawn-hints.ts), given what it inherits now rather than when the
   * clone returns; else nothing known yet.
   */
  #firstSight(e: SyscallEvent, tid: number): TrackedProcess {
    const hint = takeSpawnHint(e);
    const parent = hint === undefined || tid === NO_PID ? undefined : this.#table.peek(hint.parent);
    if (hint !== undefined && parent !== undefined && !parent.exited) {
      const flags = spawnFlags(hint.syscall, hint.args);
      if (flags.includes('CLONE_THREAD')) {
        this.#table.set(tid, parent);
        parent.threads++;
        return parent;
      }
      const child = new TrackedProcess(tid, { cwd: undefined }, new FdTable(this.#fdCap));
      inheritAtSpawn(child, parent, flags);
      child.adoptedFrom = parent.pid;
      child.firstLine = e.line;
      this.#table.set(tid, child);
      return child;
    }
    const proc = new TrackedProcess(tid === NO_PID ? 0 : tid, { cwd: undefined }, new FdTable(this.#fdCap));
    proc.firstLine = e.line;
    this.#table.set(tid, proc);
    return proc;
  }

  exit(r: ExitRecord): void {
    this.#table.exit(r.pid ?? NO_PID);
  }

  #apply(e: SyscallEvent, proc: TrackedProcess, tid: number): void {
    const spec = callSpecOf(e.syscall);
    if (spec === undefined) return;
    forgetReadFd();
    if (spec.paths !== undefined) {
      this.#attachPaths(e, proc, spec);
      const paths = e.paths;
      if (paths !== undefined) for (let i = 0; i < paths.length; i++) this.#climbed(e, paths[i]!);
    }
    if (spec.fds !== undefined) this.#attachFds(e, proc, spec.fds);
    if (spec.sockaddr !== undefined || spec.msghdr) attachSocket(e, proc, spec);
    if (spec.effect === Effect.None || !isSuccess(e)) return;
    switch (spec.effect) {
      case Effect.Exec:
        this.#exec(e, proc);
        return;
      case Effect.Chdir:
        if (e.paths !== undefined) this.#setCwd(proc, e.paths[0]);
        return;
      case Effect.Getcwd: {
        // `getcwd("/home/u", 4096) = 8`: the kernel's word for the cwd, without -y or a chdir.
        const cwd = readCString(e.args!, 0, this.#limits.maxPathLength);
        if (cwd !== undefined && cwd.charCodeAt(0) === 47) this.#setCwd(proc, normalizePath(cwd));
        return;
      }
      case Effect.Fchdir: {
        const path = e.paths?.[0];
        if (path !== undefined && path.charCodeAt(0) === 47) this.#setCwd(proc, path);
        return;
      }
      case Effect.Spawn:
        this.#spawn(e, proc, tid);
        return;
      case Effect.PidGetter:
        if (tid === NO_PID) this.#learnPid(e, proc, e.syscall === 'getpid');
        return;
      case Effect.Prctl:
        this.#prctl(e, proc);
        return;
      case Effect.IdGetter:
        this.#idGetter(e, proc);
        return;
      case Effect.IdSetter:
        this.#idSetter(e, proc);
        return;
      default:
        trackFds(e, proc, spec.effect);
    }
  }

  /** Resolves each path argument against its dirfd (or the cwd) and sets `e.paths`. */
  #attachPaths(e: SyscallEvent, proc: TrackedProcess, spec: CallSpec): void {
    const args = e.args!;
    const specs = spec.paths!;
    if (specs.length === 1 && spec.symlinkTarget === undefined) {
      // One path argument seen before (the common call): its shared array. The dirfd is
      // read first, as the long way does, for what its decoration teaches (cwd, fd table);
      // reading it again there when this misses changes nothing.
      // (Indexing, not `const [a, b] =`: destructuring runs the iterator protocol per event.)
      const first = specs[0]!;
      const dirArg = first[0];
      const pathArg = first[1];
      const cwdAt = dirArg === 0 && pathArg === 1 ? pathAfterCwd(args, proc.fs.cwd) : -1;
      if (cwdAt !== -1) {
        // `AT_FDCWD, "…"` or `AT_FDCWD<cwd>, "…"`, the head of most calls: the path is at a
        // known place and resolves against the cwd (what the walk below finds, and from a
        // decoration that shows the cwd already known, it learns nothing).
        const shared = this.#pathArrays.lookup(args, cwdAt, proc.fs.cwd);
        if (shared !== undefined) {
          e.paths = shared;
          return;
        }
      }
      const at = dirArg === 0 && pathArg === 1 ? pathAfterDirfd(args) : argAt(args, pathArg);
      if (at === -1) return;
      const quoted = args.charCodeAt(at) === 34;
      if (quoted && dirArg !== -1 && args.charCodeAt(at + 1) === 34) {
        // `newfstatat(3, "", …, AT_EMPTY_PATH)`: on the dirfd itself, as the long way below
        // finds after decoding the "" (a tenth of plain traces' calls).
        this.#onDirfd(e, proc, args, dirArg);
        return;
      }
      const named = quoted && args.charCodeAt(at + 1) !== 34; // a non-empty string
      const base = named ? this.#dirBase(args, proc, dirArg) : undefined;
      const shared = named ? this.#pathArrays.lookup(args, at, base) : undefined;
      if (shared !== undefined) {
        e.paths = shared;
        return;
      }
    }
    const max = this.#limits.maxPathsPerEvent;
    let paths: string[] | undefined;
    for (let k = 0; k < specs.length; k++) {
      const dirArg = specs[k]![0];
      const pathArg = specs[k]![1];
      const at = dirArg === 0 && pathArg === 1 ? pathAfterDirfd(args) : argAt(args, pathArg);
      if (at === -1) continue;
      const text = readCString(args, at, this.#limits.maxPathLength);
      if (text === undefined) continue;
      if (text === '' && dirArg !== -1 && specs.length === 1) {
        this.#onDirfd(e, proc, args, dirArg);
        return;
      }
      const base = this.#dirBase(args, proc, dirArg);
      const path = text === '' ? base : resolvePath(base, text);
      if (path === undefined || path === '') continue;
      paths ??= [];
      if (paths.length < max) paths.push(path);
    }
    const target = spec.symlinkTarget;
    if (target !== undefined && paths !== undefined && paths.length < max) {
      const at = argAt(args, target);
      const text = at === -1 ? undefined : readCString(args, at, this.#limits.maxPathLength);
      if (text !== undefined && text !== '') paths.push(resolvePath(dirName(paths[0]!), text));
    }
    if (paths !== undefined) e.paths = paths;
  }

  /** `AT_EMPTY_PATH` with "": the call is on the dirfd itself (its shared paths array). */
  #onDirfd(e: SyscallEvent, proc: TrackedProcess, args: string, dirArg: number): void {
    const dirAt = argAt(args, dirArg);
    const entryPaths = dirAt === -1 ? undefined : fdEntryAt(proc.files, args, dirAt)?.paths;
    if (entryPaths !== undefined) e.paths = entryPaths;
  }

  /** The directory a dirfd argument names (its decoration, the fd table, or the cwd). */
  #dirBase(args: string, proc: TrackedProcess, dirArg: number): string | undefined {
    if (dirArg === -1) return proc.fs.cwd;
    const at = argAt(args, dirArg);
    if (at === -1) return proc.fs.cwd;
    const fd = readFd(args, at);
    if (fd === AT_FDCWD) {
      if (decorStart === -1) return proc.fs.cwd;
      // `AT_FDCWD</tmp/x>`: the kernel's own word for the cwd, learnt even without a chdir.
      const cwd = proc.fs.cwd;
      const shown = args.slice(decorStart, decorEnd);
      if (shown === cwd) return cwd;
      this.#setCwd(proc, decorationText(shown, 0, shown.length));
      return proc.fs.cwd;
    }
    if (fd === undefined) return undefined;
    return fdEntryAt(proc.files, args, at)?.path;
  }

  /** Paths (and socket ends) of the fds the call operates on. */
  #attachFds(e: SyscallEvent, proc: TrackedProcess, fdArgs: readonly number[]): void {
    const args = e.args!;
    for (const index of fdArgs) {
      const at = argAt(args, index);
      if (at === -1) continue;
      const entry = fdEntryAt(proc.files, args, at);
      if (entry === undefined) continue;
      const paths = entry.paths;
      if (paths !== undefined) {
        if (e.paths === undefined) e.paths = paths;
        // sendfile/copy_file_range/splice: both ends are named (a new array only for these).
        else if (e.paths !== paths && !e.paths.includes(paths[0]!)) e.paths = [...e.paths, ...paths];
      }
      const sock = entry.socket;
      if (sock !== undefined) {
        if (sock.peer !== undefined && e.peer === undefined) setPeer(e, sock.peer);
        if (sock.local !== undefined && e.local === undefined) e.local = sock.local;
      }
    }
  }

  #exec(e: SyscallEvent, proc: TrackedProcess): void {
    const args = e.args!;
    const path = e.paths?.[0];
    const argvAt = argAt(args, e.syscall === 'execveat' ? 2 : 1);
    const limits = this.#limits;
    const argv =
      argvAt === -1 ? undefined : readStringArray(args, argvAt, limits.maxArgs, limits.maxArgLength);
    proc.argv = argv === undefined ? undefined : Object.freeze(argv);
    proc.argvTruncated = argv !== undefined && readTruncated;
    proc.argvCut =
      argv === undefined || readCutEntries === undefined ? undefined : Object.freeze(readCutEntries);
    if (path !== undefined) {
      proc.exe = path;
      // The kernel names the process after the file it was asked to run, not argv[0].
      const named = argAt(args, e.syscall === 'execveat' ? 1 : 0);
      const text = named === -1 ? undefined : readCString(args, named, limits.maxPathLength);
      proc.comm = commOf(text === undefined || text === '' ? path : text);
    }
    proc.files.closeOnExec();
    proc.changed();
  }

  #setCwd(proc: TrackedProcess, path: string | undefined): void {
    if (path === undefined || path === proc.fs.cwd) return;
    proc.fs.cwd = path;
    proc.changed();
  }

  #spawn(e: SyscallEvent, parent: TrackedProcess, tid: number): void {
    const spawn = readSpawn(e, tid);
    if (spawn === undefined) return;
    const child = spawn.child;
    const table = this.#table;
    const seen = table.peek(child);
    if (spawn.thread) {
      // (Already mapped when its first lines came first, on a spawn hint.)
      if (seen !== parent) {
        table.set(child, parent);
        parent.threads++;
      }
    } else if (seen?.adoptedFrom === parent.pid) {
      // Taken for this clone's child at first sight: it has inherited, and what it did since stays.
      seen.adoptedFrom = undefined;
    } else {
      // Under -f the child's first calls (even its exit) can come before the parent's clone
      // returns: the entry made for them after the clone began (its `<unfinished …>` line)
      // is adopted and given what it inherited; an older one is a previous owner of the pid.
      const began = e.line;
      const early =
        seen !== undefined &&
        seen.ppid === undefined &&
        seen.pid === child &&
        (seen.exited ? began !== undefined && seen.firstLine !== undefined && seen.firstLine > began : true);
      const proc = early ? seen : new TrackedProcess(child, { cwd: undefined }, new FdTable(this.#fdCap));
      inheritAtSpawn(proc, parent, spawn.flags);
      if (!early) table.set(child, proc);
    }
    this.#onSpawn(spawn);
  }

  /** An unprefixed trace learns its pid from getpid/gettid/set_tid_address. */
  #learnPid(e: SyscallEvent, proc: TrackedProcess, authoritative: boolean): void {
    const pid = e.ret === undefined ? undefined : readInt(e.ret, 0);
    if (pid === undefined || pid <= 0) return;
    if (proc.pid !== 0 && !authoritative) return;
    if (proc.pid === pid) return;
    proc.pid = pid;
    proc.changed();
    // Later `[pid N]` lines (strace -f to a terminal prefixes once a child exists) find it.
    if (this.#table.peek(pid) === undefined) this.#table.set(pid, proc);
  }

  #prctl(e: SyscallEvent, proc: TrackedProcess): void {
    const args = e.args!;
    if (!args.startsWith('PR_SET_NAME')) return;
    const at = argAt(args, 1);
    const name = at === -1 ? undefined : readCString(args, at, 64);
    if (name === undefined || name === proc.comm) return;
    proc.comm = name.slice(0, 15);
    proc.changed();
  }

  /** get*id returns: the caller's ids. */
  #idGetter(e: SyscallEvent, proc: TrackedProcess): void {
    const getter = ID_GETTERS.get(e.syscall);
    const v = e.ret === undefined ? undefined : readInt(e.ret, 0);
    if (getter !== undefined && v !== undefined && v >= 0 && proc[getter] !== v) {
      proc[getter] = v;
      proc.changed();
    }
  }

  /** set*id calls, by their arguments (-1 keeps an id as it is). */
  #idSetter(e: SyscallEvent, proc: TrackedProcess): void {
    const name = e.syscall;
    const setters = ID_CALLS.get(name);
    if (setters === undefined) return;
    const args = e.args!;
    let at = argAt(args, 0);
    if (setters.length === 2 && !name.startsWith('setre')) {
      // setuid(u)/setgid(g): a privileged caller (euid 0, or not known) sets the real and
      // effective ids; any other caller only the effective one.
      const v = at === -1 ? undefined : readInt(args, at);
      if (v === undefined || v < 0) return;
      const [real, effective] = setters as readonly ('uid' | 'euid' | 'gid' | 'egid')[];
      if (proc.euid === undefined || proc.euid === 0) proc[real!] = v;
      proc[effective!] = v;
      proc.changed();
      return;
    }
    for (let i = 0; i < setters.length && at !== -1; i++) {
      const v = readInt(args, at);
      const field = setters[i]!;
      if (v !== undefined && v >= 0 && field !== 'suid' && field !== 'sgid') proc[field] = v;
      at = argAt(args, 1, at, 0);
    }
    proc.changed();
  }
}

/**
 * Where argument 1 starts when argument 0 is a dirfd (`AT_FDCWD</tmp>`, `3</x>`): read as
 * an fd once (readFd keeps it for #dirBase), the walk to argument 1 starts after it. That
 * is where argAt's own walk from 0 would be, as long as argAt would also have taken the
 * `<` for a decoration (not `<<` or `<=`); anything else walks from 0.
 */
function pathAfterDirfd(args: string): number {
  const at0 = argAt(args, 0);
  if (at0 === -1) return -1;
  if (readFd(args, at0) === undefined) return argAt(args, 1);
  if (decorStart !== -1) {
    const c = args.charCodeAt(decorStart);
    if (c === 60 || c === 61 || decorStart >= args.length) return argAt(args, 1);
  }
  return argAt(args, 1, readEnd, 0);
}

/**
 * Where the path string starts when `args` opens with `AT_FDCWD, "` or (`-y`) with
 * `AT_FDCWD<cwd>, "` showing exactly the known `cwd`; -1 otherwise (the caller walks).
 * A cwd that is not absolute, holds `<`, `>` or `\\`, or ends in `-` is left to the walk:
 * its decoration would be escaped, or read otherwise than the text suggests.
 */
function pathAfterCwd(args: string, cwd: string | undefined): number {
  if (args.charCodeAt(0) !== 65 /* A */ || !args.startsWith('AT_FDCWD')) return -1;
  const c = args.charCodeAt(8);
  if (c === 44 /* , */) return args.startsWith(' "', 9) ? 10 : -1;
  if (c !== 60 /* < */ || cwd === undefined || !isPlainDecoration(cwd)) return -1;
  const close = 9 + cwd.length;
  return args.startsWith(cwd, 9) && args.startsWith('>, "', close) ? close + 3 : -1;
}

/** The last cwd isPlainDecoration checked, and its answer (a cwd changes rarely). */
let plainChecked: string | undefined;
let plainAnswer = false;

/** An absolute path strace prints in a decoration as it is: no `<`, `>`, `\\`, not ending in `-` (`->`). */
function isPlainDecoration(path: string): boolean {
  if (path === plainChecked) return plainAnswer;
  plainChecked = path;
  plainAnswer =
    path.charCodeAt(0) === 47 &&
    path.indexOf('<') === -1 &&
    path.indexOf('>') === -1 &&
    path.indexOf('\\') === -1 &&
    path.charCodeAt(path.length - 1) !== 45;
  return plainAnswer;
}

/** A call that completed without an error return (`= -1 E…`, `= ?` are not). */
function isSuccess(e: SyscallEvent): boolean {
  if (e.errno !== undefined || e.unfinished === true) return false;
  const ret = e.ret;
  return ret !== undefined && ret !== '?' && ret.charCodeAt(0) !== 45;
}
