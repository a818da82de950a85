import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The pid of the process tracing `pid`, from /proc (0 when untraced, undefined when gone). */
export function tracerOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /^TracerPid:\s*(\d+)/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function sigkill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // ESRCH: already gone. EPERM: not ours (a setuid child) — the group kill below still applies.
  }
}

/**
 * Kills everything a run started, at once, with SIGKILL.
 *
 * 1. Every pid seen in the trace that strace still traces: this catches processes that left
 *    the process group (setsid, setpgid). The TracerPid check makes sure a pid is still
 *    ours and not a recycled one. They go first, while strace is alive: if strace died
 *    first, it would detach them and they would run on untraced.
 * 2. The process group strace leads (spawned detached): strace and every traced process
 *    that stayed in it, including children forked after step 1 looked.
 */
export function killTree(stracePid: number, tracedPids: Iterable<number>): void {
  for (const pid of tracedPids) {
    if (pid !== stracePid && tracerOf(pid) === stracePid) sigkill(pid);
  }
  sigkill(-stracePid);
}

/** The pids of process group `pgid` (zombies included), from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Field 5 (pgrp), counted after the `(comm)` that may itself hold spaces.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * After a kill, waits until every process of the run is gone from /proc (zombies reaped by
 * their new parent), so that when the run returns nothing of it remains. Bounded: SIGKILL
 * cannot be blocked, but a process in uninterruptible sleep (D state) takes its time.
 */
export async function waitGone(pgid: number, pids: Iterable<number>, deadlineMs = 5_000): Promise<boolean> {
  const watch = new Set(pids);
  const until = Date.now() + deadlineMs;
  for (;;) {
    for (const pid of watch) if (!existsSync(`/proc/${pid}`)) watch.delete(pid);
    const group = groupMembers(pgid);
    if (watch.size === 0 && group.length === 0) return true;
    if (Date.now() > until) return false;
    // Stragglers forked after the first kill: kill again, they are ours (same group).
    for (const pid of group) sigkill(pid);
    await new Promise((r) => setTimeout(r, 10));
  }
}
