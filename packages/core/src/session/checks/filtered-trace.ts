/**
 * A strace trace that leaves calls out on purpose (`strace -e trace=%file`, `-e
 * trace=openat,connect`): it reads whole, every line parses, and a program's `ptrace`,
 * `mount` or `bpf` outside the filter is simply not there, so a verdict on it would be
 * `CLEAN`. Seen as: processes exiting (`+++ exited with N +++`) while not one `exit` or
 * `exit_group` call is in the whole trace. In a trace of every call, whatever exits of
 * itself shows the call that ended it (a thread ended by another's `exit_group` shows
 * none, but that one does). Raised once, at the end (an `-ff` file per thread is judged with
 * the others). Not seen: filters that keep the exit calls (`trace=%process,%file`,
 * `trace=!ptrace`).
 */

import type { ProcessLookup } from '../../context/types.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ExitRecord, ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

export function filteredTraceCheck(severity: Severity): SessionCheck {
  let exitCalls = 0;
  let exits = 0;
  let first: ExitRecord | undefined;
  let firstInput: string | undefined;
  let input: string | undefined;
  let processes: ProcessLookup | undefined;
  return {
    beginInput(name: string): void {
      input = name;
    },
    record(r: ParsedRecord, _out: Alert[], lookup: ProcessLookup): void {
      if (r.kind === 'syscall') {
        if (r.source !== 'strace') return;
        if (exitCalls === 0 && (r.syscall === 'exit_group' || r.syscall === 'exit')) exitCalls++;
      } else if (r.kind === 'exit' && r.source === 'strace' && r.exitCode !== undefined) {
        exits++;
        if (first === undefined) {
          first = r;
          firstInput = input;
          processes = lookup;
        }
      }
    },
    end(out: Alert[]): void {
      if (exitCalls > 0 || first === undefined) return;
      const alert: Alert = {
        type: 'trace_lost',
        severity,
        message:
          `the trace leaves calls out (strace -e trace=…, -z, -Z or -P): a ptrace or mount outside the filter is not seen; ` +
          `${exits === 1 ? 'a process exits' : `${exits} processes exit`} and not one exit or exit_group call is in ${firstInput ?? 'it'}; trace every call`,
        count: exits,
        sample: cutSample(first.raw),
        details: { check: 'trace_integrity', reason: 'filtered_trace', exits },
      };
      if (first.line !== undefined) alert.line = first.line;
      if (first.pid !== undefined) {
        alert.pid = first.pid;
        const process = processes?.process(first.pid);
        if (process !== undefined) alert.process = process;
      }
      out.push(alert);
    },
  };
}
