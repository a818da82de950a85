/**
 * Alerts from records that are not syscalls the detector can judge: LSM denials without a
 * SYSCALL record (AppArmor, SELinux AVC/USER_AVC), permissive and complain-mode "would have
 * been denied" records, processes killed by a crash signal or by seccomp (strace `+++ killed
 * by SIGSYS +++`, audit ANOM_ABEND), other ANOM_* records, and changes to the audit trail
 * itself (CONFIG_CHANGE, DAEMON_END/ABORT). Without this check all of them came out clean.
 */
import type { Alert } from '../../detect/alert.js';
import type { ResolvedDetectorConfig } from '../../detect/config.js';
import { cutSample } from '../../detect/verdict.js';
import type {
  AuditDetails,
  AuditRecordEvent,
  ExitRecord,
  ParsedRecord,
  Severity,
  SyscallEvent,
} from '../../types.js';
import type { SessionCheck } from '../session.js';
import { CRASH_SIGNALS, signalName } from './signals.js';

type Avc = NonNullable<AuditDetails['avc']>;

/** The check, with severities from the resolved config (`severity.access_denied`, …). */
export function telemetryCheck(config: ResolvedDetectorConfig): SessionCheck {
  const sev = config.severity;
  return {
    record(r: ParsedRecord, out: Alert[]): void {
      if (r.kind === 'exit') crash(r, sev.process_crashed, out);
      else if (r.kind === 'audit') auditRecord(r, config, out);
      else if (r.kind === 'syscall' && r.audit !== undefined) {
        // The syscall went through; an LSM in permissive or complain mode logged that it would not have.
        if (r.audit.avc !== undefined && !r.denied && wouldDeny(r.audit.avc))
          out.push(lsmAlert('would_deny', sev.would_deny, r.audit.avc, r));
        // auditctl's CONFIG_CHANGE shares its sendto's serial: the event is a syscall that carries it.
        recordTypes(r, sev, out);
      }
    },
  };
}

function auditRecord(r: AuditRecordEvent, config: ResolvedDetectorConfig, out: Alert[]): void {
  const sev = config.severity;
  const avc = r.audit.avc;
  if (avc !== undefined) {
    if (r.denied) out.push(lsmAlert('access_denied', sev.access_denied, avc, r));
    else if (wouldDeny(avc)) out.push(lsmAlert('would_deny', sev.would_deny, avc, r));
  }
  recordTypes(r, sev, out);
}

/** Crashes, anomalies and tampering, from the record types of an audit event (with or without a syscall). */
function recordTypes(
  r: AuditRecordEvent | SyscallEvent,
  sev: ResolvedDetectorConfig['severity'],
  out: Alert[],
): void {
  const audit = r.audit;
  if (audit === undefined) return;
  // One alert for an event's CONFIG_CHANGE records (auditctl -D writes one per rule it removes).
  let configChanged = false;
  for (const type of audit.recordTypes) {
    if (type === 'CONFIG_CHANGE') {
      if (!configChanged) out.push(tampering(type, r, sev.audit_tampering));
      configChanged = true;
    } else if (type === 'ANOM_ABEND') {
      // The reader decodes `sig=` for SECCOMP records only; ANOM_ABEND's is in its raw line.
      const sig = audit.signal ?? Number(/\bsig=(\d{1,3})\b/.exec(r.raw)?.[1] ?? Number.NaN);
      const signal = Number.isNaN(sig) ? undefined : signalName(sig);
      const who = audit.exe ?? audit.comm ?? `pid ${r.pid ?? '?'}`;
      out.push(
        withRecord(
          base(
            'process_crashed',
            sev.process_crashed,
            `process crashed: ${who}${signal ? ` (${signal})` : ''}`,
          ),
          r,
          signal,
        ),
      );
    } else if (type.startsWith('ANOM_')) {
      out.push(withRecord(base('anomaly_record', sev.anomaly_record, `audit anomaly: ${type}`), r));
    } else if (type === 'DAEMON_END' || type === 'DAEMON_ABORT') {
      out.push(tampering(type, r, sev.audit_tampering));
    }
  }
}

