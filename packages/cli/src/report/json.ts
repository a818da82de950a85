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

/**
 * `--format json`: one document, the session's summary with the verdict and alerts first,
 * in pieces (one per kept alert) so that a report of 1 000 alerts is never built as one
 * string; joined, the pieces are exactly `JSON.stringify(doc, null, 2)` and a newline.
 */
export function* jsonPieces(summary: SessionSummary): Generator<string, void, undefined> {
  const { verdict, events, alerts, ...rest } = summary;
  const head = JSON.stringify({ verdict, events }, null, 2);
  yield `${terminalSafeJson(head.slice(0, -2))},\n  "alerts": ${alerts.length === 0 ? '[]' : '[\n'}`;
  for (let i = 0; i < alerts.length; i++) {
    const json = JSON.stringify(withFileAlias(alerts[i]!), null, 2).replace(/\n/g, '\n    ');
    yield `    ${terminalSafeJson(json)}${i < alerts.length - 1 ? ',' : ''}\n`;
  }
  if (alerts.length > 0) yield '  ]';
  // The rest's own braces are replaced by the document's.
  yield `,\n${terminalSafeJson(JSON.stringify(rest, null, 2).slice(2))}\n`;
}

/** `--format json` as one string (tests, small reports). */
export function renderJson(summary: SessionSummary): string {
  return [...jsonPieces(summary)].join('');
}

/**
 * `--format ndjson`: one line per kept alert (unless follow mode streamed them already),
 * then one `summary` line (the summary minus its alert list), line by line.
 */
export function* ndjsonPieces(
  summary: SessionSummary,
  streamed: boolean,
): Generator<string, void, undefined> {
  const { alerts, ...rest } = summary;
  if (!streamed) for (const alert of alerts) yield ndjsonAlert(alert);
  yield `${terminalSafeJson(JSON.stringify({ kind: 'summary', ...rest }))}\n`;
}

export function renderNdjson(summary: SessionSummary, streamed: boolean): string {
  return [...ndjsonPieces(summary, streamed)].join('');
}

export function ndjsonAlert(alert: SessionAlert): string {
  return `${terminalSafeJson(JSON.stringify({ kind: 'alert', ...withFileAlias(alert) }))}\n`;
}

export function ndjsonSuppressed(entry: SuppressedEntry): string {
  return `${terminalSafeJson(JSON.stringify({ kind: 'suppressed', ...entry }))}\n`;
}
