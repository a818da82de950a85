import type { AlertType, Severity } from '@syscan/core';
import type { ReportingDescriptor } from 'sarif';

/** What each alert type means, for SARIF `tool.driver.rules` (code-scanning shows these texts). */
const DESCRIPTIONS: Readonly<Record<AlertType, { name: string; short: string; full: string }>> = {
  unknown_syscall: {
    name: 'UnknownSyscall',
    short: 'A syscall outside the baseline',
    full: 'The command made a syscall its baseline never saw; critical when the syscall is in the dangerous list (ptrace, mount, bpf, …).',
  },
  denied_syscall: {
    name: 'DeniedSyscall',
    short: 'A call the kernel or a policy refused',
    full: 'A syscall failed with a denial (EACCES, EPERM, audit success=no, SECCOMP, an AVC naming a syscall).',
  },
  denied_rate: {
    name: 'DeniedRate',
    short: 'Too many denials in the window',
    full: 'More denied calls in the rolling window than maxDeniedEventsPerMinute allows.',
  },
  total_rate: {
    name: 'TotalRate',
    short: 'Too many syscalls in the window',
    full: 'More syscall events in the rolling window than maxTotalEventsPerMinute allows.',
  },
  forbidden_syscall: {
    name: 'ForbiddenSyscall',
    short: 'A forbidden syscall',
    full: 'The command made a syscall listed in forbiddenSyscalls, whatever the baseline says.',
  },
  trace_lost: {
    name: 'TraceLost',
    short: 'syscan lost sight of the command',
    full: 'The tracer died, the trace ended early, or a line was cut or unreadable: what happened then is unknown.',
  },
  untraced_child: {
    name: 'UntracedChild',
    short: 'A process syscan cannot see',
    full: 'A child was made with CLONE_UNTRACED, or a pid stopped without an exit record.',
  },
  access_denied: {
    name: 'AccessDenied',
    short: 'An LSM refused an access',
    full: 'SELinux or AppArmor refused an access that no syscall record carries.',
  },
  would_deny: {
    name: 'WouldDeny',
    short: 'An LSM would have refused an access',
    full: 'SELinux in permissive mode or AppArmor in complain mode logged an access it would refuse when enforcing.',
  },
  process_crashed: {
    name: 'ProcessCrashed',
    short: 'A process ended by a fatal signal',
    full: 'A process was killed by SIGSYS (seccomp), SIGSEGV, SIGABRT or another fatal signal, or audit logged ANOM_ABEND.',
  },
  anomaly_record: {
    name: 'AnomalyRecord',
    short: 'An audit anomaly record',
    full: 'The audit log holds an ANOM_* record other than a crash (promiscuous mode, link or creat anomalies, …).',
  },
  audit_tampering: {
    name: 'AuditTampering',
    short: 'The audit trail itself changed',
    full: 'CONFIG_CHANGE, rule deletions or DAEMON_* records: someone changed what audit records.',
  },
  rule: {
    name: 'Rule',
    short: 'A rule of a rule file matched',
    full: 'A rule of a syscan rule file matched; each rule also has its own entry, rule/<name>.',
  },
  sequence_anomaly: {
    name: 'SequenceAnomaly',
    short: 'Calls unlike every normal run',
    full: "A process's sequence of calls scored above the learned model's threshold.",
  },
};

/** SARIF levels: code scanning fails a check on `error`, annotates on `warning` and `note`. */
export const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning's `security-severity` (0–10), which it maps back to critical/high/medium/low. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

/** The driver rule of an alert type, at the severity the run's config gives it. */
export function alertTypeRule(type: AlertType, severity: Severity): ReportingDescriptor {
  const d = DESCRIPTIONS[type];
  return {
    id: type,
    name: d.name,
    shortDescription: { text: d.short },
    fullDescription: { text: d.full },
    defaultConfiguration: { level: LEVEL[severity] },
    properties: { tags: ['security', 'syscall'], 'security-severity': SECURITY_SEVERITY[severity] },
  };
}

/** The driver rule of one rule of a rule file (`rule/<name>`), as its first alert describes it. */
export function ruleFileRule(
  name: string,
  severity: Severity,
  tags: readonly string[] = [],
): ReportingDescriptor {
  return {
    id: ruleFileRuleId(name),
    name,
    shortDescription: { text: `syscan rule '${name}' matched` },
    defaultConfiguration: { level: LEVEL[severity] },
    properties: { tags: ['security', ...tags], 'security-severity': SECURITY_SEVERITY[severity] },
  };
}

export function ruleFileRuleId(name: string): string {
  return `rule/${name}`;
}

export function securitySeverity(severity: Severity): string {
  return SECURITY_SEVERITY[severity];
}
