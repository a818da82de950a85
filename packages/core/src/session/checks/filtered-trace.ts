/**
 * A strace trace that leaves calls out on purpose (`strace -e trace=%file`, `-e
 * trace=openat,connect`): it reads whole, every line parses, and a program's `ptrace`,
 * `mount` or `bpf` outside the filter is simply not there, so a verdict on it would be
 * `CLEAN`. Raised once, at the end (an `-ff` file per thread is judged with the others), on
 * the first of these tells:
 * - processes exit (`+++ exited with N +++`) and not one `exit` or `exit_group` call is in
 *   the whole trace. In a trace of every call, whatever exits of itself shows the call that
 *   ended it (a thread ended by another's `exit_group` shows none, but that one does);
 * - a shared library is opened and not one memory call is in the trace: a loader maps every
 *   library it opens (`trace=%process,%file` keeps the exits);
 * - a program started (`execve` returned 0), the trace shows an end (an exit call or record),
 *   and it holds nothing but calls that start, wait for, signal and end processes
 *   (`trace=%process`, `trace=execve,exit_group`), or those and calls of one of strace's
 *   classes that no program lives on alone (`%process,%network`, `%memory`, `%signal`,
 *   `%ipc`, or `%file` without an open). Even a static program that maps nothing makes calls
 *   of two classes (the corpus's i386 demo writes, opens and asks its pid). The end is asked
 *   for because a trace cut a few lines after its execve (`head`, an app handing in the start
 *   of a run) is whole as far as it goes;
 * - a library's code was mapped (an mmap of a file with `PROT_EXEC`), the trace shows an end,
 *   and not one `mprotect` is in it: a loader, glibc's and musl's, makes each library's
 *   relocated data read-only (RELRO) before the program runs, so this is a filter that keeps
 *   descriptor calls and not memory ones (`%process,%desc`, `%desc,%file`). A loader that
 *   fails (a library missing) exits 127 before it protects anything: a trace with such an
 *   exit is not judged by this tell;
 * - a traced child's exit reaches its parent (`--- SIGCHLD {…, si_code=CLD_EXITED, si_pid=N, …}
 *   ---`) and not one exit or exit_group call is in the trace: `-qq` drops the exit records
 *   the first tell asks for, not the signals (`-qq -f -e trace=execve`). The child must have
 *   shown calls of its own: an untraced child (no `-f`) of a trace cut before its parent's
 *   exit is no filter.
 *
 * Not seen: filters that keep all of these (`trace=!ptrace`); a filter that keeps descriptor
 * calls in a trace of static programs only (an assembly hello world, whose whole trace is
 * `write` and `exit`, is whole); and `-qq` (no exit records) with a filter that drops the
 * exit calls where no traced child's exit is signalled (`-qq -e trace=%network` of one
 * process), or with `-e signal=none` as well.
 */

import type { ProcessLookup } from '../../context/types.js';
import type { Alert } from '../../detect/alert.js';
import { cutSample } from '../../detect/verdict.js';
import type { ExitRecord, ParsedRecord, Severity, SignalRecord, SyscallEvent } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Calls the dynamic loader makes for every library it opens: a filter that keeps exits may still leave these out. */
const MEMORY_CALLS = new Set(['mmap', 'mmap2', 'brk', 'mprotect', 'munmap', 'mremap']);
const OPENS = new Set(['open', 'openat', 'openat2']);
/** What a loader calls to make a library's relocated data read-only (RELRO). */
const PROTECTS = new Set(['mprotect', 'pkey_mprotect']);
/** A file mapped as code (`mmap(0x…, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|…, 3, 0x26000)`), not anonymous memory. */
const CODE_MAPPING = /PROT_EXEC(?![^,]*,[^,]*MAP_ANON)/;
/** The status a dynamic loader exits with when it cannot load the program (glibc, musl). */
const LOADER_FAILED = 127;
/** A parent told that a child exited of itself (killed children make no exit call): its pid. */
const CHILD_EXITED = /si_code=CLD_EXITED, si_pid=(\d+)/;
/** Most pids remembered while looking for a child whose exit call is missing (past it, only the tell is lost). */
const MAX_TRACKED_PIDS = 4096;
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

