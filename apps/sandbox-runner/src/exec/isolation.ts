/**
 * Isolation: the command runs in its own user, PID and mount namespaces with a private
 * /proc, and strace runs there too, as the namespace's PID 1:
 * - PID 1 of a namespace receives no signal from inside it unless it handles that signal,
 *   and strace blocks the fatal ones (`-I 4`): the command cannot kill or stop its tracer;
 * - /proc/1 (strace) is covered by an empty tmpfs: the command cannot open strace's fds
 *   (the trace FIFO) through /proc;
 * - the runner and the rest of the host are outside the namespace: not visible, not signalable;
 * - when PID 1 ends (strace exits, or the runner kills it from outside), the kernel kills
 *   every process left in the namespace, untraced ones included, before PID 1 is reaped:
 *   once the isolation tool has exited, nothing of the run remains.
 * bubblewrap makes them where it is installed, util-linux `unshare` otherwise; either way
 * the command has no capabilities and no_new_privs.
 */
import { spawnSync } from 'node:child_process';
import { SyscanError } from '@syscan/core';
import { findExecutable } from './locate.js';

export type IsolationMode = 'auto' | 'namespaces' | 'none';
export type IsolationTool = 'bwrap' | 'unshare';
export const ISOLATION_MODES: readonly IsolationMode[] = ['auto', 'namespaces', 'none'];

/** How a run is wrapped: `none`, or a tool that makes the namespaces and then execs strace. */
export type IsolationPlan =
  | { mode: 'none' }
  | { mode: 'namespaces'; tool: 'bwrap'; bwrap: string }
  | {
      mode: 'namespaces';
      tool: 'unshare';
      unshare: string;
      sh: string;
      mount: string;
      setpriv: string;
      env: string;
    };

/** Probe results per tool, for the life of the process (a server probes once, not per request). */
const probed = new Map<IsolationTool, string | undefined>();

/** The tools' arguments up to (not including) the program they run: strace. */
export function wrapperArgs(plan: IsolationPlan & { mode: 'namespaces' }): { file: string; args: string[] } {
  if (plan.tool === 'bwrap') {
    return {
      file: plan.bwrap,
      args: [
        '--unshare-user',
        '--unshare-pid',
        '--die-with-parent',
        // No reaper of bwrap's own: strace is PID 1, so its death ends the namespace.
        '--as-pid-1',
        // Root keeps capabilities inside by default; the command needs none of them.
        ...(process.getuid?.() === 0 ? ['--cap-drop', 'ALL'] : []),
        '--dev-bind',
        '/',
        '/',
        '--proc',
        '/proc',
        '--tmpfs',
        '/proc/1',
        '--',
      ],
    };
  }
  // unshare mounts the private /proc; a shell covers /proc/1 (itself, about to exec
  // strace); setpriv empties the capability bounding set (the command, root of its own user
  // namespace, could otherwise unmount that cover) and sets no_new_privs, as bwrap does;
  // `env -i` leaves strace nothing of the shell's environment but PATH.
  const script = `${plan.mount} -t tmpfs -o size=4k,mode=000 syscan-hidden /proc/1 || exit 125; exec ${plan.setpriv} --bounding-set=-all --inh-caps=-all --no-new-privs ${plan.env} -i PATH="$PATH" "$@"`;
  // setpriv first: unshare has no parent-death signal of its own, and without one it (and so
  // the namespace) would outlive a runner that died; --kill-child then ends PID 1 with it.
  return {
    file: plan.setpriv,
    args: [
      '--pdeathsig',
      'SIGKILL',
      plan.unshare,
      '--user',
      '--map-root-user',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount',
      '--propagation',
      'private',
      '--mount-proc',
      '--',
      plan.sh,
      '-c',
      script,
      'syscan-sandbox',
    ],
  };
}

