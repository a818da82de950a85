/**
 * One payload to one verdict: the extractor finds the telemetry, a core session (made per
 * response by `sessionOf`, over the client's own detector) judges it. The guard decides
 * nothing itself: no grouping, ranking or re-judging; a summary a run's own session
 * already judged is taken as it is.
 */
import {
  type Alert,
  type AnalysisSession,
  type AnomalyVerdict,
  createSession,
  type ParsedRecord,
  type SessionSummary,
  type SyscallAnomalyDetector,
  SyscanError,
  traceIntegrity,
} from '@syscan/core';
import type { Request } from 'express';
import { asText } from './extract.js';
import type { ResolvedGuardOptions } from './options.js';
import type { Extracted, GuardVerdict } from './types.js';

const CLEAN: GuardVerdict = Object.freeze({ kind: 'clean' });

/**
 * The session that judges one response, over its client's detector (which keeps its state
 * between responses) with the guard's context and rules. A response's telemetry is a whole
 * run, so, as `syscan analyze` does with a file, a followed `strace -f` process that has no
 * exit record by its end (the trace cut short, its tail left out) is `trace_lost`: judged
 * only where the trace shows exit records at all (not `-qq`, not audit).
 */
export function responseSession(o: ResolvedGuardOptions, detector: SyscallAnomalyDetector): AnalysisSession {
  return createSession({
    detector,
    context: o.context ? undefined : false,
    ownStream: o.ownStream,
    rules: o.rules,
    checks: [traceIntegrity({ expectExits: 'auto' })],
  });
}

/** The verdict for one payload; every failure becomes an `error` verdict, never a throw. */
export function inspectPayload(
  o: ResolvedGuardOptions,
  sessionOf: () => AnalysisSession,
  req: Request,
  payload: unknown,
): GuardVerdict {
  try {
    return judge(o.extract(payload, req), sessionOf, o.maxInspectBytes);
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** Judges what an extractor returned (see {@link Extracted} for the shapes). */
export function judge(
  extracted: Extracted | unknown,
  sessionOf: () => AnalysisSession,
  maxChars: number,
): GuardVerdict {
  if (extracted === undefined) return CLEAN;
  if (typeof extracted === 'string' || extracted instanceof Uint8Array)
    return judgeTexts([extracted], sessionOf, maxChars);
  if (Array.isArray(extracted)) {
    if (extracted.length === 0) return CLEAN;
    const first: unknown = extracted[0];
    if (typeof first === 'string' || first instanceof Uint8Array)
      return judgeTexts(extracted, sessionOf, maxChars);
    return judgeRecords(extracted, sessionOf);
  }
  if (typeof extracted === 'object' && extracted !== null) {
    const reason = (extracted as { uninspected?: unknown }).uninspected;
    if (typeof reason === 'string') return { kind: 'uninspected', reason };
    if (isSessionSummary(extracted)) return adoptSummary(extracted);
  }
  throw badExtract(describe(extracted));
}

/** Texts (each whole lines) parsed by a session as one batch. */
function judgeTexts(
  items: readonly unknown[],
  sessionOf: () => AnalysisSession,
  maxChars: number,
): GuardVerdict {
  let size = 0;
  for (const t of items) {
    if (typeof t === 'string') size += t.length;
    else if (t instanceof Uint8Array) size += t.byteLength;
    else throw badExtract(`an array of texts holding ${describe(t)}`);
  }
  // Truncating would let a command hide activity behind padding: over the cap is unread.
  if (size > maxChars)
    return {
      kind: 'uninspected',
      reason: `telemetry of ${size} characters exceeds maxInspectBytes (${maxChars})`,
    };
  if (size === 0) return CLEAN;
  // The session reads the texts as if joined by newlines, without making the joined copy;
  // they are a whole run, so what only its end tells (a final sequence score) counts too.
  const texts = items.length === 1 ? asText(items[0])! : items.map((t) => asText(t)!);
  return sessionOf().analyzeRun(texts);
}

/** Parsed records or events, judged as one batch. */
function judgeRecords(items: readonly unknown[], sessionOf: () => AnalysisSession): GuardVerdict {
  for (const r of items) {
    const ok =
      typeof r === 'object' &&
      r !== null &&
      (typeof (r as { kind?: unknown }).kind === 'string' ||
        typeof (r as { syscall?: unknown }).syscall === 'string');
    if (!ok) throw badExtract(`an array of records holding ${describe(r)}`);
  }
  return sessionOf().pushRun(items as readonly ParsedRecord[]);
}

/**
 * A run's own verdict, taken as it is, so `Syscan-Verdict` always equals it. An alerting
 * run still spends one verdict of the client's alert budget (like a judged text), so a
 * client whose runs keep alerting cools down; the budget's answer does not change this
 * response's verdict ({@link adopted}).
 */
function adoptSummary(summary: SessionSummary): GuardVerdict {
  if (summary.verdict === 'clean') return CLEAN;
  if (summary.verdict === 'suppressed') {
    return {
      kind: 'suppressed',
      reason: summary.suppressed.reason ?? 'alerts held back by the run',
      heldBack: summary.suppressed.heldBack,
      retryAfterMs: summary.suppressed.last?.retryAfterMs ?? 0,
    };
  }
  let alerts: Alert[] = summary.alerts;
  if (alerts.length === 0) alerts = summary.groups.map((g) => g.first);
  const verdict: AnomalyVerdict = { kind: 'alert', alerts };
  adopted.add(verdict);
  return verdict;
}

/**
 * Verdicts taken from a run's own summary: the guard still counts them against the client's
 * budget, but never changes them (a run that alerted is reported as having alerted).
 */
export const adopted = new WeakSet<object>();

/** The shape of a core `SessionSummary` (what the runner hands over), checked before it is trusted. */
function isSessionSummary(v: object): v is SessionSummary {
  const s = v as Partial<SessionSummary>;
  return (
    (s.verdict === 'clean' || s.verdict === 'alert' || s.verdict === 'suppressed') &&
    Array.isArray(s.alerts) &&
    Array.isArray(s.groups) &&
    typeof s.alertsTotal === 'number' &&
    typeof s.suppressed === 'object' &&
    s.suppressed !== null
  );
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object of no known shape' : `a ${typeof v}`;
}

function badExtract(got: string): SyscanError {
  return new SyscanError(
    'ERR_SYSCAN_USAGE',
    `syscanGuard: extract() must return text, an array of texts or of parsed records, a SessionSummary, { uninspected } or undefined, got ${got}`,
  );
}
