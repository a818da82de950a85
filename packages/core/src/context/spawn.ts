/**
 * What a successful clone/clone3/fork/vfork made: the child's pid (the return value) and
 * the clone flags that decide what it shares with its parent and whether it is traced.
 */
import type { SyscallEvent } from '../types.js';
import { resolvePath } from './paths.js';
import type { TrackedProcess } from './process-table.js';
import { findOutsideStrings, readInt } from './strace-args.js';
import { cloneFlagNames } from './strace-calls.js';

/** A process or thread created by a traced process. */
export interface SpawnInfo {
  /** pid (tid) of the caller. */
  readonly parent: number;
  /** pid (tid) of the new process or thread: the call's return value. */
  readonly child: number;
  /** `clone`, `clone3`, `fork` or `vfork`. */
  readonly syscall: string;
  /** `CLONE_*` flags as named (`SIGCHLD` and other exit signals left out). fork: none; vfork: CLONE_VM, CLONE_VFORK. */
  readonly flags: readonly string[];
  /** CLONE_THREAD: a thread of the caller's process (shares its context). */
  readonly thread: boolean;
  /** CLONE_UNTRACED: the tracer cannot follow the child, so its calls are never seen. */
  readonly untraced: boolean;
  /** CLONE_FS: shares the working directory with the caller. */
  readonly sharesFs: boolean;
  /** CLONE_FILES: shares the fd table with the caller. */
  readonly sharesFiles: boolean;
  /** The call, for alerts (line, raw). */
  readonly event: SyscallEvent;
}

const NO_FLAGS: readonly string[] = Object.freeze([]);
const VFORK_FLAGS: readonly string[] = Object.freeze(['CLONE_VM', 'CLONE_VFORK']);

/** The spawn a successful call describes; undefined when the return is not a child pid. */
export function readSpawn(e: SyscallEvent, parent: number): SpawnInfo | undefined {
  const child = e.ret === undefined ? undefined : readInt(e.ret, 0);
  if (child === undefined || child <= 0) return undefined;
  const syscall = e.syscall;
  const flags = spawnFlags(syscall, e.args ?? '');
  return {
    parent,
    child,
    syscall,
    flags,
    thread: flags.includes('CLONE_THREAD'),
    untraced: flags.includes('CLONE_UNTRACED'),
    sharesFs: flags.includes('CLONE_FS'),
    sharesFiles: flags.includes('CLONE_FILES'),
    event: e,
  };
}

/** The CLONE_* flags a spawning call gives its child (fork: none; vfork: CLONE_VM, CLONE_VFORK). */
export function spawnFlags(syscall: string, args: string): readonly string[] {
  return syscall === 'fork' ? NO_FLAGS : syscall === 'vfork' ? VFORK_FLAGS : cloneFlags(args);
}

/** `flags=CLONE_VM|CLONE_FS|SIGCHLD` (clone) or `{flags=…, …}` (clone3); `-X raw` hex too. */
export function cloneFlags(args: string): readonly string[] {
  const at = findOutsideStrings(args, 'flags=', 0, args.length);
  if (at === -1) return NO_FLAGS;
  let end = at + 6;
  while (end < args.length) {
    const c = args.charCodeAt(end);
    if (c === 44 || c === 125 || c === 41 || c === 32) break;
    end++;
  }
  const text = args.slice(at + 6, end);
  if (text.startsWith('0x')) {
    // `-X verbose` follows the number with `/* CLONE_VM|… */`: the names are read from it.
    const comment = args.startsWith(' /* ', end) ? args.indexOf(' */', end + 4) : -1;
    if (comment !== -1) return namesOf(args.slice(end + 4, comment));
    const bits = Number.parseInt(text, 16);
    if (Number.isNaN(bits)) return NO_FLAGS;
    return Object.freeze(cloneFlagNames(bits));
  }
  return namesOf(text);
}

function namesOf(text: string): readonly string[] {
  return Object.freeze(text.split('|').filter((f) => f.startsWith('CLONE_')));
}

/**
 * What a child gets from its parent at a clone: its parent pid, the cwd (shared with
 * CLONE_FS) and the fds (shared with CLONE_FILES), and its program and ids. A cwd the child
 * set before this was known (a relative chdir among its early lines) is taken relative to the
 * parent's.
 */
export function inheritAtSpawn(
  child: TrackedProcess,
  parent: TrackedProcess,
  flags: readonly string[],
): void {
  child.ppid = flags.includes('CLONE_PARENT') ? parent.ppid : parent.pid;
  if (flags.includes('CLONE_FS')) child.fs = parent.fs;
  else if (child.fs.cwd === undefined) child.fs.cwd = parent.fs.cwd;
  else if (child.fs.cwd.charCodeAt(0) !== 47 && parent.fs.cwd !== undefined)
    child.fs.cwd = resolvePath(parent.fs.cwd, child.fs.cwd);
  if (flags.includes('CLONE_FILES')) child.files = parent.files;
  else if (child.files.size === 0) child.files = parent.files.copy();
  child.inheritFrom(parent);
}
