/**
 * Which arguments of which syscalls name files or fds, for the context tracker. A path is
 * `[dirfd argument or -1 for the cwd, path argument]`; the first listed is the call's main
 * target. Names cover x86_64, i386 (`…64`, `…32` variants) and the generic table.
 */

import { internalized } from '../parse/strace/intern.js';

/** `'a b c'` → `['a', 'b', 'c']`: long name lists stay readable. */
function words(text: string): string[] {
  return text.split(' ');
}

/** `[dirfdArg, pathArg]`: dirfd -1 means relative paths resolve against the cwd. */
export type PathArg = readonly [dirfd: number, path: number];

const CWD_PATH_0: readonly PathArg[] = [[-1, 0]];
const AT_PATH_1: readonly PathArg[] = [[0, 1]];

/** Calls whose first argument is a path relative to the cwd. */
const CWD_CALLS = words(
  'open creat stat lstat stat64 lstat64 oldstat oldlstat statfs statfs64 access truncate ' +
    'truncate64 chmod chown lchown chown32 lchown32 utime utimes mknod mkdir rmdir unlink ' +
    'chdir chroot readlink execve uselib acct swapon swapoff getxattr lgetxattr setxattr ' +
    'lsetxattr listxattr llistxattr removexattr lremovexattr umount umount2',
);

/** Calls whose first argument is a dirfd and second a path relative to it. */
const AT_CALLS = words(
  'openat openat2 newfstatat fstatat64 statx faccessat faccessat2 execveat unlinkat mkdirat ' +
    'mknodat fchownat fchmodat fchmodat2 futimesat utimensat readlinkat name_to_handle_at ' +
    'open_tree fspick mount_setattr getxattrat setxattrat listxattrat removexattrat',
);

export const PATH_CALLS = new Map<string, readonly PathArg[]>([
  ...CWD_CALLS.map((n) => [n, CWD_PATH_0] as const),
  ...AT_CALLS.map((n) => [n, AT_PATH_1] as const),
  [
    'rename',
    [
      [-1, 0],
      [-1, 1],
    ],
  ],
  [
    'link',
    [
      [-1, 0],
      [-1, 1],
    ],
  ],
  [
    'pivot_root',
    [
      [-1, 0],
      [-1, 1],
    ],
  ],
  [
    'renameat',
    [
      [0, 1],
      [2, 3],
    ],
  ],
  [
    'renameat2',
    [
      [0, 1],
      [2, 3],
    ],
  ],
  [
    'linkat',
    [
      [0, 1],
      [2, 3],
    ],
  ],
  [
    'move_mount',
    [
      [0, 1],
      [2, 3],
    ],
  ],
  // symlink(target, linkpath): the link made is the target of the call; the text it points
  // to is resolved against the link's directory (see SYMLINK_TARGET).
  ['symlink', [[-1, 1]]],
  ['symlinkat', [[1, 2]]],
  ['mount', [[-1, 1]]],
  ['inotify_add_watch', [[-1, 1]]],
  ['fanotify_mark', [[3, 4]]],
  ['quotactl', [[-1, 1]]],
]);

/** symlink/symlinkat: argument index of the link's content, added after the link itself. */
export const SYMLINK_TARGET = new Map<string, number>([
  ['symlink', 0],
  ['symlinkat', 0],
]);

/** Calls that operate on an fd: the index of that fd argument (two for copies). */
export const FD_CALLS = new Map<string, readonly number[]>();
for (const name of words(
  'read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 fstat fstat64 ' +
    'fstatfs fstatfs64 fchmod fchown fchown32 ftruncate ftruncate64 fsync fdatasync fchdir ' +
    'getdents getdents64 lseek _llseek ioctl fcntl fcntl64 flock fadvise64 fadvise64_64 ' +
    'fallocate fgetxattr fsetxattr flistxattr fremovexattr syncfs sync_file_range readahead ' +
    'close connect accept accept4 bind listen sendto recvfrom sendmsg recvmsg sendmmsg ' +
    'recvmmsg shutdown getsockname getpeername setsockopt getsockopt inotify_rm_watch ' +
    'fanotify_init',
)) {
  FD_CALLS.set(name, [0]);
}
FD_CALLS.set('dup', [0]);
FD_CALLS.set('dup2', [0]);
FD_CALLS.set('dup3', [0]);
FD_CALLS.set('mmap', [4]);
FD_CALLS.set('mmap2', [4]);
FD_CALLS.set('sendfile', [0, 1]);
FD_CALLS.set('sendfile64', [0, 1]);
FD_CALLS.set('copy_file_range', [0, 2]);
FD_CALLS.set('splice', [0, 2]);
FD_CALLS.set('tee', [0, 1]);

