/**
 * The one table of detector config keys: each key's default, how a given value is read and
 * checked, how layers merge it, and its JSON Schema. Resolution, merging, snake_case
 * aliases and the exported schema are all derived from this table, so they cannot disagree.
 */
import type { SequenceModel } from '../sequence/model.js';
import { loadSequenceModel } from '../sequence/scorer.js';
import { SEVERITIES } from '../severity.js';
import type { Severity } from '../types.js';
import { ALERT_TYPES, type AlertType } from './alert.js';
import { DEFAULT_DANGEROUS_SYSCALLS } from './dangerous.js';
import { programsKey } from './programs.js';

/** Where the detector's notion of "now" comes from (windows, alert budget, cooldown). */
export type TimeSource = 'auto' | 'event' | 'clock';

export const TIME_SOURCES: readonly TimeSource[] = ['auto', 'event', 'clock'];

/** Longest cooldown accepted: a year. Longer is a typo, and would overflow `Retry-After`. */
export const MAX_COOLDOWN_SECS = 31_536_000;

export const DEFAULT_SEVERITY: Readonly<Record<AlertType, Severity>> = Object.freeze({
  unknown_syscall: 'medium',
  denied_syscall: 'high',
  denied_rate: 'high',
  total_rate: 'medium',
  forbidden_syscall: 'critical',
  trace_lost: 'critical',
  untraced_child: 'critical',
  access_denied: 'high',
  would_deny: 'medium',
  process_crashed: 'high',
  anomaly_record: 'medium',
  audit_tampering: 'high',
  rule: 'medium',
  sequence_anomaly: 'medium',
});

/**
 * How a key of a later config layer combines with the same key of earlier ones:
 * `replace` (the later value wins), `union` (lists add up: a later layer can add a
 * forbidden or dangerous syscall, never take one away), `object` (per-entry replace).
 */
export type MergeRule = 'replace' | 'union' | 'object';

export interface KeySpec<T> {
  readonly default: T;
  /** Checks a given value; on a problem pushes one message (naming `label`) and returns undefined. */
  read(value: unknown, label: string, problems: string[]): T | undefined;
  readonly merge: MergeRule;
  /** JSON Schema of the key; absent for keys JSON cannot hold (functions). */
  readonly schema?: Readonly<Record<string, unknown>> | undefined;
}

/** A value as the user wrote it, short: `-1`, `"yes"`, `an array`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function flag(dflt: boolean, description: string): KeySpec<boolean> {
  return {
    default: dflt,
    merge: 'replace',
    schema: { type: 'boolean', default: dflt, description },
    read(v, label, problems) {
      if (typeof v === 'boolean') return v;
      problems.push(`${label} must be true or false, got ${describe(v)}`);
      return undefined;
    },
  };
}

function limit(dflt: number, description: string): KeySpec<number> {
  return {
    default: dflt,
    merge: 'replace',
    schema: { type: 'integer', minimum: 0, default: dflt, description: `${description} 0 means no limit.` },
    read(v, label, problems) {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      problems.push(`${label} must be a positive integer, got ${describe(v)} (0 means no limit)`);
      return undefined;
    },
  };
}

function integer(dflt: number, min: number, max: number, what: string, description: string): KeySpec<number> {
  return {
    default: dflt,
    merge: 'replace',
    schema: { type: 'integer', minimum: min, maximum: max, default: dflt, description },
    read(v, label, problems) {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max) return v;
      problems.push(`${label} must be ${what}, got ${describe(v)}`);
      return undefined;
    },
  };
}

function names(
  dflt: readonly string[],
  merge: MergeRule,
  description: string,
  schemaDefault = true,
): KeySpec<readonly string[]> {
  return {
    default: dflt,
    merge,
    schema: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      ...(schemaDefault ? { default: dflt } : {}),
      description,
    },
    read(v, label, problems) {
      if (!Array.isArray(v)) {
        problems.push(`${label} must be an array of syscall names, got ${describe(v)}`);
        return undefined;
      }
      const out: string[] = [];
      let ok = true;
      v.forEach((item: unknown, i) => {
        if (typeof item === 'string' && item.trim().length > 0) out.push(item.trim());
        else {
          ok = false;
          problems.push(`${label}[${i}] must be a non-empty syscall name, got ${describe(item)}`);
        }
      });
      return ok ? Object.freeze([...new Set(out)]) : undefined;
    },
  };
}

const severityMap: KeySpec<Readonly<Record<AlertType, Severity>>> = {
  default: DEFAULT_SEVERITY,
  merge: 'object',
  schema: {
    type: 'object',
    description: 'Severity per alert type.',
    properties: Object.fromEntries(ALERT_TYPES.map((t) => [t, { enum: SEVERITIES }])),
    additionalProperties: false,
  },
  read(v, label, problems) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${label} must be an object of alert type → severity, got ${describe(v)}`);
      return undefined;
    }
    const out: Partial<Record<AlertType, Severity>> = {};
    let ok = true;
    for (const [type, value] of Object.entries(v as Record<string, unknown>)) {
      if (!(ALERT_TYPES as readonly string[]).includes(type)) {
        ok = false;
        problems.push(`${label}.${type} is not an alert type (${ALERT_TYPES.join(', ')})`);
      } else if (value !== undefined && !(SEVERITIES as readonly unknown[]).includes(value)) {
        ok = false;
        problems.push(`${label}.${type} must be one of ${SEVERITIES.join(', ')}, got ${describe(value)}`);
      } else if (value !== undefined) {
        out[type as AlertType] = value as Severity;
      }
    }
    // Only the entries given: merging and resolution fill in the rest from the defaults.
    return ok ? (Object.freeze(out) as Record<AlertType, Severity>) : undefined;
  },
};

/** A denial normal runs make (git reading a config file it may not): it does not alert. */
export interface AllowedDenial {
  /** Syscall name (`openat`). */
  readonly syscall: string;
  /** Errno name (`EACCES`); any when absent. */
  readonly errno?: string | undefined;
  /** Glob over the call's first path (`*` spans `/`, as Falco's `glob`); any when absent. */
  readonly path?: string | undefined;
}

