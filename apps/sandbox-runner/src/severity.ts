/** `--fail-on` parsing. The severity list itself is core's, the one every adapter shares. */
import { isSeverity, SEVERITIES, type Severity, SyscanError } from '@syscan/core';

export { SEVERITIES };

export function parseSeverity(value: string, what = '--fail-on'): Severity {
  const v = value.toLowerCase();
  if (isSeverity(v)) return v;
  throw new SyscanError(
    'ERR_SYSCAN_USAGE',
    `${what} must be one of ${SEVERITIES.join(', ')} (got '${value}')`,
  );
}
