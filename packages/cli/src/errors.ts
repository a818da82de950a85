import { isSyscanError, SyscanError } from '@syscan/core';
import { CommanderError } from 'commander';
import { printable } from './report/style.js';

/** Exit statuses: the verdict, or why there is none. */
export const EXIT_CLEAN = 0;
export const EXIT_ANOMALY = 1;
export const EXIT_ERROR = 2;

/** An input or usage problem the user can fix; printed as one line, exit 2. */
export function inputError(message: string, cause?: unknown): SyscanError {
  return new SyscanError('ERR_SYSCAN_INPUT', message, cause === undefined ? undefined : { cause });
}

export function usageError(message: string): SyscanError {
  return new SyscanError('ERR_SYSCAN_USAGE', message);
}

/** A config error lists every problem; past this it is cut rather than flood the terminal. */
const MAX_MESSAGE = 4000;

/** Node's system error codes, in words a user reads at 3 a.m. */
const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EIO: 'I/O error',
  ENXIO: 'no such device',
};

/** `cannot read 'x.log': no such file` for an fs error on `path`. */
export function fileError(verb: 'read' | 'write', path: string, error: unknown): SyscanError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && SYSTEM_REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
  return inputError(`cannot ${verb} '${path}': ${reason}`, error);
}

/**
 * The one place that turns an error into an exit status and a message. Every message is
 * one line (`syscan: …`); the stack only with `--debug`, because a trace at 3 a.m. hides
 * the one fact that matters (which file, which key).
 */
export function reportError(error: unknown, write: (line: string) => void, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Help and --version are "errors" to commander's exitOverride; commander has printed them.
    // Help and --version exit 0; help shown for a missing command, and every parse error
    // (already written as one line through configureOutput, see program.ts), exit 2.
    return error.exitCode === 0 ? EXIT_CLEAN : EXIT_ERROR;
  }
  if (isSyscanError(error)) {
    // Messages quote file names and config keys: escaped like every other untrusted text.
    write(`syscan: ${printable(oneLine(error.message), MAX_MESSAGE)}\n`);
    if (debug && error.stack) write(`${error.stack}\n`);
    return EXIT_ERROR;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(
    `syscan: internal error: ${printable(oneLine(message), MAX_MESSAGE)}${debug ? '' : ' (run with --debug for details)'}\n`,
  );
  if (debug && error instanceof Error && error.stack) write(`${error.stack}\n`);
  return EXIT_ERROR;
}

/** Collapses a multi-line message (a config error listing several keys) into one line. */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join('; ');
}
