/** What a run is asked to do and what it comes to: the contract of `runSandboxed`. */
import type {
  Alert,
  AlertTarget,
  DetectorConfig,
  LoadedRule,
  ResolvedDetectorConfig,
  SessionAlert,
  SessionSummary,
  Severity,
} from '@syscan/core';
import type { CapturedOutput } from './capture.js';
import type { IsolationMode, IsolationTool } from './isolation.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_FAIL_ON: Severity = 'high';

export interface ExecRequest {
  /** The command and its arguments; never interpreted by a shell. */
  argv: readonly string[];
  cwd?: string | undefined;
  /**
   * The command's whole environment (not merged). Defaults to this process's. It is given
   * to the command only: strace and the isolation tool run with nothing but `PATH`.
   */
  env?: NodeJS.ProcessEnv | undefined;
  /** Bytes fed to the command's stdin, or `'inherit'` to pass this process's fd 0. Default: /dev/null. */
  stdin?: string | Uint8Array | 'inherit' | undefined;
  /** Kill the whole tree after this many ms. */
  timeoutMs?: number | undefined;
  /**
   * Kill the whole tree at the first alert at or above `failOn`, or a rule alert whose action
   * is `kill`; refuse at syscall entry what the policy and rules decided by syscall name alone
   * would kill or deny for.
   */
  enforce?: boolean | undefined;
  failOn?: Severity | undefined;
  /**
   * Monitor mode: enforcement is computed but not applied (even with `enforce`); the result
   * says what it would have done (`dryRun.wouldKill`, `dryRun.wouldRefuseAtEntry`).
   */
  dryRun?: boolean | undefined;
  /** Rules judged on every event (core's `loadRules`); default: the shipped pack; `false`: none. */
  rules?: readonly LoadedRule[] | false | undefined;
  /** Every alert as the session finds it (the server's Falco log). */
  onAlert?: ((alert: SessionAlert) => void) | undefined;
  /** The policy: a detector config, or one `loadPolicy` resolved (a policy merged with a baseline). */
  policy: DetectorConfig | ResolvedDetectorConfig;
  /**
   * `auto` (default) and `namespaces`: the command runs in its own user, PID and mount
   * namespaces with a private /proc (bwrap where installed, else util-linux unshare), and the
   * run refuses to start (`isolation_unavailable`) when they cannot be made. `none`: no
   * namespaces, asked for explicitly.
   */
  isolation?: IsolationMode | undefined;
  /** Which tool makes the namespaces (default: bwrap if installed, else unshare). Tests pin it. */
  isolationTool?: IsolationTool | undefined;
  /**
   * CPUs strace and the command run on (`taskset -c`; see `exec/cpus.ts`): on a VM several
   * times faster for a syscall-heavy command, at the cost of its parallelism. Default: all.
   */
  cpus?: readonly number[] | undefined;
  /** Cap of the stdout and stderr kept each (default 1 MiB). */
  maxOutputBytes?: number | undefined;
  /** Live copies of the command's output (the CLI shows it as it comes). */
  onStdout?: ((chunk: Buffer) => void) | undefined;
  onStderr?: ((chunk: Buffer) => void) | undefined;
  /** Aborting kills the tree (reason `aborted`): graceful shutdown, a client that hung up. */
  signal?: AbortSignal | undefined;
  /** strace binary (default: `strace` on PATH). */
  strace?: string | undefined;
}

/**
 * Why the runner killed the tree: an alert at or above `failOn` under enforce, the timeout,
 * an abort, or `trace_lost`: strace itself was attached or stopped, so nothing of the run
 * could be seen any more (killed whether or not enforcing: the run cannot go on observed).
 */
export type KillReason = 'policy' | 'timeout' | 'aborted' | 'trace_lost';