/** `+++ killed by SIGSEGV (core dumped) +++`: a crash, or a seccomp kill (SIGSYS). */
function crash(r: ExitRecord, severity: Severity, out: Alert[]): void {
  const signal = r.signal;
  if (signal === undefined || !CRASH_SIGNALS.has(signal)) return;
  const what =
    signal === 'SIGSYS' ? 'killed by SIGSYS (a seccomp filter refused a syscall)' : `killed by ${signal}`;
  const core = r.coreDumped === true ? ' (core dumped)' : '';
  const alert = base('process_crashed', severity, `process ${r.pid ?? '?'} ${what}${core}`);
  alert.signal = signal;
  describe(alert, r);
  out.push(alert);
}

/**
 * CONFIG_CHANGE and the daemon's own end. Removing rules, trimming them or switching
 * auditing off blinds the audit trail (high); adding rules and settings is routine at boot
 * (low), yet still worth a line in the report.
 */
function tampering(type: string, r: AuditRecordEvent | SyscallEvent, severity: Severity): Alert {
  if (type !== 'CONFIG_CHANGE') {
    const stopped = withRecord(base('audit_tampering', severity, `audit daemon stopped (${type})`), r);
    stopped.details = { reason: 'daemon_stopped' };
    return stopped;
  }
  const change = configChange(r);
  const key = ruleKey(change.record) ?? r.audit?.key;
  // One send can make several changes (a CONFIG_CHANGE record each): the alert names the one
  // it was judged by and counts the rest.
  const records = r.audit?.recordTypes.filter((t) => t === 'CONFIG_CHANGE').length ?? 0;
  const rule = key === undefined ? '' : `, key "${key}"`;
  const more = records > 1 ? `, and ${records - 1} more change${records > 2 ? 's' : ''} in the event` : '';
  const what =
    change.kind === 'disable'
      ? 'auditing disabled'
      : change.kind === 'weaken'
        ? (change.what as string)
        : change.op !== undefined
          ? `audit rules changed (${change.op}${rule}${more})`
          : 'audit configuration changed';
  // Routine rule loads are low; removing rules, disabling auditing, or a change syscan cannot
  // tell apart stay at the configured severity (fail closed: it may have blinded the trail).
  const alert = withRecord(base('audit_tampering', change.kind === 'add' ? 'low' : severity, what), r);
  // The kind of change, so that reports keep "auditing disabled" apart from a rule change.
  alert.details = { reason: TAMPERING_REASONS[change.kind] };
  // The rule's key: the CONFIG_CHANGE's own (`key="shadow"`: the rule removed or added), else the event's.
  if (key !== undefined) alert.key = key;
  return alert;
}

type ChangeKind = 'add' | 'remove' | 'disable' | 'weaken' | 'unknown';

/** Which of an event's changes it is judged by: the one that blinds the trail most. */
const CHANGE_RANK: Record<ChangeKind, number> = { add: 0, unknown: 1, remove: 2, weaken: 3, disable: 4 };

/** What one CONFIG_CHANGE record did, from its fields (`op=remove_rule`, `audit_enabled=0`). */
function recordChange(record: string): { kind: ChangeKind; op?: string; what?: string; record: string } {
  const op = /\bop=("?)([A-Za-z_ -]+?)\1(?:\s|$)/.exec(record)?.[2];
  if (/\baudit_enabled=0\b/.test(record)) return { kind: 'disable', op, record };
  const weakened = weakenedSetting(record);
  if (weakened !== undefined) return { kind: 'weaken', op, what: weakened, record };
  if (op === 'remove_rule' || op === 'remove rule' || op === 'trim') return { kind: 'remove', op, record };
  if (op === 'add_rule' || op === 'add rule' || op === 'set') return { kind: 'add', op, record };
  return { kind: 'unknown', op, record };
}

/** `details.reason` of a CONFIG_CHANGE alert, by what the change did. */
const TAMPERING_REASONS = {
  add: 'rules_added',
  remove: 'rules_removed',
  disable: 'auditing_disabled',
  weaken: 'setting_weakened',
  unknown: 'config_changed',
} as const;

/** `key="shadow"` of a CONFIG_CHANGE's fields; undefined for `key=(null)` or none. */
function ruleKey(fields: string | undefined): string | undefined {
  const m = fields === undefined ? null : /\bkey="([^"]*)"/.exec(fields);
  return m === null ? undefined : m[1];
}

