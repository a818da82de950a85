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

/** The one error class syscan throws on purpose. Compare with {@link isSyscanError}, not `instanceof` (dual-package hazard). */
export class SyscanError extends Error {
  readonly code: SyscanErrorCode;
  constructor(code: SyscanErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SyscanError';
    this.code = code;
  }
}

/** True for a {@link SyscanError} from any copy of this package (checks the name, not the prototype). */
export function isSyscanError(error: unknown): error is SyscanError {
  return (
    error instanceof Error && error.name === 'SyscanError' && typeof (error as SyscanError).code === 'string'
  );
}
