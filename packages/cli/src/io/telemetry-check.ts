import { type InputSummary, SyscanError } from '@syscan/core';
import { num, printable } from '../report/style.js';

/**
 * Fails closed on input that holds no telemetry at all: random bytes, an empty file, prose,
 * a journald export, or a trace read with the wrong `--source` would otherwise come out as
 * `CLEAN … 0 events`, and a CI gate pointed at the wrong file would pass. Lines that are not
 * telemetry inside a real trace (program output) are fine: only an input in which nothing
 * at all was recognised is an error. Throws one line naming the first such input.
 */
export function requireTelemetry(
  inputs: readonly InputSummary[],
  /** What to say instead of the generic hint, for an input the caller recognises (e.g. numbers). */
  hintFor: (name: string) => string | undefined = () => undefined,
): void {
  for (const input of inputs) {
    // Records of any kind (syscalls, signals, exits, audit records) mean the format was understood.
    if (input.events + input.otherRecords > 0) continue;
    const unreadable = input.parseIssues > 0 ? `, ${num(input.parseIssues)} unreadable` : '';
    throw new SyscanError(
      'ERR_SYSCAN_INPUT',
      `no telemetry recognised in '${printable(input.name, 200)}' (${num(input.lines)} line${input.lines === 1 ? '' : 's'} read${unreadable}): ` +
        (hintFor(input.name) ??
          'not strace output or an audit log? check --source, or pass --allow-empty to accept it'),
      { reason: 'no_telemetry' },
    );
  }
}
