import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSyscanError, SyscanError } from '@syscan/core';

/**
 * strace flags:
 * - `-f` follows forks, so children and grandchildren are judged too;
 * - `-qq` drops attach/detach notices and `+++ exited` lines (no syscall facts in them);
 * - `-o FIFO` keeps the trace apart from the command's own stdout/stderr. strace opens the
 *   output with close-on-exec, so the traced command never holds the trace's write end
 *   (unlike an inherited pipe fd, which it could write forged lines into);
 * - no timestamps: the detector uses the clock, which costs strace nothing.
 */
export function straceArgs(fifo: string, argv: readonly string[], preempt: readonly string[]): string[] {
  const args = ['-f', '-qq', '-o', fifo];
  // Enforce mode: syscalls the policy would kill for anyway are refused at syscall *entry*
  // (EPERM) and the caller gets SIGKILL, so they never run. `?` makes strace skip names
  // this arch does not have instead of refusing to start.
  if (preempt.length > 0)
    args.push('-e', `inject=${preempt.map((s) => `?${s}`).join(',')}:error=EPERM:signal=SIGKILL`);
  args.push('--', ...argv);
  return args;
}

/** A private directory holding the trace FIFO; removed as soon as strace has opened it. */
export async function makeTraceFifo(): Promise<{ dir: string; fifo: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'syscan-sandbox-'));
  const fifo = join(dir, 'trace');
  // Node has no mkfifo(); coreutils' is everywhere strace is.
  const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
  if (made.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    const why = made.error ? made.error.message : made.stderr.trim();
    throw new SyscanError('ERR_SYSCAN_SPAWN', `cannot create the trace FIFO (mkfifo: ${why})`);
  }
  let removed = false;
  return {
    dir,
    fifo,
    remove: async () => {
      if (removed) return;
      removed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What went wrong before the command ran, read from strace's own messages. */
export type SetupProblem =
  | 'strace_missing'
  | 'ptrace_denied'
  | 'command_not_found'
  | 'exec_failed'
  | 'strace_failed';

export function straceMissing(): SyscanError {
  return setupError(
    'strace_missing',
    'strace not found on PATH: install it (apt-get install strace | dnf install strace | apk add strace)',
  );
}

/**
 * Reads strace's stderr after it exited without ever starting the command. Returns undefined
 * when the text does not look like a strace setup failure.
 */
export function classifySetupFailure(stderr: string, argv0: string): SyscanError | undefined {
  const found = stderr.split('\n').find((l) => /^\S*strace: /.test(l));
  if (!found) return undefined;
  const line = found.replace(/^\S*strace: /, 'strace: ');
  if (
    /PTRACE_TRACEME|PTRACE_SEIZE|ptrace\(|PTRACE_ATTACH/.test(line) &&
    /Operation not permitted|EPERM/.test(line)
  ) {
    return setupError(
      'ptrace_denied',
      `ptrace is not permitted here (${line.slice(8).trim()}): check kernel.yama.ptrace_scope (sysctl), or run the container with CAP_SYS_PTRACE / a seccomp profile that allows ptrace`,
    );
  }
  const stat = /Can't stat '(.*)': (.*)$/.exec(line);
  if (stat) return setupError('command_not_found', `command not found: ${stat[1] ?? argv0} (${stat[2]})`);
  const exec = /exec: (.*)$/.exec(line);
  if (exec) return setupError('exec_failed', `cannot execute ${argv0}: ${exec[1]}`);
  return setupError('strace_failed', `strace failed: ${line.slice(8).trim()}`);
}

/** A setup failure; its kind travels as the error's `cause` so adapters can map it (exit 2, HTTP 422/503). */
export function setupError(kind: SetupProblem, message: string): SyscanError {
  return new SyscanError('ERR_SYSCAN_SPAWN', message, { cause: kind });
}

/** The kind of a setup failure thrown by the runner, if it is one. */
export function setupKind(error: unknown): SetupProblem | undefined {
  if (!isSyscanError(error) || error.code !== 'ERR_SYSCAN_SPAWN') return undefined;
  return typeof error.cause === 'string' ? (error.cause as SetupProblem) : 'strace_failed';
}
