/**
 * The one list of severities. Every adapter ranks and compares alerts through these
 * helpers, so "at or above high" means the same thing in the CLI, the guard and the runner.
 */
import type { Severity } from './types.js';

/** Severities, lowest first: an alert "at or above" a threshold has a rank >= the threshold's. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['info', 'low', 'medium', 'high', 'critical']);

const RANK: Readonly<Record<Severity, number>> = Object.freeze({
  info: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
});

/** 0 for `info` … 4 for `critical`; -1 for anything that is not a severity. */
export function severityRank(severity: Severity): number {
  return Object.hasOwn(RANK, severity) ? RANK[severity] : -1;
}

/** True when `severity` is at or above `threshold`. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

/** Type guard for user input (`--fail-on HIGH` is lower-cased by the caller). */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** The higher of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(b) > severityRank(a) ? b : a;
}