function planFor(tool: IsolationTool): IsolationPlan | string {
  if (tool === 'bwrap') {
    const bwrap = findExecutable('bwrap');
    return bwrap ? { mode: 'namespaces', tool, bwrap } : 'bwrap is not installed';
  }
  const found = {
    unshare: findExecutable('unshare'),
    sh: findExecutable('sh'),
    mount: findExecutable('mount'),
    setpriv: findExecutable('setpriv'),
    env: findExecutable('env'),
  };
  const missing = Object.entries(found).find(([, v]) => v === undefined);
  if (missing) return `${missing[0]} is not installed`;
  return {
    mode: 'namespaces',
    tool,
    ...(found as { unshare: string; sh: string; mount: string; setpriv: string; env: string }),
  };
}

/** Why `tool` cannot make the namespaces here (its one-line complaint), or undefined when it can. */
function probe(plan: IsolationPlan & { mode: 'namespaces' }): string | undefined {
  if (probed.has(plan.tool)) return probed.get(plan.tool);
  const { file, args } = wrapperArgs(plan);
  const r = spawnSync(file, [...args, 'true'], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
    timeout: 10_000,
  });
  const why =
    r.status === 0
      ? undefined
      : (r.error?.message ?? (r.stderr.trim().split('\n')[0] || `exit ${r.status ?? r.signal}`));
  probed.set(plan.tool, why);
  return why;
}

/**
 * Runs `argv` (the tracer's copy, `-V`) inside the namespaces that `resolveIsolation(mode,
 * tool)` would pick first, when that tool is not probed yet: one spawn that probes the tool
 * and `argv` at once, instead of one each, because every spawn is on the path to the
 * command's start. True when it ran (the tool is then known to work); false when not tried or
 * it failed, and then the tool is probed alone as before, to tell which of the two failed.
 */
export function probeWith(
  mode: IsolationMode,
  tool: IsolationTool | undefined,
  argv: readonly string[],
): boolean {
  if (mode === 'none') return false;
  for (const candidate of tool ? [tool] : (['bwrap', 'unshare'] as const)) {
    const plan = planFor(candidate);
    if (typeof plan === 'string') continue;
    if (probed.has(candidate)) return false;
    const { file, args } = wrapperArgs(plan as IsolationPlan & { mode: 'namespaces' });
    const r = spawnSync(file, [...args, ...argv], {
      stdio: 'ignore',
      env: { PATH: '/usr/bin:/bin' },
      timeout: 10_000,
    });
    if (r.status !== 0) return false;
    probed.set(candidate, undefined);
    return true;
  }
  return false;
}

/**
 * The isolation a run gets. `auto` and `namespaces` take bwrap if it works here, else
 * unshare, and throw `isolation_unavailable` (one line, both reasons) when neither does.
 */
export function resolveIsolation(mode: IsolationMode = 'auto', tool?: IsolationTool): IsolationPlan {
  if (mode === 'none') return { mode: 'none' };
  const reasons: string[] = [];
  for (const candidate of tool ? [tool] : (['bwrap', 'unshare'] as const)) {
    const plan = planFor(candidate);
    if (typeof plan === 'string') {
      reasons.push(plan);
      continue;
    }
    const why = probe(plan as IsolationPlan & { mode: 'namespaces' });
    if (why === undefined) return plan;
    reasons.push(`${candidate}: ${why}`);
  }
  throw new SyscanError(
    'ERR_SYSCAN_SPAWN',
    `namespaces are not available here (${reasons.join('; ')}): install bubblewrap or allow unprivileged user namespaces, or run with --isolation none`,
    { reason: 'isolation_unavailable' },
  );
}

/** What `/healthz` and logs report: the isolation runs get in `mode`, or why there is none. */
export function describeIsolation(mode: IsolationMode = 'auto'): {
  mode: 'namespaces' | 'none';
  tool?: IsolationTool;
  unavailable?: string;
} {
  try {
    const plan = resolveIsolation(mode);
    return plan.mode === 'none' ? { mode: 'none' } : { mode: 'namespaces', tool: plan.tool };
  } catch (error) {
    return { mode: 'none', unavailable: (error as Error).message };
  }
}
