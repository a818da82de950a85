import type {
  Alert,
  AnomalyVerdict,
  ParsedRecord,
  ParseIssue,
  ParseStats,
  Severity,
  SyscallAnomalyDetector,
  SyscallEvent,
} from '@syscan/core';
import { SEVERITIES, severityRank } from './severity.js';

/** A detector alert and the input it came from (the detector's line numbers are per file). */
export type AlertEntry = Alert & { file: string };

export interface SuppressedEntry {
  reason: string;
  heldBack: number;
  retryAfterMs: number;
  file: string;
  /** Line of the last record of the batch that was judged. */
  line?: number | undefined;
}

export interface FileSummary {
  path: string;
  bytes: number;
  lines: number;
  events: number;
  otherRecords: number;
  parseIssues: number;
  truncatedLines: number;
}

/** One kind of finding (type + syscall) across the run: what the text report lists. */
export interface AlertGroup {
  type: Alert['type'];
  syscall: string | undefined;
  severity: Severity;
  message: string;
  /** Alerts of this group. */
  alerts: number;
  /** Events behind them (sum of the alerts' `count`). */
  events: number;
  first: AlertEntry;
  last: AlertEntry;
}

export interface AnalysisOptions {
  /** Alert objects kept for the report; the rest are counted (`alertsDropped`). */
  maxAlerts: number;
  /** Called for every alert as it is found (follow mode streams them). */
  onAlert?: ((alert: AlertEntry) => void) | undefined;
  onSuppressed?: ((entry: SuppressedEntry) => void) | undefined;
}

/** Caps on everything else that grows with the input. */
const MAX_GROUPS = 1000;
const MAX_SAMPLES = 20;
const MAX_DENIED_SYSCALLS = 1000;

export type OverallVerdict = 'clean' | 'alert' | 'suppressed';

/**
 * Feeds parsed batches to one detector and keeps a bounded summary of the run: counts,
 * denials, parse issues, and the alerts (capped). One batch = one detector verdict, as one
 * chunk of a command's output was one `analyze()` call in the seed.
 */
export class Analysis {
  readonly #detector: SyscallAnomalyDetector;
  readonly #options: AnalysisOptions;
  events = 0;
  readonly alerts: AlertEntry[] = [];
  alertsTotal = 0;
  readonly severities: Record<Severity, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
  readonly groups = new Map<string, AlertGroup>();
  groupsDropped = 0;
  alertVerdicts = 0;
  suppressedVerdicts = 0;
  heldBack = 0;
  lastSuppressed: SuppressedEntry | undefined;
  deniedCount = 0;
  readonly deniedBySyscall = new Map<string, { count: number; errnos: Map<string, number> }>();
  readonly deniedSamples: Array<{
    file: string;
    line?: number;
    pid?: number;
    syscall: string;
    errno?: string;
    raw: string;
  }> = [];
  issuesCount = 0;
  readonly issuesByCode = new Map<string, number>();
  readonly issueSamples: Array<ParseIssue & { file: string }> = [];
  readonly files: FileSummary[] = [];

  constructor(detector: SyscallAnomalyDetector, options: AnalysisOptions) {
    this.#detector = detector;
    this.#options = options;
  }

  get detector(): SyscallAnomalyDetector {
    return this.#detector;
  }

  beginFile(path: string): FileSummary {
    const file: FileSummary = {
      path,
      bytes: 0,
      lines: 0,
      events: 0,
      otherRecords: 0,
      parseIssues: 0,
      truncatedLines: 0,
    };
    this.files.push(file);
    return file;
  }

  /** Adds a parser's counters (follow mode reads one file with a new parser after each rotation). */
  endFile(file: FileSummary, stats: Readonly<ParseStats>): void {
    file.bytes += stats.bytes;
    file.lines += stats.lines;
    file.events += stats.syscallEvents;
    file.otherRecords += stats.otherRecords;
    file.parseIssues += stats.issues;
    file.truncatedLines += stats.truncatedLines;
  }

  /** Judges one batch of records; returns the detector's verdict (clean when it held no syscall). */
  feed(batch: readonly ParsedRecord[], file: FileSummary): AnomalyVerdict {
    const events: SyscallEvent[] = [];
    for (const record of batch) {
      if (record.kind === 'syscall') {
        events.push(record);
        if (record.denied) this.#denied(record, file.path);
      } else if (record.kind === 'issue') {
        this.#issue(record, file.path);
      }
    }
    if (events.length === 0) return { kind: 'clean' };
    this.events += events.length;
    const verdict = this.#detector.observe(events);
    if (verdict.kind === 'alert') {
      this.alertVerdicts++;
      for (const alert of verdict.alerts) this.#alert({ ...alert, file: file.path });
    } else if (verdict.kind === 'suppressed') {
      this.suppressedVerdicts++;
      this.heldBack += verdict.heldBack;
      const entry: SuppressedEntry = {
        reason: verdict.reason,
        heldBack: verdict.heldBack,
        retryAfterMs: verdict.retryAfterMs,
        file: file.path,
        line: events[events.length - 1]?.line,
      };
      this.lastSuppressed = entry;
      this.#options.onSuppressed?.(entry);
    }
    return verdict;
  }

