/**
 * @syscan/express-middleware: `syscanGuard()` checks the syscall telemetry in a
 * tool-execution endpoint's response before it leaves, per client, and slows down clients
 * that keep tripping alerts.
 */

// The default extractor, to wrap or extend in a custom `extract`.
export { defaultExtract, TELEMETRY_FIELDS } from './extract.js';
export type { SyscanGuard } from './guard.js';
// The middleware factory and the handle it returns (with its per-client registry).
export { syscanGuard, VERDICT_HEADER } from './guard.js';
export type { ProblemDetails } from './problem.js';
// Problem type URIs and body shapes of the 403 / 429 / 500 responses.
export { PROBLEM_TYPES } from './problem.js';
export type { PublicAlert } from './redact.js';
// Options, verdicts and the `res.locals.syscan` augmentation.
export type { Extracted, GuardVerdict, GuardVerdictKind, SyscanGuardOptions } from './types.js';
