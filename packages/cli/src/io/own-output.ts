/**
 * Commands that learn from traces (`learn`, `seccomp`) refuse one the traced program wrote
 * into (`strace CMD 2>trace`): text it printed in strace's syntax would read as calls it
 * never made, and the baseline or profile would then allow them.
 */
import { type Alert, type ParsedRecord, programOutputCheck } from '@syscan/core';
import { inputError } from '../errors.js';

const NO_PROCESSES = { process: () => undefined };

/** A per-input watcher of records in order: throws an input error (exit 2) at the first write that comes back in the trace. */
export function refuseProgramOutput(label: string, what: string): (record: ParsedRecord) => void {
  // Output the trace cannot show (sendfile into stderr) is not refused: a trace written with
  // -o FILE, the fix the error names, would still hold it. The session's verdict names it.
  const check = programOutputCheck('critical', { unseen: false });
  const found: Alert[] = [];
  return (record) => {
    check.record(record, found, NO_PROCESSES);
    const alert = found[0];
    if (alert === undefined) return;
    const at = alert.line === undefined ? '' : ` (line ${alert.line}: its write comes back in the trace)`;
    throw inputError(
      `'${label}' holds the traced program's own output${at}: it could have written lines that teach ${what} calls it never made; trace it with strace -o FILE`,
    );
  };
}
