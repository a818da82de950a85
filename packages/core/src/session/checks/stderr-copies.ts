/**
 * Which fds of each process are its stderr, the stream strace writes into unless given
 * `-o FILE`: fd 2 and the copies the process made of it (`dup`, `dup2`, `dup3`,
 * `fcntl(F_DUPFD)`), inherited by the children it forks. A `dup2` of anything else onto one
 * of them (a shell's `2>log`) ends it being stderr; `close` too.
 *
 * Only processes whose set differs from `{2}` are kept, at most MAX_PROCESSES (the oldest
 * one past it is forgotten and reads as `{2}` again).
 */
import { argAt, readFd, readInt } from '../../context/strace-args.js';
import { SPAWN_CALLS } from '../../parse/strace/spawn-hints.js';
import type { SyscallEvent } from '../../types.js';

const STDERR = 2;
const MAX_PROCESSES = 4096;
/** A process never seen, or seen doing nothing to its stderr. */
const ONLY_STDERR: ReadonlySet<number> = new Set([STDERR]);
/** The calls {@link StderrCopies.note} follows; any other leaves every fd as it was. */
export const FD_CALLS_FOLLOWED: ReadonlySet<string> = new Set([
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'fcntl64',
  'close',
  ...SPAWN_CALLS,
]);
/** The key of events without a pid (a trace of one process). */
const NO_PID = -1;

export class StderrCopies {
  readonly #changed = new Map<number, Set<number>>();

  /** Whether `fd` of the process of `e` is its stderr or a copy of it. */
  isStderr(e: SyscallEvent, fd: number): boolean {
    return (this.#changed.get(e.pid ?? NO_PID) ?? ONLY_STDERR).has(fd);
  }

  /** Follows what `e` did to the process's fds (a call of {@link FD_CALLS_FOLLOWED}). */
  note(e: SyscallEvent): void {
    const name = e.syscall;
    if (name === 'dup' || name === 'dup2' || name === 'dup3' || name === 'fcntl' || name === 'fcntl64') {
      this.#dup(e);
    } else if (name === 'close') {
      const fd = this.#fdArg(e, 0);
      if (fd !== undefined && e.ret === '0') this.#set(e, fd, false);
    } else if (SPAWN_CALLS.has(name)) {
      const child = e.ret === undefined ? Number.NaN : Number(e.ret);
      const parent = this.#changed.get(e.pid ?? NO_PID);
      if (parent !== undefined && child > 0) this.#keep(child, new Set(parent));
    }
  }

  #dup(e: SyscallEvent): void {
    const args = e.args;
    if (args === undefined || e.ret === undefined) return;
    const made = Number(e.ret);
    if (!(made >= 0) || !Number.isInteger(made)) return;
    if ((e.syscall === 'fcntl' || e.syscall === 'fcntl64') && !args.includes('F_DUPFD')) return;
    const from = this.#fdArg(e, 0);
    if (from === undefined) return;
    this.#set(e, made, this.isStderr(e, from));
  }

  #fdArg(e: SyscallEvent, n: number): number | undefined {
    const args = e.args;
    if (args === undefined) return undefined;
    const at = argAt(args, n);
    if (at === -1) return undefined;
    return readFd(args, at) ?? readInt(args, at);
  }

  #set(e: SyscallEvent, fd: number, stderr: boolean): void {
    const pid = e.pid ?? NO_PID;
    const now = this.#changed.get(pid) ?? ONLY_STDERR;
    if (now.has(fd) === stderr) return;
    const next = new Set(now);
    if (stderr) next.add(fd);
    else next.delete(fd);
    this.#keep(pid, next);
  }

  #keep(pid: number, fds: Set<number>): void {
    this.#changed.delete(pid);
    if (fds.size === 1 && fds.has(STDERR)) return;
    this.#changed.set(pid, fds);
    if (this.#changed.size > MAX_PROCESSES) {
      const oldest = this.#changed.keys().next().value as number;
      this.#changed.delete(oldest);
    }
  }
}
