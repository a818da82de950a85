/** Starting a run: strace, inside the isolation tool unless isolation is off, with the command's env alone. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SyscanError } from '@syscan/core';
import { pinnedCommand } from './cpus.js';
import {
  type IsolationMode,
  type IsolationPlan,
  type IsolationTool,
  probeWith,
  resolveIsolation,
  wrapperArgs,
} from './isolation.js';
import { setupError, straceMissing } from './setup-errors.js';
import { straceArgs, toolEnv } from './strace-args.js';
import type { ExecRequest } from './types.js';

/** Whether an execute-only copy of strace runs here (a `noexec` temp dir would refuse it), probed once. */
let execOnlyWorks: boolean | undefined;

/**
 * An execute-only copy (mode 0111) of strace in the run's private directory, or undefined
 * where none can be made or it is known not to run. A process whose program file it cannot
 * read is not dumpable, and a process that is not dumpable can be ptrace-attached, or have
 * its fds taken (`pidfd_getfd`, `/proc/PID/fd`), only with CAP_SYS_PTRACE, which the
 * isolated command does not have: it cannot stop its tracer or write into the trace.
 */
function copyTracer(straceBin: string, privateDir: string): string | undefined {
  if (execOnlyWorks === false) return undefined;
  const copy = join(privateDir, 'strace');
  try {
    copyFileSync(straceBin, copy);
    chmodSync(copy, 0o111);
  } catch {
    return undefined;
  }
  return copy;
}

/**
 * The strace binary a run executes: `copy` (from {@link copyTracer}) when it runs here,
 * probed with `-V` the first time; else strace in place (and `unreachable` says so).
 */
function tracerBinary(straceBin: string, copy: string | undefined): { path: string; unreachable: boolean } {
  if (copy === undefined || execOnlyWorks === false) return { path: straceBin, unreachable: false };
  execOnlyWorks ??= spawnSync(copy, ['-V'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return execOnlyWorks ? { path: copy, unreachable: true } : { path: straceBin, unreachable: false };
}

/**
 * What a run executes: its isolation plan and the strace binary, the copy made in
 * `privateDir`. Where neither is probed yet in this process, one spawn probes both (the
 * copy runs `-V` inside the namespaces), because each spawn delays the command's start.
 */
export function prepareTracer(
  straceBin: string,
  privateDir: string,
  mode: IsolationMode,
  tool?: IsolationTool,
): { plan: IsolationPlan; tracer: { path: string; unreachable: boolean } } {
  const copy = copyTracer(straceBin, privateDir);
  if (copy !== undefined && execOnlyWorks === undefined && probeWith(mode, tool, [copy, '-V']))
    execOnlyWorks = true;
  return { plan: resolveIsolation(mode, tool), tracer: tracerBinary(straceBin, copy) };
}

/** Throws `bad_cwd` unless `cwd` is a directory. */
export function checkDirectory(cwd: string): void {
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir)
    throw new SyscanError('ERR_SYSCAN_USAGE', `cwd is not a directory: ${cwd}`, { reason: 'bad_cwd' });
}

function stdinMode(stdin: ExecRequest['stdin']): 'ignore' | 'inherit' | 'pipe' {
  if (stdin === undefined) return 'ignore';
  return stdin === 'inherit' ? 'inherit' : 'pipe';
}

/** The program and arguments of a run: `strace …`, or `<tool> … strace …`. */
export function commandLine(
  plan: IsolationPlan,
  straceBin: string,
  fifo: string,
  req: Pick<ExecRequest, 'argv' | 'env' | 'cpus'>,
  preempted: readonly string[],
  allowOnly?: readonly string[],
): { file: string; args: string[] } {
  const strace = straceArgs(fifo, req.argv, preempted, req.env ?? process.env, allowOnly);
  let command = { file: straceBin, args: strace };
  if (plan.mode !== 'none') {
    const w = wrapperArgs(plan);
    command = { file: w.file, args: [...w.args, straceBin, ...strace] };
  }
  // taskset execs what it pins: the runner's child (and process group) stays the same process.
  return req.cpus !== undefined && req.cpus.length > 0 ? pinnedCommand(req.cpus, command) : command;
}

/** Spawns the run in its own process group and session, strace and the tool with PATH alone. */
export function spawnTraced(
  plan: IsolationPlan,
  straceBin: string,
  fifo: string,
  req: ExecRequest,
  preempted: readonly string[],
  allowOnly?: readonly string[],
): ChildProcess {
  const { file, args } = commandLine(plan, straceBin, fifo, req, preempted, allowOnly);
  try {
    return spawn(file, args, {
      // argv0 `strace`: its messages then read `strace: …` whatever path it was found at.
      ...(plan.mode === 'none' && file === straceBin ? { argv0: 'strace' } : {}),
      cwd: req.cwd,
      env: toolEnv(req.env ?? process.env),
      stdio: [stdinMode(req.stdin), 'pipe', 'pipe'],
      // Its own process group (and session): one kill(-pgid) reaches all that stayed in it.
      detached: true,
    });
  } catch (error) {
    throw setupError('strace_failed', `cannot start ${file}: ${(error as Error).message}`);
  }
}

/** The setup error of a spawn that failed ('error' event). */
export function spawnError(plan: IsolationPlan, failed: Error): SyscanError {
  if ((failed as NodeJS.ErrnoException).code === 'ENOENT')
    return plan.mode === 'none'
      ? straceMissing()
      : setupError('isolation_unavailable', `cannot start ${plan.tool}: ${failed.message}`);
  return setupError('strace_failed', `cannot start strace: ${failed.message}`);
}
