/**
 * A strace trace that leaves calls out on purpose (`strace -e trace=%file`, `-e
 * trace=openat,connect`): it reads whole, every line parses, and a program's `ptrace`,
 * `mount` or `bpf` outside the filter is simply not there, so a verdict on it would be
 * `CLEAN`. Seen as: processes exiting (`+++ exited with N +++`) while not one `exit` or
 * `exit_group` call is in the whole trace. In a trace of every call, whatever exits of
 * itself shows the call that ended it (a thread ended by another's `exit_group` shows
 * none, but that one does). Or: a shared library opened and not one memory call in the
 * trace (a loader maps every library it opens; `trace=%process,%file` keeps the exits).
 * Raised once, at the end (an `-ff` file per thread is judged with the others). Not seen:
 * filters that keep both (`trace=!ptrace`), or that show no library opens (`trace=%process`).
 */

import type { ProcessLookup } from '../../context/types.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ExitRecord, ParsedRecord, Severity, SyscallEvent } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Calls the dynamic loader makes for every library it opens: a filter that keeps exits may still leave these out. */
const MEMORY_CALLS = new Set(['mmap', 'mmap2', 'brk', 'mprotect', 'munmap', 'mremap']);
const OPENS = new Set(['open', 'openat', 'openat2']);
/** A successful open of the loader's cache or of a shared library (`"/lib/…/libc.so.6"`, `"…/ld.so.cache"`). */
const LIBRARY_OPEN = /\.so(?:\.[\d.]+)?"|\/ld\.so\.cache"/;

export function filteredTraceCheck(severity: Severity): SessionCheck {
  let memoryCalls = 0;
  /** The first library a loader opened, while no memory call had been seen. */
  let libraryOpen: SyscallEvent | undefined;
  let libraryInput: string | undefined;
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
        else if (memoryCalls === 0) {
          if (MEMORY_CALLS.has(r.syscall)) memoryCalls++;
          else if (
            libraryOpen === undefined &&
            OPENS.has(r.syscall) &&
            r.ret !== undefined &&
            r.ret.charCodeAt(0) !== 45 /* - */ &&
            LIBRARY_OPEN.test(r.args ?? '')
          ) {
            libraryOpen = r;
            libraryInput = input;
            processes = lookup;
          }
        }
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
      if (exitCalls === 0 && first !== undefined) {
        const what = `${exits === 1 ? 'a process exits' : `${exits} processes exit`} and not one exit or exit_group call is in ${firstInput ?? 'it'}`;
        out.push(filteredAlert(severity, what, first, processes, exits));
      } else if (memoryCalls === 0 && libraryOpen !== undefined) {
        const what = `a shared library was opened and not one mmap, brk or mprotect call is in ${libraryInput ?? 'it'} (a loader maps what it opens)`;
        out.push(filteredAlert(severity, what, libraryOpen, processes, 1));
      }
    },
  };
}

function filteredAlert(
  severity: Severity,
  what: string,
  at: ExitRecord | SyscallEvent,
  processes: ProcessLookup | undefined,
  count: number,
): Alert {
  const alert: Alert = {
    type: 'trace_lost',
    severity,
    message: `the trace leaves calls out (strace -e trace=…, -z, -Z or -P): a ptrace or mount outside the filter is not seen; ${what}; trace every call`,
    count,
    sample: cutSample(at.raw),
    details: {
      check: 'trace_integrity',
      reason: 'filtered_trace',
      ...(at.kind === 'exit' ? { exits: count } : { tell: 'library_never_mapped' }),
    },
  };
  if (at.line !== undefined) alert.line = at.line;
  if (at.pid !== undefined) {
    alert.pid = at.pid;
    const process = processes?.process(at.pid);
    if (process !== undefined) alert.process = process;
  }
  return alert;
}
