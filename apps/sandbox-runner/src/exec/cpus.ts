/**
 * `--cpus`: strace and the command on a set of CPUs (taskset -c), the runner left free.
 *
 * Every traced syscall stops the tracee twice and wakes strace each time. When strace and
 * the tracee run on different CPUs each wake-up is a cross-CPU interrupt, which on a virtual
 * machine costs a trip through the hypervisor: on a 2-vCPU VM, 200 000 stat calls under
 * `strace -f` took 31 s unpinned and 5.4 s with strace and the command on one CPU. The price is
 * parallelism: a command that would use several CPUs at once gets the listed ones only.
 */
import { readFileSync } from 'node:fs';
import { SyscanError } from '@syscan/core';
import { findExecutable } from './locate.js';
import { setupError } from './setup-errors.js';

/** Most CPUs a list may name (taskset's own lists go to the kernel's CPU count). */
const MAX_CPU = 4095;

/**
 * The CPUs of a taskset-style list (`1`, `0,2`, `2-3`), ascending, or of `auto`: the last CPU
 * this process may use (the runner keeps the others). Throws a usage error naming the list when
 * it is not one, or names a CPU this process may not run on.
 */
export function parseCpuList(list: string, allowed = allowedCpus()): number[] {
  if (list === 'auto') return allowed === undefined || allowed.size === 0 ? [0] : [Math.max(...allowed)];
  const bad = (why: string): SyscanError => new SyscanError('ERR_SYSCAN_USAGE', `--cpus '${list}': ${why}`);
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list))
    throw bad('expected auto, or CPU numbers and ranges, e.g. 1 or 0,2-3');
  for (const [from, to] of ranges(list)) {
    if (to < from) throw bad(`range ${from}-${to} runs backwards`);
    if (to > MAX_CPU) throw bad(`CPU ${to} is past ${MAX_CPU}`);
  }
  const cpus = expand(list);
  const outside = [...cpus].filter((cpu) => allowed !== undefined && !allowed.has(cpu));
  if (outside.length > 0)
    throw bad(
      `CPU ${outside.join(', ')} is not one this process may use (${[...(allowed ?? [])].join(',')})`,
    );
  return [...cpus].sort((a, b) => a - b);
}

/** The CPUs this process may run on (`Cpus_allowed_list` of /proc/self/status); undefined off Linux. */
export function allowedCpus(): Set<number> | undefined {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'latin1');
  } catch {
    return undefined;
  }
  const line = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
  return line === undefined ? undefined : expand(line);
}

/** The [from, to] pairs of a list in the kernel's and taskset's format (`0,2-3`). */
function ranges(list: string): Array<[number, number]> {
  return list.split(',').map((part) => {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    return [from, to];
  });
}

/** The CPUs of such a list. */
function expand(list: string): Set<number> {
  const cpus = new Set<number>();
  for (const [from, to] of ranges(list)) for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  return cpus;
}

/** `taskset -c LIST file args…` for `file args…`; throws a setup error when taskset is missing. */
export function pinnedCommand(
  cpus: readonly number[],
  command: { file: string; args: string[] },
): { file: string; args: string[] } {
  const taskset = findExecutable('taskset');
  if (taskset === undefined)
    throw setupError(
      'strace_failed',
      '--cpus needs taskset on PATH (util-linux: apt-get install util-linux)',
    );
  return { file: taskset, args: ['-c', cpus.join(','), command.file, ...command.args] };
}

export const CPUS_HELP =
  'run strace and the command on these CPUs only (auto: the last one; or a taskset list, e.g. 1 or 2-3): ptrace stops then stay on one CPU, several times faster on a VM for a syscall-heavy command; the command loses its other CPUs';
