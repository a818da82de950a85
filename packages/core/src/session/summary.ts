/**
 * What a session's run came to, kept bounded whatever the input size: the verdict, alerts
 * grouped the way every report shows them (one group per kind of finding, most severe
 * first), severities, denials per syscall and errno, parse issues, counts, and inputs.
 */

import { detach } from '../detach.js';
import type { Alert, AlertTarget, AlertType } from '../detect/alert.js';
import { eventTarget, MAX_ALERT_TARGETS } from '../detect/verdict.js';
import { maxSeverity, severityRank } from '../severity.js';
import type { ParseIssue, ParseStats, Severity, SyscallEvent } from '../types.js';
import { detachValue } from './summary-detach.js';

/** An alert as a session reports it: which input it came from (line numbers are per input). */
export type SessionAlert = Alert & { input?: string | undefined };

/** One kind of finding across the run (type + syscall, or type + rule): what reports list. */
export interface AlertGroup {
  type: AlertType;
  syscall: string | undefined;
  rule: string | undefined;
  /** The highest severity of the group's alerts. */
  severity: Severity;
  /** The first alert's message. */
  message: string;
  /** Alerts in the group. */
  alerts: number;
  /** Events behind them (sum of the alerts' `count`). */
  events: number;
  /** Distinct targets (paths, peers) over the whole group, most frequent first, capped. */
  targets: AlertTarget[];
  /** Hits on targets past the cap, not in `targets`; absent when every target is listed. */
  targetsOmitted?: number | undefined;
  first: SessionAlert;
  /** The latest alert (for rate alerts: the latest figures). */
  last: SessionAlert;
}

export interface SuppressedEntry {
  reason: string;
  heldBack: number;
  retryAfterMs: number;
  input?: string | undefined;
  /** Line of the last record of the batch that was judged. */
  line?: number | undefined;
}

export interface InputSummary {
  name: string;
  bytes: number;
  lines: number;
  events: number;
  otherRecords: number;
  parseIssues: number;
  truncatedLines: number;
  /** Lines neither strace nor audit (program output, prose, NUL padding): read past, counted here. */
  otherLines: number;
}

export interface DeniedSample {
  input?: string | undefined;
  line?: number | undefined;
  pid?: number | undefined;
  syscall: string;
  errno?: string | undefined;
  raw: string;
}

export type OverallVerdict = 'clean' | 'alert' | 'suppressed';

/** The JSON-ready summary of a session. */
export interface SessionSummary {
  /** clean: nothing found; alert: at least one alert; suppressed: alerts only held back by the budget. */
  verdict: OverallVerdict;
  events: number;
  lines: number;
  bytes: number;
  alertsTotal: number;
  /** Alert objects kept (the first `maxAlerts`). */
  alerts: SessionAlert[];
  alertsDropped: number;
  truncated: boolean;
  /** Groups, most severe first, then in order of first occurrence. */
  groups: AlertGroup[];
  groupsDropped: number;
  severities: Record<Severity, number>;
  suppressed: { verdicts: number; heldBack: number; reason?: string | undefined; last?: SuppressedEntry };
  /** Calls per syscall name, most frequent first. */
  syscalls: Record<string, number>;
  denied: {
    count: number;
    bySyscall: Record<string, { count: number; errnos: Record<string, number> }>;
    samples: DeniedSample[];
  };
  inputs: InputSummary[];
  parseIssues: {
    count: number;
    byCode: Record<string, number>;
    samples: Array<ParseIssue & { input?: string }>;
  };
  /** Event times ignored as implausible (a crafted `1e300`, a jump of years). */
  rejectedTimes: number;
}

export interface SummaryLimits {
  /** Alert objects kept; the rest are counted (`alertsDropped`). Defaults to 1000. */
  maxAlerts?: number | undefined;
  /** Alert groups kept. Defaults to 1000. */
  maxGroups?: number | undefined;
  /** Denial and parse-issue samples kept. Defaults to 20. */
  maxSamples?: number | undefined;
}

const MAX_DENIED_SYSCALLS = 1000;
const MAX_ERRNOS_PER_SYSCALL = 32;
const SAMPLE_CHARS = 240;
/**
 * Verdicts between two copies of the kept alerts (see `settle`): a group's `last` changes
 * with every alert of its kind, and copying it each time would cost more than the few
 * chunks a batch of verdicts keeps alive meanwhile.
 */
const SETTLE_EVERY = 32;

