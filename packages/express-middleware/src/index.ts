/**
 * @syscan/express-middleware: `syscanGuard()` checks the syscall telemetry in a
 * tool-execution endpoint's response before it leaves, per client, and slows down clients
 * that keep tripping alerts.
 */

// The default extractor, to wrap or extend in a custom `extract`.
export type { ExtractorOptions } from './extract.js';
export {
  createExtractor,
  DEFAULT_MAX_DEPTH,
  defaultExtract,
  TELEMETRY_FIELDS,
  uninspected,
} from './extract.js';
export type { SyscanGuard } from './guard.js';
// The middleware factory and the handle it returns (with its per-client registry).
export { syscanGuard, VERDICT_HEADER } from './guard.js';
// Problem type URIs of the guard's 403 / 429 / 502 / 500 responses.
export { PROBLEM_TYPES } from './guard-problems.js';
// The one problem+json writer of syscan's HTTP answers (the guard's and the sandbox runner's).
export type { ProblemDetails, ProblemHeaders } from './problem.js';
export { problemType, retryAfterSecs, sendProblem } from './problem.js';
export type { PublicAlert } from './redact.js';
// Options, verdicts and the `res.locals.syscan` augmentation.
export type { Extracted, GuardVerdict, GuardVerdictKind, SyscanGuardOptions, Uninspected } from './types.js';
// Headers a withheld response keeps.
export { SAFE_HEADERS } from './options.js';