/** One group of the session's summary, as the result lists it: its first alert, and how often it fired. */
export interface ReportedAlert extends Alert {
  /** Alerts of this kind (type and syscall, or rule) during the run. */
  occurrences: number;
  /** Distinct targets (paths, peers) over the whole group, most frequent first. */
  targets?: AlertTarget[] | undefined;
}

/** Which isolation was in force for the run. */
export interface IsolationInForce {
  mode: 'namespaces' | 'none';
  /** The tool that made the namespaces. */
  tool?: IsolationTool | undefined;
  /** The run's PID namespace (`pid:[4026532…]`), when it could be read: every process of the run was in it. */
  pidNamespace?: string | undefined;
  /**
   * strace ran from an execute-only copy, so it was not dumpable: without CAP_SYS_PTRACE
   * (which an isolated command lacks) nothing could ptrace it or take its fds. False where
   * the copy could not be executed (a `noexec` temp dir).
   */
  tracerUnreachable?: boolean | undefined;
  /** The CPUs strace and the command were held to (`--cpus`); absent when they had all. */
  cpus?: number[] | undefined;
}

/** The breach that would have ended the run, in monitor mode. */
export interface WouldKill {
  /** The rule that fired, for rule alerts. */
  rule?: string | undefined;
  /** Absent when the breach was alerts the budget held back (enforcing blind). */
  type?: Alert['type'] | undefined;
  severity?: Severity | undefined;
  action?: Alert['action'];
  message: string;
  syscall?: string | undefined;
  /** The trace line. */
  sample?: string | undefined;
}

/** What monitor mode computed and did not apply. */
export interface DryRunReport {
  /** The first alert that would have killed the tree under enforce, or null. */
  wouldKill: WouldKill | null;
  /** Syscalls strace would have refused at entry (killing the caller), sorted. */
  wouldRefuseAtEntry: string[];
  /**
   * When every call outside the baseline would have killed: the only syscalls strace would
   * have let run (every other refused at entry), sorted. Absent otherwise.
   */
  wouldAllowOnly?: string[] | undefined;
  /** Calls the command made that would have been refused at entry, per name. */
  refusableCalls: Record<string, number>;
}

export interface ExecResult {
  argv: string[];
  /** The command's exit status when it exited, else null. */
  exitCode: number | null;
  /** The signal that ended it (e.g. `SIGKILL`), else null. */
  signal: string | null;
  /** The status the CLI exits with: the command's own, or 128 + signal number. */
  status: number;
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** The session's verdict: `alert` when it found anything (or held alerts back), else `clean`. */
  verdict: 'clean' | 'alert';
  /** The session's alert groups, most severe first. */
  alerts: ReportedAlert[];
  alertsTotal: number;
  /** Alert groups not kept (cap reached). */
  alertsDropped: number;
  /** Set when the detector's alert budget held alerts back. */
  suppressed?: { reason: string; heldBack: number } | undefined;
  /** Calls per syscall name, as the session counted them. */
  syscalls: Record<string, number>;
  events: number;
  killed: { reason: KillReason; alert?: Alert | undefined; message: string } | null;
  /** `chunks`: reads of the trace pipe (a measure of wake-ups); `linesLost`: cut or unreadable lines. */
  trace: { lines: number; bytes: number; issues: number; pids: number; chunks: number; linesLost: number };
  /** Pids the trace saw (the first 1024), as the tracer saw them (inside the PID namespace when isolated). */
  processes: number[];
  /** The process group the runner started (the isolation tool's, or strace's without isolation). */
  pgid: number | null;
  /** Raw trace lines of the alerts (first ones, capped): the evidence. */
  evidence: string[];
  /** Enforcement was applied (false in monitor mode). */
  enforce: boolean;
  failOn: Severity;
  /** Monitor mode's report; absent when the run was not a dry run. */
  dryRun?: DryRunReport | undefined;
  isolation: IsolationInForce;
  /** The session's whole summary (groups, severities, denials, parse issues, counts). */
  summary: SessionSummary;
}
