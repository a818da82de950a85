import { createHash } from 'node:crypto';
import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ALERT_TYPES,
  type AlertType,
  type SessionAlert,
  type SessionSummary,
  type Severity,
} from '@syscan/core';
import type { Artifact, Location, Log, Notification, ReportingDescriptor, Result } from 'sarif';
import { STDIN_LABEL } from '../io/input.js';
import { alertTypeRule, LEVEL, ruleFileRule, ruleFileRuleId, securitySeverity } from './sarif-rules.js';
import { terminalSafeJson } from './style.js';

export interface SarifOptions {
  /** syscan's version (`tool.driver.version`). */
  version: string;
  /** Severity per alert type in force for this run (each rule's default level). */
  severity: Readonly<Record<AlertType, Severity>>;
  /** What relative input paths are relative to (`%SRCROOT%`). */
  cwd: string;
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';
/** Bumped only if what the fingerprint covers changes: code scanning matches alerts across runs by it. */
const FINGERPRINT_KEY = 'syscanFinding/v1';

/**
 * `--format sarif`: one SARIF 2.1.0 log for CI (code-scanning uploads, PR annotations).
 * Every alert type is a driver rule, and so is every rule-file rule that fired; each kept
 * alert is a result at its trace file and line. What the report could not show (alerts held
 * back by the budget or past `--max-alerts`, unreadable lines) becomes a tool notification,
 * so an upload never looks cleaner than the run was.
 */
export function renderSarif(summary: SessionSummary, options: SarifOptions): string {
  const rules: ReportingDescriptor[] = ALERT_TYPES.map((t) => alertTypeRule(t, options.severity[t]));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  for (const alert of summary.alerts) {
    if (alert.type !== 'rule' || alert.rule === undefined) continue;
    const id = ruleFileRuleId(alert.rule);
    if (ruleIndex.has(id)) continue;
    ruleIndex.set(id, rules.length);
    rules.push(ruleFileRule(alert.rule, alert.severity, alert.tags));
  }

  const artifacts: Artifact[] = [];
  const artifactIndex = new Map<string, number>();
  for (const input of summary.inputs) {
    if (input.name === STDIN_LABEL) continue;
    artifactIndex.set(input.name, artifacts.length);
    artifacts.push({ location: artifactUri(input.name), length: input.bytes });
  }

  const results: Result[] = summary.alerts.map((alert) => {
    const id = ruleIdOf(alert);
    const result: Result = {
      ruleId: id,
      ruleIndex: ruleIndex.get(id) ?? ruleIndex.get(alert.type)!,
      level: LEVEL[alert.severity],
      message: { text: alert.message },
      partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(alert) },
      properties: resultProperties(alert),
    };
    const location = locationOf(alert, artifactIndex);
    if (location !== undefined) result.locations = [location];
    return result;
  });

  const log: Log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'syscan',
            semanticVersion: options.version,
            version: options.version,
            informationUri: 'https://www.npmjs.com/package/@syscan/cli',
            rules,
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: `${pathToFileURL(options.cwd).href}/` } },
        artifacts,
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications(summary) }],
        results,
        properties: {
          verdict: summary.verdict,
          events: summary.events,
          alertsTotal: summary.alertsTotal,
          alertsDropped: summary.alertsDropped,
          heldBack: summary.suppressed.heldBack,
          parseIssues: summary.parseIssues.count,
        },
      },
    ],
  };
  return `${terminalSafeJson(JSON.stringify(log, null, 2))}\n`;
}

function ruleIdOf(alert: SessionAlert): string {
  return alert.type === 'rule' && alert.rule !== undefined ? ruleFileRuleId(alert.rule) : alert.type;
}

/**
 * What makes two alerts the same finding in two runs: the rule, the syscall, the errno, what
 * was hit (path or peer) and the program. Not the line, pid, time or counts, which change
 * from run to run of the same command.
 */
function fingerprint(alert: SessionAlert): string {
  const parts = [
    ruleIdOf(alert),
    // A sequence alert's syscall is whichever call took the score over: incidental to the finding.
    alert.type === 'sequence_anomaly' ? '' : (alert.syscall ?? ''),
    alert.errno ?? '',
    targetOf(alert) ?? '',
    alert.process?.exe ?? alert.process?.comm ?? '',
  ];
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

function targetOf(alert: SessionAlert): string | undefined {
  const path = alert.paths?.[0];
  if (path !== undefined) return path;
  const peer = alert.peer;
  if (peer === undefined) return undefined;
  if (peer.path !== undefined) return peer.path;
  return peer.address === undefined ? undefined : `${peer.address}:${peer.port ?? ''}`;
}

/** The trace file and line; stdin has no location a viewer could open. */
function locationOf(alert: SessionAlert, artifactIndex: ReadonlyMap<string, number>): Location | undefined {
  const input = alert.input;
  if (input === undefined || input === STDIN_LABEL) return undefined;
  const index = artifactIndex.get(input);
  return {
    physicalLocation: {
      artifactLocation: { ...artifactUri(input), ...(index !== undefined ? { index } : {}) },
      ...(alert.line !== undefined && alert.line >= 1
        ? {
            region: {
              startLine: alert.line,
              ...(alert.sample !== undefined ? { snippet: { text: alert.sample } } : {}),
            },
          }
        : {}),
    },
  };
}

/** A file URL for an absolute path; a relative one stays relative to `%SRCROOT%` (the working directory). */
function artifactUri(path: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(path)) return { uri: pathToFileURL(path).href };
  return { uri: path.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

/** Who did what to what, for viewers that show result properties. */
function resultProperties(alert: SessionAlert): Record<string, unknown> {
  const props: Record<string, unknown> = {
    severity: alert.severity,
    'security-severity': securitySeverity(alert.severity),
    type: alert.type,
    count: alert.count,
  };
  const copy = [
    'syscall',
    'errno',
    'pid',
    'limit',
    'paths',
    'peer',
    'process',
    'rule',
    'tags',
    'signal',
    'key',
    'host',
    // sequence_anomaly: the score, its threshold and the explanation (window, novel pairs).
    'score',
    'threshold',
    'details',
  ] as const;
  for (const key of copy) if (alert[key] !== undefined) props[key] = alert[key];
  if (alert.targets !== undefined) props.targets = alert.targets;
  return props;
}

/** What the results cannot show, as warnings a CI log and code scanning display. */
function notifications(summary: SessionSummary): Notification[] {
  const out: Notification[] = [];
  const add = (id: string, text: string): void => {
    out.push({ level: 'warning', message: { text }, descriptor: { id } });
  };
  const { suppressed } = summary;
  if (suppressed.heldBack > 0 || suppressed.verdicts > 0)
    add(
      'held-back',
      `${suppressed.heldBack} alert(s) held back by the alert budget (${suppressed.reason ?? 'cooldown'}); set maxAlertsPerMinute to 0 to see every alert`,
    );
  if (summary.alertsDropped > 0)
    add('alerts-dropped', `${summary.alertsDropped} alert(s) past --max-alerts are counted but not listed`);
  if (summary.groupsDropped > 0)
    add('groups-dropped', `${summary.groupsDropped} kinds of alert were not grouped`);
  if (summary.parseIssues.count > 0)
    add(
      'unreadable-lines',
      `${summary.parseIssues.count} line(s) looked like telemetry but could not be read`,
    );
  if (summary.rejectedTimes > 0)
    add(
      'rejected-times',
      `${summary.rejectedTimes} event time(s) were implausible and ignored for rate windows`,
    );
  return out;
}
