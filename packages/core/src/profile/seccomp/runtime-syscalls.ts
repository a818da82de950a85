/**
 * What a container runtime itself calls after it has loaded the container's seccomp filter
 * and before the container's program runs: `--safe` adds these to a profile, so a profile
 * learned from a bare `strace CMD` also starts CMD under runc or crun.
 *
 * The filter applies from the moment the runtime's init loads it. runc loads it in
 * `linuxStandardInit.Init` (libcontainer/standard_init_linux.go) either before
 * `finalizeNamespace` (without NoNewPrivileges) or "as close to execve as possible" (with
 * it); crun in `container_init_setup`/`container_init` (src/libcrun/container.c). What
 * follows the load is listed per group below, with the function that makes the calls.
 * The Security Profiles Operator ships profiles recorded from the same code paths
 * (kubernetes-sigs/security-profiles-operator examples/baseprofile-runc.yaml, runc-v1.2.3,
 * and baseprofile-crun.yaml, crun-v1.21); every name there that runs after the filter load
 * is here. Names are the x86_64 kernel's; a name an arch lacks is left out on that arch.
 * Checked with runc 1.1.5 (packages/cli/test/seccomp-runc.test.ts): the `minimal` profile of
 * `cat` cannot start under runc, the `safe` one starts, with and without NoNewPrivileges.
 */

export interface RuntimeSyscallGroup {
  /** Who makes these calls, and where in its source. */
  source: string;
  names: readonly string[];
}

export const RUNTIME_START_SYSCALLS: readonly RuntimeSyscallGroup[] = [
  {
    source:
      'runc finalizeNamespace/setupUser (libcontainer/init_linux.go) and crun libcrun_set_caps (src/libcrun/linux.c): ' +
      'mark or close leaked fds, drop capabilities, switch user and groups, enter the working directory',
    names: [
      'capget',
      'capset',
      'chdir',
      'fchdir',
      'getcwd',
      'close',
      'close_range',
      'fcntl',
      'prctl',
      'setgroups',
      'setresgid',
      'setresuid',
      'setgid',
      'setuid',
      'getuid',
      'geteuid',
      'getgid',
      'getegid',
    ],
  },
  {
    source:
      'runc linuxStandardInit.Init (libcontainer/standard_init_linux.go) after the filter load: pdeath signal ' +
      'restore, parent check, exec.LookPath and eaccess, the exec fifo, UnsafeCloseFrom, then exec (Fexecve for runc-dmz); ' +
      'crun: the exec fifo, close_fds_ge_than, then execv',
    names: [
      'getpid',
      'getppid',
      'newfstatat',
      'fstat',
      'statx',
      'fstatfs',
      'faccessat',
      'faccessat2',
      'openat',
      'getdents64',
      'read',
      'write',
      'execve',
      'execveat',
    ],
  },
  {
    source:
      'the Go runtime under runc while the init goroutine runs (scheduler, signals, timers, thread creation, ' +
      'the netpoller); exit paths when a step fails',
    names: [
      'futex',
      'nanosleep',
      'sched_yield',
      'rt_sigaction',
      'rt_sigprocmask',
      'rt_sigreturn',
      'sigaltstack',
      'tgkill',
      'gettid',
      'mmap',
      'munmap',
      'madvise',
      'mprotect',
      'clone',
      'epoll_ctl',
      'epoll_pwait',
      'exit',
      'exit_group',
    ],
  },
  {
    source:
      'the first calls of any dynamically linked program, before its own main (glibc ld.so), as in both base profiles',
    names: ['brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'getrandom'],
  },
];

/** Every runtime name, once. */
export function runtimeStartSyscalls(): string[] {
  const out = new Set<string>();
  for (const g of RUNTIME_START_SYSCALLS) for (const n of g.names) out.add(n);
  return [...out];
}
