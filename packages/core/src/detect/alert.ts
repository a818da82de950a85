/**
 * What syscan reports. One type for every producer (the detector, the session's integrity
 * checks, the rule engine, the sequence model), so every adapter formats one shape.
 */
import type { ProcessInfo, SocketAddress } from '../context/types.js';
import type { Severity } from '../types.js';

/** What an alert is about. The first five are the seed's; their `message` keeps the seed's wording. */
export type AlertType =
  /** A syscall outside `baselineSyscalls` (critical when it is in `dangerousSyscalls`). */
  | 'unknown_syscall'
  /** A call the kernel or a policy refused (EACCES/EPERM, audit `success=no`, SECCOMP, AVC with a syscall). */
  | 'denied_syscall'
  | 'denied_rate'
  | 'total_rate'
  /** A syscall in `forbiddenSyscalls`. */
  | 'forbidden_syscall'
  /** syscan lost sight of the command: the tracer died, the trace ended early, a line was cut or unreadable. */
  | 'trace_lost'
  /** A process syscan cannot see: `clone(CLONE_UNTRACED)`, a pid that vanished without an exit. */
  | 'untraced_child'
  /** An LSM (SELinux, AppArmor) refused an access and no syscall record carries it. */
  | 'access_denied'
  /** An LSM in permissive or complain mode would have refused an access. */
  | 'would_deny'
  /** A process ended by a fatal signal (SIGSYS from seccomp, SIGSEGV, SIGABRT, …) or audit ANOM_ABEND. */
  | 'process_crashed'
  /** An audit ANOM_* record other than a crash (promiscuous mode, link/creat anomalies, …). */
  | 'anomaly_record'
  /** The audit trail itself changed: CONFIG_CHANGE, rule deletions, DAEMON_* records. */
  | 'audit_tampering'
  /** A rule of a rule file matched (the alert's `rule` names it). */
  | 'rule'
  /** A process's calls are unlike every normal process of its program (learned sequence model). */
  | 'sequence_anomaly';

/** Every alert type, in a stable order (config validation, schemas, SARIF rule lists). */
export const ALERT_TYPES: readonly AlertType[] = Object.freeze([
  'unknown_syscall',
  'denied_syscall',
  'denied_rate',
  'total_rate',
  'forbidden_syscall',
  'trace_lost',
  'untraced_child',
  'access_denied',
  'would_deny',
  'process_crashed',
  'anomaly_record',
  'audit_tampering',
  'rule',
  'sequence_anomaly',
]);

/** What enforcement does about an alert (a rule's `action:`; the detector's alerts are `alert`). */
export type AlertAction = 'alert' | 'deny' | 'kill';

/** One distinct target of a merged alert (a path, a peer `ip:port`, a syscall) and how often it was hit. */
export interface AlertTarget {
  target: string;
  count: number;
}

/**
 * One finding. Identical findings of one verdict are merged (non-strict mode): `count` says
 * how many. Everything past `time` is context, present when the telemetry tells it.
 */
export interface Alert {
  type: AlertType;
  severity: Severity;
  /** The seed's wording for seed types, e.g. `unknown syscall 'ptrace' not in baseline`, `denied event rate 3 exceeds limit 2/min`. */
  message: string;
  /** The syscall, for per-syscall alerts. */
  syscall?: string | undefined;
  /** Events merged into this alert; for rate alerts, the peak count in the window. */
  count: number;
  /** The limit passed (rate alerts). */
  limit?: number | undefined;
  /** Raw line of the first event concerned (for rate alerts: the one that crossed the limit), cut to ~240 characters. */
  sample?: string | undefined;
  /** Input line, pid and time (ms) of that event, when known. */
  line?: number | undefined;
  pid?: number | undefined;
  time?: number | undefined;

  /** Errno of the event (`EACCES`), for denials. */
  errno?: string | undefined;
  /** The process that made the call. */
  process?: ProcessInfo | undefined;
  /** Files the call named (absolute where known). */
  paths?: readonly string[] | undefined;
  /**
   * The file an open really opened, when strace `-y` shows one other than the path it named
   * (a symlink: `cat ./k` of `k -> ~/.ssh/id_rsa`); rules judge this one.
   */
  opened?: string | undefined;
  /** The socket peer of the call. */
  peer?: SocketAddress | undefined;
  /** The host that logged it (audit `node=`). */
  host?: string | undefined;
  /** Audit rule key (`key=`). */
  key?: string | undefined;
  /** Signal, for crashes and kills (`SIGSYS`). */
  signal?: string | undefined;
  /** Distinct targets when several were merged into this alert, most frequent first (capped). */
  targets?: AlertTarget[] | undefined;

  /** Rule name, for `rule` alerts. */
  rule?: string | undefined;
  /** Rule tags (Falco's `tags`). */
  tags?: readonly string[] | undefined;
  /** What enforcement should do; absent means `alert`. */
  action?: AlertAction | undefined;

  /** Model score and calibrated threshold, for `sequence_anomaly`. */
  score?: number | undefined;
  threshold?: number | undefined;

  /** Free-form facts of the producer (LSM fields, the model's explanation, …): small, JSON-ready. */
  details?: Readonly<Record<string, unknown>> | undefined;
}
