/**
 * A rule alert as Falco's JSON output (`json_output: true`), the shape falcosidekick and SIEM
 * parsers for Falco read: `{hostname, output, output_fields, priority, rule, source, tags, time}`.
 */
import type { Alert } from '../detect/alert.js';
import { clockTime } from './field-readers.js';
import { FALCO_PRIORITIES, type FalcoPriority, PRIORITY_SEVERITY } from './priority.js';

export interface FalcoAlert {
  hostname: string;
  /** `HH:MM:SS.nnnnnnnnn: Priority message`, as Falco prints it. */
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  priority: FalcoPriority;
  rule: string;
  source: 'syscall';
  tags: string[];
  /** RFC 3339 with nanoseconds, UTC. */
  time: string;
}

export interface FalcoFormatOptions {
  /** Used when the alert carries no host (audit `node=`). Defaults to `'localhost'`. */
  hostname?: string | undefined;
  /** Epoch ms "now", for alerts without a time. Defaults to `Date.now()`. */
  now?: (() => number) | undefined;
}

/** Times below this are not epoch ms but a time of day (strace `-t`/`-tt`) or relative (`-r`). */
const EPOCH_FLOOR_MS = 1e11;

/** A point in time as whole epoch seconds and nanoseconds (a float of epoch ns would lose the ns). */
interface Instant {
  seconds: number;
  nanos: number;
}

/**
 * The instant of an alert's time (ms): epoch ms as is (µs precision, all a float of epoch ms
 * holds); a time of day (strace `-t`/`-tt`) or relative time (`-r`) on the day of `now`.
 */
function instantOf(time: number | undefined, now: number): Instant {
  if (time === undefined) return { seconds: Math.floor(now / 1000), nanos: Math.round((now % 1000) * 1e6) };
  const epoch = time >= EPOCH_FLOOR_MS;
  const seconds = Math.floor(time / 1000);
  // toFixed rounds in decimal: 5.8379999995 ms (float noise of an exact µs) becomes 5838000 ns.
  const nanos = Math.min(
    999_999_999,
    Math.round(Number((time - seconds * 1000).toFixed(epoch ? 3 : 6)) * 1e6),
  );
  return { seconds: epoch ? seconds : Math.floor(now / 86_400_000) * 86_400 + seconds, nanos };
}

function rfc3339(t: Instant): string {
  return `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}

/** `2026-12-01T09:38:04.123456000Z` for epoch ms (µs kept). */
export function rfc3339Nanos(ms: number): string {
  return rfc3339(instantOf(ms, ms));
}

/** Falco-named fields from an alert's context, for alerts no rule rendered (detector, integrity checks). */
function contextFields(alert: Alert): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  const p = alert.process;
  if (alert.syscall !== undefined) out['evt.type'] = alert.syscall;
  if (alert.errno !== undefined) out['evt.res'] = alert.errno;
  const pid = p?.pid ?? alert.pid;
  if (pid !== undefined) out['proc.pid'] = pid;
  if (p?.comm !== undefined) out['proc.name'] = p.comm;
  if (p?.exe !== undefined) out['proc.exepath'] = p.exe;
  if (p?.argv !== undefined) out['proc.cmdline'] = [p.comm ?? p.argv[0] ?? '', ...p.argv.slice(1)].join(' ');
  if (p?.ppid !== undefined) out['proc.ppid'] = p.ppid;
  if (p?.uid !== undefined) out['user.uid'] = p.uid;
  if (p?.user !== undefined) out['user.name'] = p.user;
  if (p?.auid !== undefined) out['user.loginuid'] = p.auid;
  if (p?.loginUser !== undefined) out['user.loginname'] = p.loginUser;
  if (alert.paths?.[0] !== undefined) out['fd.name'] = alert.paths[0];
  if (alert.peer?.address !== undefined) out['fd.rip'] = alert.peer.address;
  if (alert.peer?.port !== undefined) out['fd.rport'] = alert.peer.port;
  return out;
}

/** The Falco priority of a rule alert (from its rule), or the one nearest its severity for other alerts. */
function priorityOf(alert: Alert): FalcoPriority {
  const p = alert.details?.priority;
  if (typeof p === 'string' && (FALCO_PRIORITIES as readonly string[]).includes(p)) return p as FalcoPriority;
  return (
    FALCO_PRIORITIES.find(
      (name) => PRIORITY_SEVERITY[name] === alert.severity && name !== 'Emergency' && name !== 'Alert',
    ) ?? 'Informational'
  );
}

/**
 * Falco's JSON object for an alert. Rule alerts keep their rule's priority and output fields;
 * other alerts (detector, integrity) get their type as the rule name and a priority from their severity.
 *
 * @example
 * process.stdout.write(`${JSON.stringify(toFalcoJson(alert, { hostname: os.hostname() }))}\n`);
 */
export function toFalcoJson(alert: Alert, options: FalcoFormatOptions = {}): FalcoAlert {
  const now = (options.now ?? Date.now)();
  const at = instantOf(alert.time, now);
  const priority = priorityOf(alert);
  const fields = alert.details?.outputFields;
  const outputFields: Record<string, string | number | boolean | null> =
    typeof fields === 'object' && fields !== null
      ? { ...(fields as Record<string, string | number | boolean | null>) }
      : contextFields(alert);
  // Falco always adds evt.time as integer epoch ns (a JSON number: exact to about 256 ns here).
  outputFields['evt.time'] = at.seconds * 1e9 + at.nanos;
  return {
    hostname: alert.host ?? options.hostname ?? 'localhost',
    output: `${clockTime((at.seconds % 86_400) * 1000 + at.nanos / 1e6)}: ${priority} ${alert.message}`,
    output_fields: outputFields,
    priority,
    rule: alert.rule ?? alert.type,
    source: 'syscall',
    tags: [...(alert.tags ?? [])],
    time: rfc3339(at),
  };
}