/** Calls that return a new fd naming the call's main path. */
export const OPENING_CALLS = new Set(['open', 'openat', 'openat2', 'creat', 'open_tree']);

/** Where a call's sockaddr argument is, and which end it names. */
export const SOCKADDR_ARG = new Map<string, { arg: number; end: 'peer' | 'local' }>([
  ['connect', { arg: 1, end: 'peer' }],
  ['accept', { arg: 1, end: 'peer' }],
  ['accept4', { arg: 1, end: 'peer' }],
  ['sendto', { arg: 4, end: 'peer' }],
  ['recvfrom', { arg: 4, end: 'peer' }],
  ['bind', { arg: 1, end: 'local' }],
  ['getpeername', { arg: 1, end: 'peer' }],
  ['getsockname', { arg: 1, end: 'local' }],
]);

/** sendmsg/recvmsg carry the address inside the msghdr as `msg_name=`. */
export const MSGHDR_CALLS = new Set(['sendmsg', 'recvmsg']);

/** `CLONE_*` flag bits, for `-X raw` traces that print `flags=0x…`. */
export const CLONE_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x100, 'CLONE_VM'],
  [0x200, 'CLONE_FS'],
  [0x400, 'CLONE_FILES'],
  [0x800, 'CLONE_SIGHAND'],
  [0x1000, 'CLONE_PIDFD'],
  [0x2000, 'CLONE_PTRACE'],
  [0x4000, 'CLONE_VFORK'],
  [0x8000, 'CLONE_PARENT'],
  [0x10000, 'CLONE_THREAD'],
  [0x20000, 'CLONE_NEWNS'],
  [0x40000, 'CLONE_SYSVSEM'],
  [0x80000, 'CLONE_SETTLS'],
  [0x100000, 'CLONE_PARENT_SETTID'],
  [0x200000, 'CLONE_CHILD_CLEARTID'],
  [0x400000, 'CLONE_DETACHED'],
  [0x800000, 'CLONE_UNTRACED'],
  [0x1000000, 'CLONE_CHILD_SETTID'],
  [0x2000000, 'CLONE_NEWCGROUP'],
  [0x4000000, 'CLONE_NEWUTS'],
  [0x8000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'],
  [0x40000000, 'CLONE_NEWNET'],
  [0x80000000, 'CLONE_IO'],
];

/** The CLONE_* names of a flags word (bits of a number, as `-X raw` or an audit register gives it). */
export function cloneFlagNames(bits: number): string[] {
  return CLONE_BITS.filter(([bit]) => (bits & bit) >>> 0 === bit).map(([, n]) => n);
}

/** Identity changes: which ids each call sets, by argument (`-1` leaves an id as it is). */
export const ID_CALLS = new Map<string, readonly ('uid' | 'euid' | 'gid' | 'egid' | 'suid' | 'sgid')[]>([
  ['setuid', ['uid', 'euid']],
  ['setuid32', ['uid', 'euid']],
  ['setreuid', ['uid', 'euid']],
  ['setreuid32', ['uid', 'euid']],
  ['setresuid', ['uid', 'euid', 'suid']],
  ['setresuid32', ['uid', 'euid', 'suid']],
  ['setgid', ['gid', 'egid']],
  ['setgid32', ['gid', 'egid']],
  ['setregid', ['gid', 'egid']],
  ['setregid32', ['gid', 'egid']],
  ['setresgid', ['gid', 'egid', 'sgid']],
  ['setresgid32', ['gid', 'egid', 'sgid']],
]);

/** Calls whose return value is an id of the caller. */
export const ID_GETTERS = new Map<string, 'uid' | 'euid' | 'gid' | 'egid'>([
  ['getuid', 'uid'],
  ['getuid32', 'uid'],
  ['geteuid', 'euid'],
  ['geteuid32', 'euid'],
  ['getgid', 'gid'],
  ['getgid32', 'gid'],
  ['getegid', 'egid'],
  ['getegid32', 'egid'],
]);

/** What the tracker does after a successful call (one switch, no further look-ups). */
export const Effect = {
  None: 0,
  Open: 1,
  Close: 2,
  Socket: 3,
  FdPair: 4,
  Dup: 5,
  Fcntl: 6,
  Accept: 7,
  Memfd: 8,
  AnonFd: 9,
  Exec: 10,
  Chdir: 11,
  Fchdir: 12,
  Spawn: 13,
  PidGetter: 14,
  Prctl: 15,
  IdGetter: 16,
  IdSetter: 17,
  Getcwd: 18,
} as const;
export type Effect = (typeof Effect)[keyof typeof Effect];