/**
 * What a CONFIG_CHANGE did: from its own line (`op=remove_rule`, `audit_enabled=0`) when the
 * event is the record itself, else from the auditctl command that made it (its SYSCALL event
 * carries the CONFIG_CHANGE: `-D`/`-d`/`-W` remove, `-e 0` disables, `-a`/`-A`/`-w` add).
 */
function configChange(r: AuditRecordEvent | SyscallEvent): {
  kind: ChangeKind;
  op?: string;
  /** For `weaken`: what the change does to the trail. */
  what?: string;
  /** The record's fields it was read from. */
  record?: string;
} {
  // The records' own fields: kept in the details (also when a SYSCALL event carries them, the
  // program's sendto of its netlink message), else the event's line when it is the record.
  const records = r.audit?.configChange ?? (r.raw.includes('CONFIG_CHANGE') ? [r.raw] : []);
  if (records.length > 0) {
    // One send can carry several changes: the event is what the worst of them did.
    let worst: ReturnType<typeof recordChange> | undefined;
    for (const record of records) {
      const change = recordChange(record);
      if (worst === undefined || CHANGE_RANK[change.kind] > CHANGE_RANK[worst.kind]) worst = change;
    }
    const change = worst as ReturnType<typeof recordChange>;
    // Records past the cap were not read: rule loads alone are routine only if all were seen.
    const present = r.audit?.recordTypes.filter((t) => t === 'CONFIG_CHANGE').length ?? 0;
    if (change.kind === 'add' && present > records.length) return { ...change, kind: 'unknown' };
    return change;
  }
  const argv = r.audit?.argv ?? r.audit?.proctitle?.split(' ') ?? [];
  const e = argv.indexOf('-e');
  if (e !== -1 && argv[e + 1] === '0') return { kind: 'disable', op: 'auditctl -e 0' };
  const weakened = weakeningCommand(argv);
  if (weakened !== undefined) return { kind: 'weaken', op: 'auditctl', what: weakened };
  if (argv.some((a) => a === '-D' || a === '-d' || a === '-W'))
    return { kind: 'remove', op: `auditctl ${argv.slice(1).join(' ')}`.slice(0, 120) };
  if (argv.some((a) => a === '-a' || a === '-A' || a === '-w' || a === '-b' || a === '-R'))
    return { kind: 'add', op: `auditctl ${argv.slice(1).join(' ')}`.slice(0, 120) };
  return { kind: 'unknown' };
}

/**
 * A setting that makes the kernel drop events, or drop them silently, from a CONFIG_CHANGE
 * line (`op=set audit_backlog_limit=1 old=8192`): a smaller backlog or wait, a rate limit,
 * failures no longer reported, auditd unregistered (`audit_pid=0`). Set before a flood of
 * calls, it lets the one that matters be lost (see the audit-loss check).
 */
function weakenedSetting(raw: string): string | undefined {
  const m =
    /\b(audit_backlog_limit|audit_rate_limit|audit_failure|audit_backlog_wait_time|audit_pid)=(\d+) old=(\d+)/.exec(
      raw,
    );
  if (m === null) return undefined;
  const [, name, to, from] = m as unknown as [string, string, string, string];
  const now = Number(to);
  const before = Number(from);
  const change = `${name} ${before} → ${now}`;
  if (name === 'audit_backlog_limit' && now < before)
    return `audit backlog limit lowered (${change}): the kernel drops events past it`;
  if (name === 'audit_backlog_wait_time' && now < before)
    return `audit backlog wait shortened (${change}): the kernel drops events sooner`;
  if (name === 'audit_rate_limit' && now > 0 && (before === 0 || now < before))
    return `audit rate limit set (${change}): the kernel drops events past ${now} a second`;
  if (name === 'audit_failure' && now < before)
    return `audit failures made ${now === 0 ? 'silent' : 'quieter'} (${change}): lost events go unreported`;
  if (name === 'audit_pid' && now === 0 && before !== 0)
    return `audit daemon unregistered (${change}): events no longer reach the log`;
  return undefined;
}

