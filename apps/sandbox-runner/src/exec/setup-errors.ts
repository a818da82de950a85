/** What went wrong before the command ran, as a SyscanError whose `reason` adapters switch on. */
import { isSyscanError, SyscanError, type SyscanErrorReason } from '@syscan/core';

export type SetupProblem = Extract<
  SyscanErrorReason,
  | 'strace_missing'
  | 'ptrace_denied'
  | 'command_not_found'
  | 'exec_failed'
  | 'strace_failed'
  | 'isolation_unavailable'
>;

/** A setup failure: exit 2 in the CLI, 422 or 503 over HTTP, chosen by `reason`. */
export function setupError(reason: SetupProblem, message: string): SyscanError {
  return new SyscanError('ERR_SYSCAN_SPAWN', message, { reason });
}

export function straceMissing(): SyscanError {
  return setupError(
    'strace_missing',
    'strace not found on PATH: install it (apt-get install strace | dnf install strace | apk add strace)',
  );
}

/** The reason of a setup failure thrown by the runner, if it is one. */
export function setupKind(error: unknown): SetupProblem | undefined {
  if (!isSyscanError(error) || error.code !== 'ERR_SYSCAN_SPAWN') return undefined;
  return (error.reason as SetupProblem | undefined) ?? 'strace_failed';
}

/** strace's (or the isolation tool's, or taskset's) own line: `strace: …`, `/usr/bin/strace: …`, `bwrap: …`. */
const TOOL_LINE = /^\S*(strace|bwrap|unshare|mount|taskset): /;

/**
 * Reads stderr after strace exited without ever starting the command. Returns undefined
 * when the text does not look like a setup failure.
 */
export function classifySetupFailure(stderr: string, argv0: string): SyscanError | undefined {
  const found = stderr.split('\n').find((l) => TOOL_LINE.test(l));
  if (!found) return undefined;
  const tool = TOOL_LINE.exec(found)![1]!;
  const line = found.replace(/^\S*?(strace|bwrap|unshare|mount|taskset): /, '');
  if (tool === 'taskset')
    return setupError('strace_failed', `cannot run on the CPUs of --cpus (${line.trim()})`);
  if (tool !== 'strace')
    return setupError('isolation_unavailable', `cannot isolate the command (${tool}: ${line.trim()})`);
  if (
    /PTRACE_TRACEME|PTRACE_SEIZE|ptrace\(|PTRACE_ATTACH/.test(line) &&
    /Operation not permitted|EPERM/.test(line)
  ) {
    return setupError(
      'ptrace_denied',
      `ptrace is not permitted here (${line.trim()}): check kernel.yama.ptrace_scope (sysctl), or run the container with CAP_SYS_PTRACE / a seccomp profile that allows ptrace`,
    );
  }
  const stat = /Can't stat '(.*)': (.*)$/.exec(line);
  if (stat) return setupError('command_not_found', `command not found: ${stat[1] ?? argv0} (${stat[2]})`);
  const exec = /exec: (.*)$/.exec(line);
  if (exec) return setupError('exec_failed', `cannot execute ${argv0}: ${exec[1]}`);
  return setupError('strace_failed', `strace failed: ${line.trim()}`);
}

/** True for a line strace or the isolation tool wrote about itself (not echoed as the command's stderr). */
export function isToolLine(chunk: Buffer): boolean {
  return TOOL_LINE.test(chunk.toString('latin1', 0, 64));
}