  /** clean: nothing found; alert: at least one alert; suppressed: alerts only held back by the budget. */
  get verdict(): OverallVerdict {
    if (this.alertsTotal > 0) return 'alert';
    if (this.heldBack > 0 || this.suppressedVerdicts > 0) return 'suppressed';
    return 'clean';
  }

  /**
   * Whether the run fails the gate. With `failOn`, only alerts at or above it count; alerts
   * held back by the budget have no known severity, so they fail it too (fail safe).
   */
  failing(failOn: Severity | undefined): boolean {
    if (failOn === undefined) return this.verdict !== 'clean';
    if (this.heldBack > 0 || this.suppressedVerdicts > 0) return true;
    const min = severityRank(failOn);
    return SEVERITIES.some((s) => severityRank(s) >= min && this.severities[s] > 0);
  }

  /** Syscall counts, most frequent first. */
  syscallCounts(): Array<[string, number]> {
    return [...this.#detector.syscallCounts()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }

  /** The summary as one JSON-ready object (the `--format json` document minus the alert list). */
  summary(): Record<string, unknown> {
    const lines = this.files.reduce((n, f) => n + f.lines, 0);
    const bytes = this.files.reduce((n, f) => n + f.bytes, 0);
    return {
      verdict: this.verdict,
      events: this.events,
      lines,
      bytes,
      alertsTotal: this.alertsTotal,
      alertsDropped: this.alertsTotal - this.alerts.length,
      truncated: this.alertsTotal > this.alerts.length,
      severities: { ...this.severities },
      suppressed: {
        verdicts: this.suppressedVerdicts,
        heldBack: this.heldBack,
        ...(this.lastSuppressed ? { reason: this.lastSuppressed.reason } : {}),
      },
      syscalls: Object.fromEntries(this.syscallCounts()),
      denied: {
        count: this.deniedCount,
        bySyscall: Object.fromEntries(
          [...this.deniedBySyscall].map(([name, d]) => [
            name,
            { count: d.count, errnos: Object.fromEntries(d.errnos) },
          ]),
        ),
        samples: this.deniedSamples,
      },
      files: this.files,
      parseIssues: {
        count: this.issuesCount,
        byCode: Object.fromEntries(this.issuesByCode),
        samples: this.issueSamples,
      },
    };
  }

  #alert(alert: AlertEntry): void {
    this.alertsTotal++;
    this.severities[alert.severity]++;
    if (this.alerts.length < this.#options.maxAlerts) this.alerts.push(alert);
    const key = `${alert.type}\0${alert.syscall ?? ''}`;
    const group = this.groups.get(key);
    if (group) {
      group.alerts++;
      group.events += alert.count;
      group.last = alert;
      if (severityRank(alert.severity) > severityRank(group.severity)) group.severity = alert.severity;
    } else if (this.groups.size < MAX_GROUPS) {
      this.groups.set(key, {
        type: alert.type,
        syscall: alert.syscall,
        severity: alert.severity,
        message: alert.message,
        alerts: 1,
        events: alert.count,
        first: alert,
        last: alert,
      });
    } else {
      this.groupsDropped++;
    }
    this.#options.onAlert?.(alert);
  }

  #denied(event: SyscallEvent, file: string): void {
    this.deniedCount++;
    let entry = this.deniedBySyscall.get(event.syscall);
    if (!entry && this.deniedBySyscall.size < MAX_DENIED_SYSCALLS) {
      entry = { count: 0, errnos: new Map() };
      this.deniedBySyscall.set(event.syscall, entry);
    }
    if (entry) {
      entry.count++;
      const errno =
        event.errno ?? (event.audit?.seccompAction ? `seccomp:${event.audit.seccompAction}` : '?');
      if (entry.errnos.size < 32 || entry.errnos.has(errno))
        entry.errnos.set(errno, (entry.errnos.get(errno) ?? 0) + 1);
    }
    if (this.deniedSamples.length < MAX_SAMPLES) {
      this.deniedSamples.push({
        file,
        ...(event.line !== undefined ? { line: event.line } : {}),
        ...(event.pid !== undefined ? { pid: event.pid } : {}),
        syscall: event.syscall,
        ...(event.errno !== undefined ? { errno: event.errno } : {}),
        raw: cap(event.raw),
      });
    }
  }

  #issue(issue: ParseIssue, file: string): void {
    this.issuesCount++;
    this.issuesByCode.set(issue.code, (this.issuesByCode.get(issue.code) ?? 0) + 1);
    if (this.issueSamples.length < MAX_SAMPLES)
      this.issueSamples.push({ ...issue, raw: cap(issue.raw), file });
  }
}

function cap(raw: string): string {
  return raw.length > 240 ? `${raw.slice(0, 240)}…` : raw;
}
