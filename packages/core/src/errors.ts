/** Codes of the errors syscan throws; adapters map them to exit codes and HTTP statuses in one place. */
export type SyscanErrorCode =
  /** A config or option value is invalid (programmer or user error). */
  | 'ERR_SYSCAN_CONFIG'
  /** Input could not be read at all (not: a malformed line, which is data). */
  | 'ERR_SYSCAN_INPUT'
  /** A child process (strace, the traced command) could not be started. */
  | 'ERR_SYSCAN_SPAWN'
  /** A usage error in an adapter (bad flag combination, missing argument). */
  | 'ERR_SYSCAN_USAGE';

/**
 * Why, within a code: a typed sub-kind adapters switch on (HTTP 422 vs 503, a hint to
 * print), instead of parsing messages or passing strings through `cause`.
 */
export type SyscanErrorReason =
  /** ERR_SYSCAN_SPAWN: no strace binary. */
  | 'strace_missing'
  /** ERR_SYSCAN_SPAWN: ptrace is not permitted (yama, seccomp, missing CAP_SYS_PTRACE). */
  | 'ptrace_denied'
  /** ERR_SYSCAN_SPAWN: the command does not exist. */
  | 'command_not_found'
  /** ERR_SYSCAN_SPAWN: the command exists but cannot be executed. */
  | 'exec_failed'
  /** ERR_SYSCAN_SPAWN: strace failed for another reason. */
  | 'strace_failed'
  /** ERR_SYSCAN_SPAWN: the requested isolation (namespaces) is not available here. */
  | 'isolation_unavailable'
  /** ERR_SYSCAN_USAGE: the working directory is not a directory. */
  | 'bad_cwd'
  /** ERR_SYSCAN_INPUT: nothing in the input was recognised as telemetry. */
  | 'no_telemetry'
  /** ERR_SYSCAN_CONFIG: a rules file has bad YAML, bad syntax or an unknown field (message names file, line, rule). */
  | 'invalid_rule';

/** The one error class syscan throws on purpose. Compare with {@link isSyscanError}, not `instanceof` (dual-package hazard). */
export class SyscanError extends Error {
  readonly code: SyscanErrorCode;
  /** The sub-kind, where the code has several (see {@link SyscanErrorReason}). */
  readonly reason: SyscanErrorReason | undefined;
  constructor(
    code: SyscanErrorCode,
    message: string,
    options?: ErrorOptions & { reason?: SyscanErrorReason | undefined },
  ) {
    super(message, options);
    this.name = 'SyscanError';
    this.code = code;
    this.reason = options?.reason;
  }
}

/** True for a {@link SyscanError} from any copy of this package (checks the name, not the prototype). */
export function isSyscanError(error: unknown): error is SyscanError {
  return (
    error instanceof Error && error.name === 'SyscanError' && typeof (error as SyscanError).code === 'string'
  );
}