/**
 * strace's classes (`-e trace=%net`, …) of the calls a whole trace soon shows, as bits: a
 * call in none of them, or calls of two classes with none in common, say the trace keeps more
 * than one class. (A call missing here only ends the tell early: it can miss a filter, never
 * invent one.)
 */
const CLASS_NAMES = ['network', 'memory', 'signal', 'ipc', 'descriptor', 'file'] as const;
const [NET, MEM, SIG, IPC, DESC, FILE] = [1, 2, 4, 8, 16, 32];
const EVERY_CLASS = 63;
const CALL_CLASSES = new Map<string, number>();
for (const [bits, names] of [
  [
    NET,
    'socket socketpair bind listen accept accept4 connect getsockname getpeername sendto recvfrom setsockopt getsockopt shutdown sendmsg recvmsg sendmmsg recvmmsg socketcall',
  ],
  [
    MEM,
    'brk munmap mremap mprotect madvise mlock mlock2 munlock mlockall munlockall mincore msync remap_file_pages mbind get_mempolicy set_mempolicy pkey_mprotect',
  ],
  [
    SIG,
    'rt_sigaction rt_sigprocmask rt_sigreturn rt_sigsuspend rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo sigaltstack signal sigaction sigprocmask sigreturn sigsuspend sigpending pause',
  ],
  [IPC, 'msgget msgsnd msgrcv msgctl semget semop semtimedop semctl shmget shmctl ipc'],
  [IPC | MEM, 'shmat shmdt'],
  // strace counts an mmap as a descriptor call too (it may map a file).
  [MEM | DESC, 'mmap mmap2'],
  [
    DESC,
    'read write close dup dup2 dup3 fcntl fcntl64 ioctl pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 lseek _llseek fstat fstat64 pipe pipe2 poll ppoll select _newselect pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2 eventfd eventfd2 getdents getdents64 fsync fdatasync ftruncate ftruncate64 flock sendfile sendfile64 splice tee close_range signalfd signalfd4 timerfd_create timerfd_settime timerfd_gettime',
  ],
  [
    DESC | FILE,
    'open openat openat2 creat newfstatat fstatat64 faccessat faccessat2 readlinkat unlinkat renameat renameat2 mkdirat fchmodat fchownat linkat symlinkat mknodat utimensat statx',
  ],
  [
    FILE,
    'access stat stat64 lstat lstat64 readlink unlink rename mkdir rmdir chdir chmod chown lchown link symlink truncate truncate64 statfs statfs64 getcwd mknod utime utimes chroot',
  ],
] as const)
  for (const name of names.split(' ')) CALL_CLASSES.set(name, bits);