const MAX_ALLOWED_DENIALS = 4096;

/** One `allowedDenials` entry, or undefined after pushing what is wrong with it. */
function readAllowedDenial(item: unknown, label: string, problems: string[]): AllowedDenial | undefined {
  const bad = (why: string): undefined => {
    problems.push(`${label} ${why}`);
    return undefined;
  };
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    return bad(`must be an object, got ${describe(item)}`);
  const e = item as Record<string, unknown>;
  for (const k of Object.keys(e))
    if (k !== 'syscall' && k !== 'errno' && k !== 'path') return bad(`has an unknown key "${k}"`);
  if (typeof e.syscall !== 'string' || e.syscall.length === 0)
    return bad(`.syscall must be a syscall name, got ${describe(e.syscall)}`);
  if (e.errno !== undefined && (typeof e.errno !== 'string' || !/^E[A-Z0-9]+$/.test(e.errno)))
    return bad(`.errno must be an errno name like EACCES, got ${describe(e.errno)}`);
  if (e.path !== undefined && (typeof e.path !== 'string' || e.path.length === 0))
    return bad(`.path must be a glob, got ${describe(e.path)}`);
  return Object.freeze({
    syscall: e.syscall,
    ...(e.errno ? { errno: e.errno as string } : {}),
    ...(e.path ? { path: e.path as string } : {}),
  });
}

const allowedDenials: KeySpec<readonly AllowedDenial[]> = {
  default: Object.freeze([]),
  merge: 'union',
  schema: {
    type: 'array',
    maxItems: MAX_ALLOWED_DENIALS,
    description:
      'Denials normal runs make; a denied call matching one (syscall, errno, path glob) does not alert or count towards denied_rate.',
    items: {
      type: 'object',
      required: ['syscall'],
      additionalProperties: false,
      properties: {
        syscall: { type: 'string', minLength: 1 },
        errno: { type: 'string', pattern: '^E[A-Z0-9]+$' },
        path: { type: 'string', minLength: 1 },
      },
    },
  },
  read(v, label, problems) {
    if (!Array.isArray(v) || v.length > MAX_ALLOWED_DENIALS) {
      problems.push(
        `${label} must be an array of at most ${MAX_ALLOWED_DENIALS} {syscall, errno?, path?} entries, got ${describe(v)}`,
      );
      return undefined;
    }
    const out: AllowedDenial[] = [];
    let ok = true;
    for (let i = 0; i < v.length; i++) {
      const entry = readAllowedDenial(v[i], `${label}[${i}]`, problems);
      if (entry === undefined) ok = false;
      else out.push(entry);
    }
    return ok ? Object.freeze(out) : undefined;
  },
};

const baselineSyscalls = names(
  Object.freeze(['read', 'write', 'openat', 'close', 'execve', 'futex']),
  'replace',
  'Syscalls a normal run makes.',
);

