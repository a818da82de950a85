import type { SessionAlert, SessionSummary, SuppressedEntry } from '@syscan/core';
import { terminalSafeJson } from './style.js';

/**
 * An alert as the JSON reports write it: the session's alert, plus `file`, the name the
 * CLI used before alerts carried `input` (kept so existing `jq '.alerts[].file'` gates
 * keep working; the same string).
 */
function withFileAlias(alert: SessionAlert): SessionAlert & { file?: string } {
  return alert.input === undefined ? alert : { ...alert, file: alert.input };
}

/** `--format json`: one document, the session's summary with the verdict and alerts first. */
export function renderJson(summary: SessionSummary): string {
  const { verdict, events, alerts, ...rest } = summary;
  const doc = { verdict, events, alerts: alerts.map(withFileAlias), ...rest };
  return `${terminalSafeJson(JSON.stringify(doc, null, 2))}\n`;
}

/**
 * `--format ndjson`: one line per kept alert (unless follow mode streamed them already),
 * then one `summary` line (the summary minus its alert list).
 */
export function renderNdjson(summary: SessionSummary, streamed: boolean): string {
  const { alerts, ...rest } = summary;
  const lines = streamed ? [] : alerts.map(ndjsonAlert);
  lines.push(`${terminalSafeJson(JSON.stringify({ kind: 'summary', ...rest }))}\n`);
  return lines.join('');
}

export function ndjsonAlert(alert: SessionAlert): string {
  return `${terminalSafeJson(JSON.stringify({ kind: 'alert', ...withFileAlias(alert) }))}\n`;
}

export function ndjsonSuppressed(entry: SuppressedEntry): string {
  return `${terminalSafeJson(JSON.stringify({ kind: 'suppressed', ...entry }))}\n`;
}