/** Accumulates the summary as the session runs. */
export class SummaryBuilder {
  readonly #maxAlerts: number;
  readonly #maxGroups: number;
  readonly #maxSamples: number;
  events = 0;
  alertsTotal = 0;
  readonly alerts: SessionAlert[] = [];
  readonly severities: Record<Severity, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
  readonly #groups = new Map<string, AlertGroup>();
  #groupOrder = 0;
  readonly #order = new Map<AlertGroup, number>();
  groupsDropped = 0;
  suppressedVerdicts = 0;
  heldBack = 0;
  lastSuppressed: SuppressedEntry | undefined;
  deniedCount = 0;
  readonly #denied = new Map<string, { count: number; errnos: Map<string, number> }>();
  readonly #deniedSamples: DeniedSample[] = [];
  issuesCount = 0;
  readonly #issuesByCode = new Map<string, number>();
  readonly #issueSamples: Array<ParseIssue & { input?: string }> = [];
  readonly #inputs = new Map<string, InputSummary>();
  /** Kept alerts from this index on, and these groups' first/last, still point into read chunks. */
  #settledAlerts = 0;
  readonly #unsettled = new Set<AlertGroup>();
  #verdictsUnsettled = 0;

  constructor(limits: SummaryLimits = {}) {
    this.#maxAlerts = limits.maxAlerts ?? 1000;
    this.#maxGroups = limits.maxGroups ?? 1000;
    this.#maxSamples = limits.maxSamples ?? 20;
  }

  get verdict(): OverallVerdict {
    if (this.alertsTotal > 0) return 'alert';
    if (this.heldBack > 0 || this.suppressedVerdicts > 0) return 'suppressed';
    return 'clean';
  }

  /** The named input's counters (created on first use; a re-opened input adds up). */
  input(name: string): InputSummary {
    let entry = this.#inputs.get(name);
    if (entry === undefined) {
      entry = emptyInput(name);
      this.#inputs.set(name, entry);
    }
    return entry;
  }

  addParseStats(name: string, stats: Readonly<ParseStats>): void {
    addInputStats(this.input(name), stats);
  }