/** Every config key, camelCase. The snake_case spelling of each is accepted too (the seed's TOML names). */
export const CONFIG_KEYS = {
  enabled: flag(true, 'Off: every verdict is clean and nothing is counted.'),
  strictMode: flag(false, 'Keep every alert instead of merging identical ones (with a count).'),
  alertOnUnknownSyscall: flag(true, 'Alert on syscalls outside baselineSyscalls.'),
  maxDeniedEventsPerMinute: limit(5, 'Denied events allowed per window before a denied_rate alert.'),
  maxTotalEventsPerMinute: limit(120, 'Events allowed per window before a total_rate alert.'),
  maxAlertsPerMinute: limit(30, 'Alerting verdicts allowed per window before the detector cools down.'),
  alertCooldownSecs: {
    default: 20,
    merge: 'replace',
    schema: {
      type: 'number',
      minimum: 0,
      maximum: MAX_COOLDOWN_SECS,
      default: 20,
      description: 'Cooldown after the alert budget is spent, in seconds (at most a year).',
    },
    read(v, label, problems) {
      // Any length up to a year is honoured (the seed's upstream capped it at 60 s).
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COOLDOWN_SECS) return v;
      problems.push(
        `${label} must be a number of seconds >= 0, got ${describe(v)} (at most ${MAX_COOLDOWN_SECS}, a year)`,
      );
      return undefined;
    },
  } satisfies KeySpec<number>,
  baselineSyscalls,
  // A window shorter than 60 ms would make its 60 buckets sub-millisecond; a day is plenty.
  windowMs: integer(
    60_000,
    60,
    86_400_000,
    'an integer number of ms from 60 to 86400000',
    'Rolling window of the per-minute limits, in ms.',
  ),
  maxTrackedSyscalls: integer(
    1024,
    1,
    1_000_000,
    'a positive integer up to 1000000',
    'Distinct syscall names counted one by one; the rest are counted as (other).',
  ),
  dangerousSyscalls: names(
    DEFAULT_DANGEROUS_SYSCALLS,
    'union',
    'An unknown syscall from this list is a critical alert. Defaults to a built-in list.',
    false,
  ),
  forbiddenSyscalls: names(
    Object.freeze([] as string[]),
    'union',
    'Always a critical forbidden_syscall alert, even when in the baseline.',
  ),
  timeSource: {
    default: 'auto',
    merge: 'replace',
    schema: {
      enum: TIME_SOURCES,
      default: 'auto',
      description:
        'auto: event timestamps when present, else the clock; event: timestamps only; clock: the clock only.',
    },
    read(v, label, problems) {
      if ((TIME_SOURCES as readonly unknown[]).includes(v)) return v as TimeSource;
      problems.push(`${label} must be one of ${TIME_SOURCES.join(', ')}, got ${describe(v)}`);
      return undefined;
    },
  } satisfies KeySpec<TimeSource>,
  now: {
    default: () => Date.now(),
    merge: 'replace',
    read(v, _label, problems) {
      if (typeof v === 'function') return v as () => number;
      problems.push(`now must be a function returning ms, got ${describe(v)}`);
      return undefined;
    },
  } satisfies KeySpec<() => number>,
  severity: severityMap,
  allowedDenials,
  programs: programsKey(baselineSyscalls, allowedDenials, describe),
  ratesWithoutTimestamps: flag(
    true,
    "With timeSource auto: apply the rate limits by the clock while events carry no timestamps (the seed's way). False: rate limits apply only to input with timestamps, so an untimed trace's size is never read as a rate.",
  ),
  sequenceModel: {
    default: undefined,
    merge: 'replace',
    schema: {
      type: 'object',
      description: "A learned sequence model (written by 'syscan learn'); validated by the sequence scorer.",
    },
    read(v, label, problems) {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        // Read now (and kept for the sessions), so that a cut or corrupted model is a config
        // error when the baseline is loaded, not an exception in the middle of a trace.
        try {
          loadSequenceModel(v as unknown as SequenceModel);
        } catch (error) {
          problems.push(`${label}: ${(error as Error).message.replace(/^sequence model: /, '')}`);
          return undefined;
        }
        return v as Readonly<Record<string, unknown>>;
      }
      problems.push(`${label} must be an object (a learned sequence model), got ${describe(v)}`);
      return undefined;
    },
  } satisfies KeySpec<Readonly<Record<string, unknown>> | undefined>,
  sequenceMaxProcesses: integer(
    4096,
    16,
    1_048_576,
    'an integer from 16 to 1048576',
    'Processes the sequence model scores at once (a few KiB each); past it the least recently active one is ended, and one still running that calls again raises trace_lost (sequence_table_full).',
  ),
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/** Keys of baseline files and editor tooling: accepted and ignored. */
export const METADATA_KEYS: ReadonlySet<string> = new Set(['$schema', 'description', 'learned']);

export const toSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const SNAKE_TO_CAMEL: ReadonlyMap<string, ConfigKey> = new Map(
  KEY_NAMES.filter((k) => toSnake(k) !== k).map((k) => [toSnake(k), k]),
);
