/**
 * Ending a run: every process it started goes, at once, with SIGKILL, and the run waits
 * until they have left /proc.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What the runner started, as the host sees it. */
export interface RunProcesses {
  /** The process group the runner spawned (detached: also its session id). */
  pgid: number;
  /** Host pid of the namespace's PID 1 (strace), when isolated: killing it ends the namespace. */
  nsInit?: number | undefined;
  /**
   * Without isolation: host pids the trace saw. Killed when still ours (traced by strace, or
   * in the run's session), which catches processes that left the process group.
   */
  hostPids?: Iterable<number> | undefined;
}

/** The pid of the process tracing `pid`, from /proc (0 when untraced, undefined when gone). */
export function tracerOf(pid: number): number | undefined {
  return statusField(pid, 'TracerPid');
}

function statusField(pid: number, field: string): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Fields 5 (pgrp) and 6 (session) of /proc/PID/stat, counted after the `(comm)` that may hold spaces. */
function groupAndSession(pid: number | string): [number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(rest[2]), Number(rest[3])];
  } catch {
    return undefined;
  }
}

function sigkill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // ESRCH: already gone. EPERM: not ours (a setuid child); the group kill still applies.
  }
}

/** The host pid of `parent`'s first child (the namespace's PID 1 under the isolation tool). */
export function firstChildOf(parent: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${parent}/task/${parent}/children`, 'latin1').trim();
    const first = Number(text.split(' ')[0]);
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** `pid:[4026531836]`: the PID namespace of a host pid, when readable. */
export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/**
 * Kills everything a run started, at once:
 * 1. the namespace's PID 1: the kernel then kills every process in the namespace;
 * 2. without isolation, every pid of the trace still ours (traced by strace, or in the
 *    run's session: setpgid moved it out of the group, or strace died and left it
 *    untraced). They go before the group, while strace is alive, which would otherwise
 *    detach them;
 * 3. the process group: the isolation tool or strace, and whatever stayed in it.
 */
export function killTree(run: RunProcesses): void {
  if (run.nsInit !== undefined) sigkill(run.nsInit);
  for (const pid of run.hostPids ?? []) {
    if (pid === run.pgid) continue;
    if (tracerOf(pid) === run.pgid || groupAndSession(pid)?.[1] === run.pgid) sigkill(pid);
  }
  sigkill(-run.pgid);
}

/** The pids in process group or session `id` (zombies included), from /proc. */
export function runMembers(id: number): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid
    const ids = groupAndSession(name);
    if (ids && (ids[0] === id || ids[1] === id)) out.push(Number(name));
  }
  return out;
}

/**
 * Waits until every process of the run is gone from /proc (zombies reaped), killing
 * stragglers of its group or session again. Bounded: SIGKILL cannot be blocked, but a
 * process in uninterruptible sleep (D state) takes its time.
 */
export async function waitGone(run: RunProcesses, deadlineMs = 5_000): Promise<boolean> {
  const watch = new Set(run.hostPids ?? []);
  if (run.nsInit !== undefined) watch.add(run.nsInit);
  const until = Date.now() + deadlineMs;
  for (;;) {
    for (const pid of watch) if (!existsSync(`/proc/${pid}`) || !ours(pid, run)) watch.delete(pid);
    const members = runMembers(run.pgid);
    if (watch.size === 0 && members.length === 0) return true;
    if (Date.now() > until) return false;
    for (const pid of members) sigkill(pid);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A watched pid still counts while it is the namespace init or in the run's group or session. */
function ours(pid: number, run: RunProcesses): boolean {
  if (pid === run.nsInit) return true;
  const ids = groupAndSession(pid);
  return ids !== undefined && (ids[0] === run.pgid || ids[1] === run.pgid || tracerOf(pid) === run.pgid);
}
