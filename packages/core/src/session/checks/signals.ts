/**
 * Signal names by number (the generic Linux numbering of x86, arm, riscv, …; MIPS, SPARC
 * and Alpha differ for some) and which signals end a process as a crash.
 */
const NAMES: readonly string[] = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];

/** `SIGSEGV` for 11; `SIG42` past the table. */
export function signalName(nr: number): string {
  return Number.isInteger(nr) && nr > 0 && nr < NAMES.length ? NAMES[nr]! : `SIG${nr}`;
}

/**
 * Signals whose default action is a core dump, plus SIGSYS (a seccomp filter's kill): a
 * process that dies of one crashed or was stopped by a policy, which an operator wants to
 * see. SIGKILL and SIGTERM are how processes are normally stopped (also by syscan).
 */
export const CRASH_SIGNALS: ReadonlySet<string> = new Set([
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGSYS',
]);
