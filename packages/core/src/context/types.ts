/**
 * Who did what to what: the context syscan attaches to events and alerts. Filled in by the
 * context tracker (strace: from execve/clone/chdir/…; audit: from the event's own records)
 * and read by the detector's alerts, the rule engine's fields and the sequence model.
 *
 * Every object here is an immutable snapshot: a process that calls execve, chdir or setuid
 * gets a new ProcessInfo, so an alert keeps the facts that held when its call was made.
 */

/** The process that made a call, as far as the telemetry tells. */
export interface ProcessInfo {
  /**
   * The process (thread group) id; a thread's calls carry its process's. 0 when the trace
   * does not show it: strace without -f prints no pids, so the tracker learns it from the
   * first `set_tid_address`/`getpid` return, and the calls before it say 0.
   */
  readonly pid: number;
  /** Parent pid (strace: the pid whose clone/fork returned this one; audit: `ppid=`). */
  readonly ppid?: number | undefined;
  /** Executable path (audit `exe=`; strace: execve's first argument, resolved against cwd). */
  readonly exe?: string | undefined;
  /** Command name: audit `comm=`, strace `-Y`, else the basename of `exe` cut to 15 characters as the kernel does. */
  readonly comm?: string | undefined;
  /** argv of the program (strace: execve's argv; audit: EXECVE, else PROCTITLE). */
  readonly argv?: readonly string[] | undefined;
  /** True when `argv` is incomplete: strace cut a string (`-s`) or elided entries, or a cap was hit. */
  readonly argvTruncated?: boolean | undefined;
  /** Which `argv` entries strace cut at `-s` (their start is all the trace shows), by index. */
  readonly argvCut?: readonly number[] | undefined;
  /** Working directory (audit CWD; strace: followed through chdir/fchdir when the trace shows it). */
  readonly cwd?: string | undefined;
  readonly uid?: number | undefined;
  readonly euid?: number | undefined;
  readonly gid?: number | undefined;
  readonly egid?: number | undefined;
  /** Login uid (audit `auid=`; Falco's `user.loginuid`). Unset (4294967295) is left out. */
  readonly auid?: number | undefined;
  /** Name of `uid` as the log's host named it (audit ENRICHED `UID=`, ausearch -i; Falco's `user.name`). */
  readonly user?: string | undefined;
  /** Name of `auid`, the user who logged in (Falco's `user.loginname`). */
  readonly loginUser?: string | undefined;
  /** Audit session id. */
  readonly ses?: number | undefined;
  readonly tty?: string | undefined;
}

/** Address family of a socket peer, named as Falco's `fd.typechar`/ECS do. */
export type SocketFamily = 'inet' | 'inet6' | 'unix' | 'netlink' | 'other';

/** One end of a socket: `connect`/`sendto` peer or `bind` address. */
export interface SocketAddress {
  readonly family: SocketFamily;
  /** IP literal, canonical form (`169.254.169.254`, `fd00:ec2::254`). */
  readonly address?: string | undefined;
  readonly port?: number | undefined;
  /** AF_UNIX path; abstract names start with `@`. */
  readonly path?: string | undefined;
  /** Layer-4 protocol when known (socket type, `-yy` decoration): `tcp`, `udp`, `raw`. */
  readonly protocol?: 'tcp' | 'udp' | 'raw' | 'other' | undefined;
}

/** Looks up the latest known snapshot of a process (ancestors for `proc.pname`, `proc.aname[N]`). */
export interface ProcessLookup {
  process(pid: number): ProcessInfo | undefined;
}
