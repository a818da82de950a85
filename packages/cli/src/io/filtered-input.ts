/**
 * `learn` and `seccomp` on a trace filtered to some calls (`strace -e trace=%file`, `-z`,
 * `-P`): what they make knows only the calls the filter kept. Not refused (a baseline then
 * alerts on the rest, a profile refuses it: both fail safe), but said, since the person who
 * filtered may not see it coming.
 */
import { type Alert, filteredTraceCheck, type ParsedRecord } from '@syscan/core';

const NO_ALERTS: Alert[] = [];
const NO_PROCESSES = { process: () => undefined };

export interface FilteredInputWatch {
  beginInput(label: string): void;
  record(record: ParsedRecord): void;
  /** The warning line (without `syscan: warning: `) once all input is read, or undefined. */
  warning(consequence: string): string | undefined;
}

export function watchFilteredInput(): FilteredInputWatch {
  const check = filteredTraceCheck('high');
  return {
    beginInput: (label) => check.beginInput?.(label),
    record: (record) => check.record(record, NO_ALERTS, NO_PROCESSES),
    warning(consequence) {
      const found: Alert[] = [];
      check.end?.(found);
      if (found.length === 0) return undefined;
      return `the input leaves calls out (it was traced with a filter: strace -e trace=…, -z, -Z or -P), so ${consequence}`;
    },
  };
}