/** Everything the tracker needs to know about one syscall, found with one look-up per event. */
export interface CallSpec {
  readonly paths: readonly PathArg[] | undefined;
  readonly symlinkTarget: number | undefined;
  readonly fds: readonly number[] | undefined;
  readonly sockaddr: { readonly arg: number; readonly end: 'peer' | 'local' } | undefined;
  readonly msghdr: boolean;
  readonly effect: Effect;
}

const EFFECTS: ReadonlyArray<readonly [Effect, readonly string[]]> = [
  [Effect.Open, [...OPENING_CALLS]],
  [Effect.Close, ['close']],
  [Effect.Socket, ['socket']],
  [Effect.FdPair, ['socketpair', 'pipe', 'pipe2']],
  [Effect.Dup, ['dup', 'dup2', 'dup3']],
  [Effect.Fcntl, ['fcntl', 'fcntl64']],
  [Effect.Accept, ['accept', 'accept4']],
  [Effect.Memfd, ['memfd_create']],
  [
    Effect.AnonFd,
    words(
      'eventfd eventfd2 epoll_create epoll_create1 timerfd_create signalfd signalfd4 inotify_init ' +
        'inotify_init1 fanotify_init userfaultfd pidfd_open perf_event_open io_uring_setup memfd_secret',
    ),
  ],
  [Effect.Exec, ['execve', 'execveat']],
  [Effect.Chdir, ['chdir']],
  [Effect.Fchdir, ['fchdir']],
  [Effect.Getcwd, ['getcwd']],
  [Effect.Spawn, ['clone', 'clone3', 'fork', 'vfork']],
  [Effect.PidGetter, ['getpid', 'gettid', 'set_tid_address']],
  [Effect.Prctl, ['prctl']],
  [Effect.IdGetter, [...ID_GETTERS.keys()]],
  [Effect.IdSetter, [...ID_CALLS.keys()]],
];

function buildCalls(): Map<string, CallSpec> {
  const effects = new Map<string, Effect>();
  for (const [effect, names] of EFFECTS) for (const n of names) effects.set(n, effect);
  const names = new Set([
    ...PATH_CALLS.keys(),
    ...FD_CALLS.keys(),
    ...SOCKADDR_ARG.keys(),
    ...MSGHDR_CALLS,
    ...effects.keys(),
  ]);
  const calls = new Map<string, CallSpec>();
  for (const n of names) {
    calls.set(n, {
      paths: PATH_CALLS.get(n),
      symlinkTarget: SYMLINK_TARGET.get(n),
      fds: FD_CALLS.get(n),
      sockaddr: SOCKADDR_ARG.get(n),
      msghdr: MSGHDR_CALLS.has(n),
      effect: effects.get(n) ?? Effect.None,
    });
  }
  return calls;
}

/** syscall name → what it names and does; calls not listed need nothing but the process. */
export const CALLS: ReadonlyMap<string, CallSpec> = buildCalls();

/**
 * CALLS.get without a Map look-up per event (measured: the tracker's top line on plain
 * traces). Names are bucketed by length and first character; a bucket holds one to three.
 * Its names are V8's internalized copies, as the reader's are (parse/strace/intern.ts), so
 * that `===` finds the one that matches by pointer instead of comparing characters (split
 * words are not internalized: each compare was a call comparing them character by character).
 */
export function callSpecOf(name: string): CallSpec | undefined {
  const len = name.length;
  if (len >= MAX_BUCKETED) return CALLS.get(name);
  const bucket = BUCKETS[(len << 7) | (name.charCodeAt(0) & 127)];
  if (bucket === undefined) return undefined;
  for (let i = 0; i < bucket.length; i++) {
    const entry = bucket[i]!;
    if (entry[0] === name) return entry[1];
  }
  return undefined;
}

const MAX_BUCKETED = 32;
const BUCKETS: (Array<readonly [string, CallSpec]> | undefined)[] = new Array(MAX_BUCKETED << 7).fill(
  undefined,
);
for (const [n, spec] of CALLS) {
  if (n.length >= MAX_BUCKETED) continue;
  const key = (n.length << 7) | (n.charCodeAt(0) & 127);
  const bucket = BUCKETS[key] ?? [];
  bucket.push([internalized(n), spec]);
  BUCKETS[key] = bucket;
}
