/**
 * A strace trace whose arguments are printed raw (`strace -e raw=all`, `-e raw=openat`):
 * `openat(0xffffff9c, 0x7ffc749ddad2, 0, 0) = 0x3` names no file, so no rule on paths (an SSH
 * key read, a write to a crontab) can match it, and the verdict would be `CLEAN`. The tell is
 * a call that succeeded with its path argument printed as an address: a path strace could not
 * read from the process's memory fails the call with EFAULT, so a hostile program passing a
 * bad pointer does not raise this. Raised once, at the first such call, as `trace_lost`.
 *
 * `-X raw` (constants as numbers, paths still quoted) is read, not raised: the rules read
 * numbered open flags, clone flags, ptrace requests and socket addresses.
 */

import type { ProcessLookup } from '../../context/types.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Calls rules judge by their path, and which argument holds it (0 or 1: after a dirfd). */
const PATH_ARGUMENT: ReadonlyMap<string, 0 | 1> = new Map([
  ['open', 0],
  ['creat', 0],
  ['execve', 0],
  ['openat', 1],
  ['openat2', 1],
  ['execveat', 1],
]);

export function rawArgumentsCheck(severity: Severity): SessionCheck {
  let raised = false;
  let input: string | undefined;
  return {
    beginInput(name: string): void {
      input = name;
    },
    record(r: ParsedRecord, out: Alert[], lookup: ProcessLookup): void {
      if (raised || r.kind !== 'syscall' || r.source !== 'strace') return;
      const at = PATH_ARGUMENT.get(r.syscall);
      if (at === undefined || r.ret === undefined || r.ret === '?' || r.ret.charCodeAt(0) === 45 /* - */)
        return;
      if (!pathIsAddress(r.args ?? '', at)) return;
      raised = true;
      const alert: Alert = {
        type: 'trace_lost',
        severity,
        message: `the trace prints arguments raw (strace -e raw=…; trace without it): a call that succeeded (${r.syscall}) names its file by address in ${input ?? 'it'}, so no rule on paths can judge it`,
        count: 1,
        sample: cutSample(r.raw),
        syscall: r.syscall,
        details: { check: 'trace_integrity', reason: 'raw_arguments' },
      };
      if (r.line !== undefined) alert.line = r.line;
      if (r.pid !== undefined) {
        alert.pid = r.pid;
        const process = lookup.process(r.pid);
        if (process !== undefined) alert.process = process;
      }
      out.push(alert);
    },
  };
}

/** Whether argument `at` (0 or 1) of `args` is a bare hex address (`0x7ffc749ddad2`), not a string. */
function pathIsAddress(args: string, at: 0 | 1): boolean {
  let i = 0;
  if (at === 1) {
    // The dirfd before it is never quoted: the first comma ends it.
    i = args.indexOf(',') + 1;
    if (i === 0) return false;
    while (args.charCodeAt(i) === 32) i++;
  }
  return args.charCodeAt(i) === 48 /* 0 */ && args.charCodeAt(i + 1) === 120 /* x */;
}
