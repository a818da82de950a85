/**
 * Pieces of a detector verdict: alerts made from events (with the event's context), the
 * suppressed verdict, and the window label of rate messages.
 */
import { openedElsewhere } from '../context/opened-path.js';
import type { SyscallEvent } from '../types.js';
import type { Alert, AlertType } from './alert.js';
import type { AnomalyVerdict, DetectorStats } from './detector.js';

/** Samples are cut to this many UTF-16 units (never inside a surrogate pair). */
export const SAMPLE_LENGTH = 240;
/** Distinct targets listed on a merged alert. */
export const MAX_ALERT_TARGETS = 16;

export function newAlert(type: AlertType, severity: Alert['severity'], message: string): Alert {
  return { type, severity, message, count: 1 };
}

/** A denied_rate or total_rate alert: the seed's wording, the peak, the limit, and the event that crossed it. */
export function rateAlert(
  type: 'denied_rate' | 'total_rate',
  severity: Alert['severity'],
  peak: number,
  limit: number,
  windowLabel: string,
  over: SyscallEvent | undefined,
): Alert {
  const what = type === 'denied_rate' ? 'denied event rate' : 'total event rate';
  const a = newAlert(type, severity, `${what} ${peak} exceeds limit ${limit}/${windowLabel}`);
  a.count = peak;
  a.limit = limit;
  if (over !== undefined) describeEvent(a, over);
  return a;
}

/**
 * Copies where an event came from, and who did what to what, onto an alert: line, pid,
 * time, errno, process, paths, peer, host, audit key. Objects are shared, not copied: they
 * are immutable snapshots.
 */
export function describeEvent(alert: Alert, e: SyscallEvent): void {
  if (typeof e.raw === 'string' && e.raw.length > 0) alert.sample = cutSample(e.raw);
  if (e.line !== undefined) alert.line = e.line;
  if (e.pid !== undefined) alert.pid = e.pid;
  if (e.time !== undefined) alert.time = e.time;
  if (e.errno !== undefined) alert.errno = e.errno;
  if (e.process !== undefined) alert.process = e.process;
  if (e.paths !== undefined && e.paths.length > 0) alert.paths = e.paths;
  const opened = openedElsewhere(e);
  if (opened !== undefined) alert.opened = opened;
  if (e.peer !== undefined) alert.peer = e.peer;
  if (e.host !== undefined) alert.host = e.host;
  const key = e.audit?.key;
  if (key !== undefined) alert.key = key;
}

/** What an event did its call to, as one string: its first path, else its peer (`ip:port`, a unix path). */
export function eventTarget(
  e: {
    paths?: readonly string[] | undefined;
    peer?: Alert['peer'];
  },
  opened?: string,
): string | undefined {
  const path = e.paths?.[0];
  if (path !== undefined) return opened === undefined ? path : `${path} → ${opened}`;
  const peer = e.peer;
  if (peer === undefined) return undefined;
  if (peer.path !== undefined) return peer.path;
  if (peer.address === undefined) return undefined;
  const host = peer.family === 'inet6' ? `[${peer.address}]` : peer.address;
  return peer.port === undefined ? host : `${host}:${peer.port}`;
}

/**
 * Counts one more event merged into `alert` by its target, so that three denials of three
 * files say so (`targets`) instead of showing only the first. Capped; the first target stays
 * the alert's own `paths`/`peer`.
 */
export function countTarget(alert: Alert, e: SyscallEvent): void {
  const target = eventTarget(e, openedElsewhere(e));
  if (target === undefined) return;
  let targets = alert.targets;
  if (targets === undefined) {
    const first = eventTarget(alert, alert.opened);
    if (first === target) return;
    targets = alert.targets = first === undefined ? [] : [{ target: first, count: alert.count - 1 }];
  }
  for (const t of targets) {
    if (t.target === target) {
      t.count++;
      return;
    }
  }
  if (targets.length < MAX_ALERT_TARGETS) targets.push({ target, count: 1 });
}

/** The raw line, cut at a character boundary (never between the halves of a surrogate pair). */
export function cutSample(raw: string, max = SAMPLE_LENGTH): string {
  if (raw.length <= max) return raw;
  let end = max;
  const c = raw.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${raw.slice(0, end)}…`;
}

export function suppressed(reason: string, heldBack: number, retryAfterMs: number): AnomalyVerdict {
  return { kind: 'suppressed', reason, heldBack, retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)) };
}

export function emptyStats(): DetectorStats {
  return {
    events: 0,
    deniedEvents: 0,
    cleanVerdicts: 0,
    alertVerdicts: 0,
    suppressedVerdicts: 0,
    alerts: 0,
    heldBackAlerts: 0,
    rejectedTimes: 0,
    allowedDenials: 0,
  };
}

/** `min` for the seed's 60 s window (its messages say `/min`), else `30s`, `5min`, `1500ms`. */
export function windowLabel(ms: number): string {
  if (ms === 60_000) return 'min';
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