  alert(alert: SessionAlert): void {
    this.alertsTotal++;
    this.severities[alert.severity]++;
    if (this.alerts.length < this.#maxAlerts) this.alerts.push(alert);
    // A blind spot's reason is its own finding: a cut line and a process that never exited
    // are both trace_lost, and one must not hide behind the other's entry.
    const reason = alert.details?.reason;
    const key = `${alert.type}\0${alert.syscall ?? ''}\0${alert.rule ?? ''}\0${typeof reason === 'string' ? reason : ''}`;
    const group = this.#groups.get(key);
    if (group !== undefined) {
      group.alerts++;
      group.events += alert.count;
      group.last = alert;
      this.#unsettled.add(group);
      group.severity = maxSeverity(group.severity, alert.severity);
      const omitted = addTargets(group.targets, alert);
      if (omitted > 0) group.targetsOmitted = (group.targetsOmitted ?? 0) + omitted;
      return;
    }
    if (this.#groups.size >= this.#maxGroups) {
      this.groupsDropped++;
      return;
    }
    const created: AlertGroup = {
      type: alert.type,
      syscall: alert.syscall,
      rule: alert.rule,
      severity: alert.severity,
      message: alert.message,
      alerts: 1,
      events: alert.count,
      targets: [],
      first: alert,
      last: alert,
    };
    const omitted = addTargets(created.targets, alert);
    if (omitted > 0) created.targetsOmitted = omitted;
    this.#unsettled.add(created);
    this.#groups.set(key, created);
    this.#order.set(created, this.#groupOrder++);
  }

  /**
   * After a verdict: replaces what the summary keeps (new kept alerts, the groups' first and
   * last) by copies that hold no read chunk alive, every SETTLE_EVERY verdicts or when
   * `force`d (before a summary is built).
   */
  settle(force = false): void {
    if (!force && ++this.#verdictsUnsettled < SETTLE_EVERY) return;
    this.#verdictsUnsettled = 0;
    const alerts = this.alerts;
    if (this.#settledAlerts === alerts.length && this.#unsettled.size === 0) return;
    // One copy per original: an alert both kept and a group's first is copied once.
    const seen = new Map<object, unknown>();
    for (let i = this.#settledAlerts; i < alerts.length; i++) alerts[i] = detachValue(alerts[i]!, seen);
    this.#settledAlerts = alerts.length;
    for (const group of this.#unsettled) {
      group.first = detachValue(group.first, seen);
      group.last = detachValue(group.last, seen);
    }
    this.#unsettled.clear();
  }

  suppressed(entry: SuppressedEntry): void {
    this.suppressedVerdicts++;
    this.heldBack += entry.heldBack;
    this.lastSuppressed = entry;
  }

  denied(event: SyscallEvent, input: string | undefined): void {
    this.deniedCount++;
    let entry = this.#denied.get(event.syscall);
    if (entry === undefined && this.#denied.size < MAX_DENIED_SYSCALLS) {
      entry = { count: 0, errnos: new Map() };
      this.#denied.set(detach(event.syscall), entry);
    }
    if (entry !== undefined) {
      entry.count++;
      const errno =
        event.errno ?? (event.audit?.seccompAction ? `seccomp:${event.audit.seccompAction}` : '?');
      if (entry.errnos.size < MAX_ERRNOS_PER_SYSCALL || entry.errnos.has(errno))
        entry.errnos.set(entry.errnos.has(errno) ? errno : detach(errno), (entry.errnos.get(errno) ?? 0) + 1);
    }
    if (this.#deniedSamples.length < this.#maxSamples) {
      this.#deniedSamples.push({
        ...(input !== undefined ? { input } : {}),
        ...(event.line !== undefined ? { line: event.line } : {}),
        ...(event.pid !== undefined ? { pid: event.pid } : {}),
        syscall: detach(event.syscall),
        ...(event.errno !== undefined ? { errno: detach(event.errno) } : {}),
        raw: cap(event.raw),
      });
    }
  }

  issue(issue: ParseIssue, input: string | undefined): void {
    this.issuesCount++;
    this.#issuesByCode.set(issue.code, (this.#issuesByCode.get(issue.code) ?? 0) + 1);
    if (this.#issueSamples.length < this.#maxSamples)
      this.#issueSamples.push(
        detachValue({ ...issue, raw: cap(issue.raw), ...(input !== undefined ? { input } : {}) }, new Map()),
      );
  }

  /** Groups, most severe first, then in order of first occurrence. */
  groups(): AlertGroup[] {
    const order = this.#order;
    return [...this.#groups.values()].sort(
      (a, b) => severityRank(b.severity) - severityRank(a.severity) || order.get(a)! - order.get(b)!,
    );
  }

  build(syscalls: ReadonlyMap<string, number>, rejectedTimes: number): SessionSummary {
    this.settle(true);
    const inputs = [...this.#inputs.values()].map((i) => ({ ...i }));
    const sortedSyscalls = [...syscalls].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return {
      verdict: this.verdict,
      events: this.events,
      lines: inputs.reduce((n, f) => n + f.lines, 0),
      bytes: inputs.reduce((n, f) => n + f.bytes, 0),
      alertsTotal: this.alertsTotal,
      alerts: [...this.alerts],
      alertsDropped: this.alertsTotal - this.alerts.length,
      truncated: this.alertsTotal > this.alerts.length,
      groups: this.groups().map((g) => ({ ...g, targets: sortTargets(g.targets) })),
      groupsDropped: this.groupsDropped,
      severities: { ...this.severities },
      suppressed: {
        verdicts: this.suppressedVerdicts,
        heldBack: this.heldBack,
        ...(this.lastSuppressed
          ? { reason: this.lastSuppressed.reason, last: { ...this.lastSuppressed } }
          : {}),
      },
      syscalls: Object.fromEntries(sortedSyscalls),
      denied: {
        count: this.deniedCount,
        bySyscall: Object.fromEntries(
          [...this.#denied].map(([name, d]) => [
            name,
            { count: d.count, errnos: Object.fromEntries(d.errnos) },
          ]),
        ),
        samples: [...this.#deniedSamples],
      },
      inputs,
      parseIssues: {
        count: this.issuesCount,
        byCode: Object.fromEntries(this.#issuesByCode),
        samples: [...this.#issueSamples],
      },
      rejectedTimes,
    };
  }
}

/**
 * Adds an alert's targets (its own, or the list it carries) to a group's capped list;
 * returns the hits on targets the cap left out, so the report can say there were more.
 */
function addTargets(targets: AlertTarget[], alert: Alert): number {
  const list = alert.targets ?? singleTarget(alert);
  let omitted = 0;
  for (const t of list) {
    const seen = targets.find((x) => x.target === t.target);
    if (seen !== undefined) seen.count += t.count;
    else if (targets.length < MAX_ALERT_TARGETS) targets.push({ target: detach(t.target), count: t.count });
    else omitted += t.count;
  }
  return omitted;
}

function singleTarget(alert: Alert): AlertTarget[] {
  const target = eventTarget(alert, alert.opened);
  return target === undefined ? [] : [{ target, count: alert.count }];
}

function sortTargets(targets: AlertTarget[]): AlertTarget[] {
  return [...targets].sort((a, b) => b.count - a.count);
}

/** A sample of a raw line, copied: the line is a slice of its read chunk. */
function cap(raw: string): string {
  return detach(raw.length > SAMPLE_CHARS ? `${raw.slice(0, SAMPLE_CHARS)}…` : raw);
}

/** An input's counters before anything of it was read. */
export function emptyInput(name: string): InputSummary {
  return {
    name,
    bytes: 0,
    lines: 0,
    events: 0,
    otherRecords: 0,
    parseIssues: 0,
    truncatedLines: 0,
    otherLines: 0,
  };
}

/** Adds a parser's counters to an input's. */
export function addInputStats(entry: InputSummary, stats: Readonly<ParseStats>): void {
  entry.bytes += stats.bytes;
  entry.lines += stats.lines;
  entry.events += stats.syscallEvents;
  entry.otherRecords += stats.otherRecords;
  entry.parseIssues += stats.issues;
  entry.truncatedLines += stats.truncatedLines;
  entry.otherLines += stats.unrecognisedLines;
}
