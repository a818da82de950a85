import type { Severity } from '@syscan/core';
import { SyscanError } from '@syscan/core';

/** Severities, lowest first: an alert "at or above" a threshold has an index >= the threshold's. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

export function parseSeverity(value: string, what = '--fail-on'): Severity {
  const v = value.toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(v)) return v as Severity;
  throw new SyscanError(
    'ERR_SYSCAN_USAGE',
    `${what} must be one of ${SEVERITIES.join(', ')} (got '${value}')`,
  );
}
