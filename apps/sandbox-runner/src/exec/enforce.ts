/**
 * Ending a run: every process it started goes, at once, with SIGKILL, and the run waits
 * until they have ended.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What the runner started, as the host sees it. */
export interface RunProcesses {
  /** The process group the runner spawned (detached: also its session id). */
  pgid: number;
  /** The namespace's PID 1 (strace), when isolated: killing it ends the namespace. */
  nsInit?: { pid: number; namespace: string } | undefined;
  /**
   * Without isolation: host pids the trace saw. Killed when still ours (traced by strace, or
   * in the run's session), which catches processes that left the process group.
   */
  hostPids?: Iterable<number> | undefined;
}

/**
 * Why strace can no longer trace, read from /proc: another process attached to it (a
 * tracee ptraced its tracer) or stopped it. Undefined while it runs free (or is gone).
 */
export function tracerHijacked(stracePid: number): string | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${stracePid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const tracer = /^TracerPid:\s*(\d+)/m.exec(status)?.[1];
  if (tracer !== undefined && tracer !== '0')
    return `strace itself was attached with ptrace by pid ${tracer}`;
  const state = /^State:\s*(\S)/m.exec(status)?.[1];
  if (state === 'T' || state === 't') return 'strace itself was stopped';
  return undefined;
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

/**
 * Fields 5 (pgrp) and 6 (session) of /proc/PID/stat, counted after the `(comm)` that may
 * hold spaces; undefined when gone or a zombie (it runs nothing; its reaper, maybe a slow
 * host init, removes it in its own time).
 */
function groupAndSession(pid: number | string): [number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined;
    return [Number(rest[2]), Number(rest[3])];
  } catch {
    return undefined;
  }
}

/** True while `init` is still the PID 1 it was (a recycled pid is in another namespace) and not a zombie. */
function initRuns(init: { pid: number; namespace: string }): boolean {
  return pidNamespaceOf(init.pid) === init.namespace && groupAndSession(init.pid) !== undefined;
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

/** The runner's own PID namespace: the isolation tool's child is PID 1 once it is in another one. */
const OWN_PID_NAMESPACE = pidNamespaceOf(process.pid);

/** The isolation tool's child once it is PID 1 of a new PID namespace (the tool made it), with that namespace. */
export function namespaceInitOf(toolPid: number): { pid: number; namespace: string } | undefined {
  const init = firstChildOf(toolPid);
  const namespace = init === undefined ? undefined : pidNamespaceOf(init);
  if (init === undefined || namespace === undefined || namespace === OWN_PID_NAMESPACE) return undefined;
  return { pid: init, namespace };
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
 * - isolated: the namespace's PID 1 only. The kernel kills every process of the namespace
 *   before PID 1 can be reaped, and the isolation tool (its parent) reaps it and exits, so
 *   the tool's exit means the run is gone. Killing the tool too would leave PID 1 to the
 *   host's init to reap, in its own time;
 * - otherwise (or PID 1 not known yet): every pid of the trace still ours (traced by
 *   strace, or in the run's session: setpgid moved it out of the group, or strace died and
 *   left it untraced), before the group, while strace is alive, which would otherwise detach
 *   them; then the process group: strace or the tool, and whatever stayed in it.
 */
export function killTree(run: RunProcesses): void {
  if (run.nsInit !== undefined && initRuns(run.nsInit)) {
    sigkill(run.nsInit.pid);
    return;
  }
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
 * Waits until every process of the run has ended (zombies count as ended), killing
 * stragglers of its group or session again. Bounded: SIGKILL cannot be blocked, but a
 * process in uninterruptible sleep (D state) takes its time.
 */
export async function waitGone(run: RunProcesses, deadlineMs = 5_000): Promise<boolean> {
  const watch = new Set(run.hostPids ?? []);
  const until = Date.now() + deadlineMs;
  for (;;) {
    for (const pid of watch) if (!ours(pid, run.pgid)) watch.delete(pid);
    const init = run.nsInit !== undefined && initRuns(run.nsInit);
    const members = runMembers(run.pgid);
    if (watch.size === 0 && members.length === 0 && !init) return true;
    if (Date.now() > until) return false;
    if (init) sigkill(run.nsInit!.pid);
    for (const pid of members) sigkill(pid);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A watched pid still counts while it runs in the run's group or session, or is traced by its strace. */
function ours(pid: number, pgid: number): boolean {
  const ids = groupAndSession(pid);
  return ids !== undefined && (ids[0] === pgid || ids[1] === pgid || tracerOf(pid) === pgid);
}