export function filteredTraceCheck(severity: Severity): SessionCheck {
  let memoryCalls = 0;
  /** The first library a loader opened, while no memory call had been seen. */
  let libraryOpen: SyscallEvent | undefined;
  let libraryInput: string | undefined;
  let exitCalls = 0;
  let protects = 0;
  /** The first mapping of a file as code, while no mprotect had been seen. */
  let codeMapped: SyscallEvent | undefined;
  let codeInput: string | undefined;
  let loaderFailed = false;
  /** Pids seen making calls, while not one exit call had been seen. */
  const callers = new Set<number>();
  let lastCaller: number | undefined;
  /** The first SIGCHLD for a child seen making calls, while not one exit call had been seen. */
  let childExited: SignalRecord | undefined;
  let childInput: string | undefined;
  /** Classes every call so far other than process calls belongs to (0: two with none in common). */
  let classes = EVERY_CLASS;
  /** Calls seen other than process calls (while `classes` is not 0). */
  let classCalls = 0;
  /** The first successful execve, while `classes` was not 0. */
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
        if (classes !== 0) {
          if (!PROCESS_CALLS.has(r.syscall)) {
            classes &= CALL_CLASSES.get(r.syscall) ?? 0;
            classCalls++;
          } else if (started === undefined && r.ret === '0' && r.syscall.startsWith('execve')) {
            started = r;
            startedInput = input;
            processes = lookup;
          }
        }
        if (protects === 0) {
          if (PROTECTS.has(r.syscall)) protects++;
          else if (
            codeMapped === undefined &&
            (r.syscall === 'mmap' || r.syscall === 'mmap2') &&
            succeededWith(r, CODE_MAPPING)
          ) {
            codeMapped = r;
            codeInput = input;
            processes = lookup;
          }
        }
        if (r.syscall === 'exit_group' && r.args === String(LOADER_FAILED)) loaderFailed = true;
        // (A run of one pid's calls adds it once: this runs on every call until an exit call shows.)
        if (
          exitCalls === 0 &&
          r.pid !== lastCaller &&
          r.pid !== undefined &&
          callers.size < MAX_TRACKED_PIDS
        ) {
          callers.add(r.pid);
          lastCaller = r.pid;
        }
        if (exitCalls === 0 && (r.syscall === 'exit_group' || r.syscall === 'exit')) {
          exitCalls++;
          callers.clear();
        } else if (memoryCalls === 0) {
          if (MEMORY_CALLS.has(r.syscall)) memoryCalls++;
          else if (libraryOpen === undefined && OPENS.has(r.syscall) && succeededWith(r, LIBRARY_OPEN)) {
            libraryOpen = r;
            libraryInput = input;
            processes = lookup;
          }
        }
      } else if (r.kind === 'signal') {
        if (exitCalls === 0 && childExited === undefined && r.signal === 'SIGCHLD' && r.source === 'strace') {
          const child = CHILD_EXITED.exec(r.info ?? '');
          if (child !== null && callers.has(Number(child[1]))) {
            childExited = r;
            childInput = input;
            processes = lookup;
          }
        }
      } else if (r.kind === 'exit' && r.source === 'strace' && r.exitCode !== undefined) {
        exits++;
        if (r.exitCode === LOADER_FAILED) loaderFailed = true;
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
      } else if (exitCalls === 0 && childExited !== undefined) {
        const what = `a traced child exited (its parent's SIGCHLD says so) and not one exit or exit_group call is in ${childInput ?? 'it'}`;
        out.push(filteredAlert(severity, what, childExited, processes, 1, 'child_exit_unseen'));
      } else if (memoryCalls === 0 && libraryOpen !== undefined) {
        const what = `a shared library was opened and not one mmap, brk or mprotect call is in ${libraryInput ?? 'it'} (a loader maps what it opens)`;
        out.push(filteredAlert(severity, what, libraryOpen, processes, 1, 'library_never_mapped'));
      } else if (
        started !== undefined &&
        (exitCalls > 0 || exits > 0) &&
        classes !== 0 &&
        (classCalls === 0 || (classes & DESC) === 0)
      ) {
        const only = 'calls that start, wait for, signal and end processes';
        if (classCalls === 0) {
          const what = `a program started and ${startedInput ?? 'it'} holds only ${only}`;
          out.push(filteredAlert(severity, what, started, processes, 1, 'process_calls_only'));
        } else {
          const names = CLASS_NAMES.filter((_, i) => (classes & (1 << i)) !== 0).join(' or ');
          const what = `a program started and ${startedInput ?? 'it'} holds only ${only} and ${names} calls, never a read, write or second kind of call`;
          out.push(filteredAlert(severity, what, started, processes, 1, 'one_class_of_calls'));
        }
      } else if (
        protects === 0 &&
        codeMapped !== undefined &&
        (exitCalls > 0 || exits > 0) &&
        !loaderFailed
      ) {
        const what = `a library's code was mapped and not one mprotect call is in ${codeInput ?? 'it'} (a loader makes what it relocated read-only)`;
        out.push(filteredAlert(severity, what, codeMapped, processes, 1, 'library_never_protected'));
      }
    },
  };
}

/** A call that returned (not an error) with arguments matching `pattern`. */
function succeededWith(r: SyscallEvent, pattern: RegExp): boolean {
  return r.ret !== undefined && r.ret.charCodeAt(0) !== 45 /* - */ && pattern.test(r.args ?? '');
}

function filteredAlert(
  severity: Severity,
  what: string,
  at: ExitRecord | SignalRecord | SyscallEvent,
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