/** The same from an auditctl command line: `-b N` (small), `-r N`, `-f 0`, `--backlog_wait_time 0`. */
function weakeningCommand(argv: readonly string[]): string | undefined {
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    const v = i === -1 ? undefined : argv[i + 1];
    return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
  };
  const backlog = value('-b');
  // The kernel's default is 64 and distributions load 8192: a few hundred or less is a lowering.
  if (backlog !== undefined && backlog < 320)
    return `audit backlog limit set to ${backlog} (auditctl -b): the kernel drops events past it`;
  const rate = value('-r');
  if (rate !== undefined && rate > 0)
    return `audit rate limit set to ${rate} a second (auditctl -r): the kernel drops events past it`;
  if (value('-f') === 0) return 'audit failures made silent (auditctl -f 0): lost events go unreported';
  if (value('--backlog_wait_time') === 0)
    return 'audit backlog wait set to 0 (auditctl --backlog_wait_time 0): the kernel drops events sooner';
  return undefined;
}

/** SELinux `avc: denied` in permissive mode, AppArmor `ALLOWED` (complain mode; `PERMITTING` in pre-2.6 logs). */
function wouldDeny(avc: Avc): boolean {
  return avc.lsm === 'selinux'
    ? avc.result === 'denied'
    : avc.result === 'ALLOWED' || avc.result === 'PERMITTING';
}

function lsmAlert(
  type: 'access_denied' | 'would_deny',
  severity: Severity,
  avc: Avc,
  r: AuditRecordEvent | SyscallEvent,
): Alert {
  const verb = type === 'access_denied' ? 'denied' : 'would deny';
  const op = avc.operation !== undefined ? ` ${avc.operation}` : '';
  const name = avc.name !== undefined ? ` ${avc.name}` : '';
  const mode = type === 'would_deny' ? (avc.lsm === 'selinux' ? ' (permissive)' : ' (complain mode)') : '';
  const profile =
    avc.profile !== undefined ? ` (${avc.lsm === 'selinux' ? 'scontext' : 'profile'} ${avc.profile})` : '';
  const alert = base(type, severity, `${avc.lsm} ${verb}${op}${name}${profile}${mode}`);
  if (r.kind === 'syscall') alert.syscall = r.syscall;
  if (avc.name !== undefined && r.paths === undefined) alert.paths = [avc.name];
  alert.details = {
    lsm: avc.lsm,
    result: avc.result,
    operation: avc.operation,
    profile: avc.profile,
    name: avc.name,
  };
  return withRecord(alert, r);
}

function base(type: Alert['type'], severity: Severity, message: string): Alert {
  return { type, severity, message, count: 1 };
}

/** Where the record came from and who made it: line, pid, time, sample, process, paths, peer, host, key. */
function withRecord(alert: Alert, r: AuditRecordEvent | SyscallEvent, signal?: string): Alert {
  describe(alert, r);
  if (r.process !== undefined) alert.process = r.process;
  if (r.paths !== undefined && r.paths.length > 0) alert.paths = r.paths;
  if (r.peer !== undefined) alert.peer = r.peer;
  if (r.host !== undefined) alert.host = r.host;
  if (r.audit?.key !== undefined) alert.key = r.audit.key;
  if (signal !== undefined) alert.signal = signal;
  return alert;
}

function describe(
  alert: Alert,
  r: { raw: string; line?: number | undefined; pid?: number | undefined; time?: number | undefined },
): void {
  alert.sample = cutSample(r.raw);
  if (r.line !== undefined) alert.line = r.line;
  if (r.pid !== undefined) alert.pid = r.pid;
  if (r.time !== undefined) alert.time = r.time;
}
