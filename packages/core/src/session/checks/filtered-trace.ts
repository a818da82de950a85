/**
 * A strace trace that leaves calls out on purpose (`strace -e trace=%file`, `-e
 * trace=openat,connect`): it reads whole, every line parses, and a program's `ptrace`,
 * `mount` or `bpf` outside the filter is simply not there, so a verdict on it would be
 * `CLEAN`. Seen as: processes exiting (`+++ exited with N +++`) while not one `exit` or
 * `exit_group` call is in the whole trace. In a trace of every call, whatever exits of
 * itself shows the call that ended it (a thread ended by another's `exit_group` shows
 * none, but that one does). Or: a shared library opened and not one memory call in the
 * trace (a loader maps every library it opens; `trace=%process,%file` keeps the exits).
 * Or: a program started (`execve` returned 0) and the whole trace holds nothing but calls
 * that start, wait for, signal and end processes (`trace=%process`, `trace=execve,exit_group`):
 * even a static program that maps nothing makes some other call (the corpus's i386 demo
 * writes and opens). Raised once, at the end (an `-ff` file per thread is judged with the
 * others). Not seen: filters that keep all three (`trace=!ptrace`).
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
/** What `strace -e trace=%process` keeps (strace 6.1 showed kill, tgkill and clone3 under it too). */
const PROCESS_CALLS = new Set([
  'execve',
  'execveat',
  'fork',
  'vfork',
  'clone',
  'clone2',
  'clone3',
  'exit',
  'exit_group',
  'wait4',
  'waitid',
  'waitpid',
  'kill',
  'tkill',
  'tgkill',
  'pidfd_send_signal',
]);

export function filteredTraceCheck(severity: Severity): SessionCheck {
  let memoryCalls = 0;
  /** The first library a loader opened, while no memory call had been seen. */
  let libraryOpen: SyscallEvent | undefined;
  let libraryInput: string | undefined;
  let exitCalls = 0;
  /** A call outside PROCESS_CALLS was seen: the trace is not %process-only. */
  let otherCall = false;
  /** The first successful execve, while every call so far was a process call. */
  let started: SyscallEvent | undefined;
  let startedInput: string | undefined;
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
        if (!otherCall) {
          if (!PROCESS_CALLS.has(r.syscall)) otherCall = true;
          else if (started === undefined && r.ret === '0' && r.syscall.startsWith('execve')) {
            started = r;
            startedInput = input;
            processes = lookup;
          }
        }
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
        out.push(filteredAlert(severity, what, libraryOpen, processes, 1, 'library_never_mapped'));
      } else if (!otherCall && started !== undefined) {
        const what = `a program started and ${startedInput ?? 'it'} holds only calls that start, wait for, signal and end processes`;
        out.push(filteredAlert(severity, what, started, processes, 1, 'process_calls_only'));
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
  tell?: string,
): Alert {
  const alert: Alert = {
    type: 'trace_lost',
    severity,
    message: `the trace leaves calls out (strace -e trace=…, -z, -Z or -P; trace every call): ${what}; a ptrace or mount outside the filter is not seen`,
    count,
    sample: cutSample(at.raw),
    details: {
      check: 'trace_integrity',
      reason: 'filtered_trace',
      ...(tell === undefined ? { exits: count } : { tell }),
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
