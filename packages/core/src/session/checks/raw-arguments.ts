/**
 * A strace trace whose arguments are printed raw (`strace -e raw=all`, `-e raw=openat`):
 * `openat(0xffffff9c, 0x7ffc749ddad2, 0, 0) = 0x3` names no file and `connect(0x3,
 * 0x7ffe836b3040, 0x10)` no peer, so no rule on paths or addresses (an SSH key read, a
 * connect to the metadata service) can match, and the verdict would be `CLEAN`. The tell is
 * a call whose path or address argument is printed as an address and which the kernel did
 * not refuse for a bad pointer (EFAULT): strace prints an address in place of a path only when
 * it could not read it, and then neither could the kernel, so a hostile program passing a bad
 * pointer does not raise this. Raised once, at the first such call, as `trace_lost`.
 *
 * `-X raw` (constants as numbers, paths still quoted) is read, not raised: the rules read
 * numbered open flags, clone flags, ptrace requests and socket addresses.
 */

import type { ProcessLookup } from '../../context/types.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Calls rules judge by the file or peer they name, and which argument names it. */
const NAMED_ARGUMENT: ReadonlyMap<string, number> = new Map([
  ['open', 0],
  ['creat', 0],
  ['execve', 0],
  ['openat', 1],
  ['openat2', 1],
  ['execveat', 1],
  // Moves, links and mode changes: the rules on persistence and on files made executable.
  ['rename', 0],
  ['renameat', 1],
  ['renameat2', 1],
  ['link', 0],
  ['linkat', 1],
  ['symlink', 0],
  ['symlinkat', 0],
  ['chmod', 0],
  ['fchmodat', 1],
  ['unlink', 0],
  ['unlinkat', 1],
  ['connect', 1],
  ['bind', 1],
  ['sendmsg', 1],
  // After the buffer: read only when nothing is quoted (raw mode prints the buffer as an address).
  ['sendto', 4],
]);

const PEER_CALLS = new Set(['connect', 'bind', 'sendmsg', 'sendto']);

export function rawArgumentsCheck(severity: Severity): SessionCheck {
  let raised = false;
  let input: string | undefined;
  return {
    beginInput(name: string): void {
      input = name;
    },
    record(r: ParsedRecord, out: Alert[], lookup: ProcessLookup): void {
      if (raised || r.kind !== 'syscall' || r.source !== 'strace') return;
      const at = NAMED_ARGUMENT.get(r.syscall);
      if (at === undefined || r.errno === 'EFAULT' || !isAddress(r.args ?? '', at)) return;
      raised = true;
      const alert: Alert = {
        type: 'trace_lost',
        severity,
        message: `the trace prints arguments raw (strace -e raw=…; trace without it): ${r.syscall}() names its ${PEER_CALLS.has(r.syscall) ? 'peer' : 'file'} by address in ${input ?? 'it'}, so no rule on paths or peers can judge it`,
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

/**
 * Whether argument `at` of `args` is a bare hex address (`0x7ffc749ddad2`), not a string or
 * struct. The arguments before it are an fd or dirfd, never quoted, unless `at` is past a
 * buffer: then a quote anywhere means strace decoded the call, and the commas are not counted.
 */
function isAddress(args: string, at: number): boolean {
  if (at > 1 && args.indexOf('"') !== -1) return false;
  let i = 0;
  for (let n = 0; n < at; n++) {
    i = args.indexOf(',', i) + 1;
    if (i === 0) return false;
  }
  while (args.charCodeAt(i) === 32) i++;
  return args.charCodeAt(i) === 48 /* 0 */ && args.charCodeAt(i + 1) === 120 /* x */;
}
