/**
 * Under `strace -f` a child's first lines can come before its parent's clone returns the
 * child's pid: always for vfork and posix_spawn (the parent waits until the child execs), and
 * for fork or a new thread whenever the child runs first. Its chdir, relative opens, even its
 * execve would then belong to nobody. The parser knows which clone is still pending when a pid
 * it never saw appears; when exactly one is, it leaves a hint on that pid's first event, and
 * the context tracker gives the child what it inherits from that parent at once. The clone's
 * return (`= PID`) later confirms it; a hint for a pid the tracker already knows is ignored.
 */
import type { SyscallEvent } from '../../types.js';

export interface SpawnHint {
  /** pid (tid) of the caller whose clone/clone3/fork/vfork had not returned yet. */
  readonly parent: number;
  readonly syscall: string;
  /** The pending half's arguments so far (clone flags). */
  readonly args: string;
}

/** Calls that make a process or thread. */
export const SPAWN_CALLS: ReadonlySet<string> = new Set(['clone', 'clone3', 'fork', 'vfork']);

// On the event rather than a field of it: the hint is the parser's note to the tracker, not
// part of the event consumers see (nor of its JSON).
const hints = new WeakMap<SyscallEvent, SpawnHint>();

export function leaveSpawnHint(event: SyscallEvent, hint: SpawnHint): void {
  hints.set(event, hint);
}

/** The hint left on `event`, once. */
export function takeSpawnHint(event: SyscallEvent): SpawnHint | undefined {
  const hint = hints.get(event);
  if (hint !== undefined) hints.delete(event);
  return hint;
}
