/**
 * Detector configuration: the seed's keys (camelCase, or the seed's own snake_case), its
 * defaults, and one validation pass at construction that lists every problem at once.
 */
import { closestName } from '../closest-name.js';
import { SyscanError } from '../errors.js';
import { SEVERITIES } from '../severity.js';
import type { Severity } from '../types.js';
import { ALERT_TYPES, type AlertType } from './alert.js';

export type { AlertType } from './alert.js';

/** Where the detector's notion of "now" comes from (windows, alert budget, cooldown). */
export type TimeSource = 'auto' | 'event' | 'clock';

export interface DetectorConfig {
  /** Off: every verdict is `clean` and nothing is counted. Defaults to `true`. */
  enabled?: boolean | undefined;
  /** Keep every alert instead of merging identical ones into one with a `count`. Defaults to `false`. */
  strictMode?: boolean | undefined;
  /** Alert on syscalls outside `baselineSyscalls`. Defaults to `true`. */
  alertOnUnknownSyscall?: boolean | undefined;
  /** Denied events allowed per window before a `denied_rate` alert; 0 = no limit. Defaults to `5`. */
  maxDeniedEventsPerMinute?: number | undefined;
  /** Events allowed per window before a `total_rate` alert; 0 = no limit. Defaults to `120`. */
  maxTotalEventsPerMinute?: number | undefined;
  /** Alerting verdicts allowed per window before the detector cools down; 0 = no limit. Defaults to `30`. */
  maxAlertsPerMinute?: number | undefined;
  /** Cooldown after the alert budget is spent, in seconds (any length; 0 = none). Defaults to `20`. */
  alertCooldownSecs?: number | undefined;
  /** Syscalls a normal run makes. Defaults to `read write openat close execve futex` (the seed's). */
  baselineSyscalls?: readonly string[] | undefined;
  /** Length of the rolling window the `…PerMinute` limits apply to, in ms. Defaults to `60_000`. */
  windowMs?: number | undefined;
  /** Distinct syscall names counted one by one; the rest share the `(other)` count. Defaults to `1024`. */
  maxTrackedSyscalls?: number | undefined;
  /** An unknown syscall from this list is a `critical` alert instead of `medium`. Defaults to {@link DEFAULT_DANGEROUS_SYSCALLS}. */
  dangerousSyscalls?: readonly string[] | undefined;
  /** Always a `forbidden_syscall` alert (critical), even when in the baseline. Defaults to `[]`. */
  forbiddenSyscalls?: readonly string[] | undefined;
  /**
   * `auto` (default): event timestamps (strace `-t/-tt/-ttt/-r`, audit) once an event carries
   * one, the clock before that; `event`: event timestamps only; `clock`: `now()` only.
   */
  timeSource?: TimeSource | undefined;
  /** Clock in ms. Defaults to `Date.now`. Inject it for tests and replay. */
  now?: (() => number) | undefined;
  /** Severity per alert type, replacing the defaults (an unknown dangerous syscall stays critical). */
  severity?: Partial<Record<AlertType, Severity>> | undefined;
}

/** A config with every default filled in, validated and frozen. */
export interface ResolvedDetectorConfig {
  readonly enabled: boolean;
  readonly strictMode: boolean;
  readonly alertOnUnknownSyscall: boolean;
  readonly maxDeniedEventsPerMinute: number;
  readonly maxTotalEventsPerMinute: number;
  readonly maxAlertsPerMinute: number;
  readonly alertCooldownSecs: number;
  readonly baselineSyscalls: readonly string[];
  readonly windowMs: number;
  readonly maxTrackedSyscalls: number;
  readonly dangerousSyscalls: readonly string[];
  readonly forbiddenSyscalls: readonly string[];
  readonly timeSource: TimeSource;
  readonly now: () => number;
  readonly severity: Readonly<Record<AlertType, Severity>>;
}

/**
 * Syscalls a sandboxed command has almost no business making: debugging other processes,
 * kernel modules and kexec, mounts and namespaces (container escapes), eBPF and perf,
 * raw I/O ports, handle-based opens (the classic Docker breakout), userfaultfd (kernel
 * exploit staple), the kernel keyring, system clock, swap, accounting, reboot.
 */
export const DEFAULT_DANGEROUS_SYSCALLS: readonly string[] = Object.freeze([
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'chroot',
  'fsopen',
  'fsmount',
  'move_mount',
  'open_tree',
  'mount_setattr',
  'bpf',
  'perf_event_open',
  'init_module',
  'finit_module',
  'delete_module',
  'create_module',
  'kexec_load',
  'kexec_file_load',
  'reboot',
  'swapon',
  'swapoff',
  'setns',
  'unshare',
  'iopl',
  'ioperm',
  'open_by_handle_at',
  'name_to_handle_at',
  'userfaultfd',
  'add_key',
  'request_key',
  'keyctl',
  'acct',
  'quotactl',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'stime',
  'syslog',
  'lookup_dcookie',
  'vhangup',
  'nfsservctl',
  'sethostname',
  'setdomainname',
  'personality',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'fanotify_init',
  'pidfd_getfd',
  'kcmp',
]);

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

/** The seed's defaults, plus the window, tracking cap, dangerous list and time source. */
export const DEFAULT_DETECTOR_CONFIG: ResolvedDetectorConfig = Object.freeze({
  enabled: true,
  strictMode: false,
  alertOnUnknownSyscall: true,
  maxDeniedEventsPerMinute: 5,
  maxTotalEventsPerMinute: 120,
  maxAlertsPerMinute: 30,
  alertCooldownSecs: 20,
  baselineSyscalls: Object.freeze(['read', 'write', 'openat', 'close', 'execve', 'futex']),
  windowMs: 60_000,
  maxTrackedSyscalls: 1024,
  dangerousSyscalls: DEFAULT_DANGEROUS_SYSCALLS,
  forbiddenSyscalls: Object.freeze([] as string[]),
  timeSource: 'auto',
  now: () => Date.now(),
  severity: DEFAULT_SEVERITY,
});

const TIME_SOURCES: readonly TimeSource[] = ['auto', 'event', 'clock'];

type Key = keyof DetectorConfig;
/** Every config key, camelCase, with its snake_case spelling (the seed's TOML names). */
const KEYS: readonly Key[] = [
  'enabled',
  'strictMode',
  'alertOnUnknownSyscall',
  'maxDeniedEventsPerMinute',
  'maxTotalEventsPerMinute',
  'maxAlertsPerMinute',
  'alertCooldownSecs',
  'baselineSyscalls',
  'windowMs',
  'maxTrackedSyscalls',
  'dangerousSyscalls',
  'forbiddenSyscalls',
  'timeSource',
  'now',
  'severity',
];
const toSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const SNAKE_TO_CAMEL: ReadonlyMap<string, Key> = new Map(KEYS.map((k) => [toSnake(k), k]));
/** Keys of baseline files and editor tooling: accepted and ignored. */
const METADATA_KEYS: ReadonlySet<string> = new Set(['$schema', 'description', 'learned']);

/** Configs this module produced: passing one back in skips validation (registries create many detectors). */
const resolved = new WeakSet<object>();

/** True when `config` came out of {@link resolveDetectorConfig} (already valid, frozen). */
export function isResolvedDetectorConfig(config: unknown): config is ResolvedDetectorConfig {
  return typeof config === 'object' && config !== null && resolved.has(config);
}
resolved.add(DEFAULT_DETECTOR_CONFIG);

/**
 * Validates a config (camelCase or snake_case keys, e.g. parsed JSON or a TOML section) and
 * fills in the defaults. Throws one `SyscanError('ERR_SYSCAN_CONFIG')` listing every problem,
 * each with its key and the value given.
 */
export function resolveDetectorConfig(input: unknown = {}): ResolvedDetectorConfig {
  if (isResolvedDetectorConfig(input)) return input;
  if (input === undefined || input === null) return DEFAULT_DETECTOR_CONFIG;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw configError([`config must be an object, got ${describe(input)}`]);
  }
  const problems: string[] = [];
  const given = new Map<Key, unknown>();
  const spelledAs = new Map<Key, string>();
  for (const [rawKey, value] of Object.entries(input as Record<string, unknown>)) {
    if (METADATA_KEYS.has(rawKey)) continue;
    const key = (KEYS as readonly string[]).includes(rawKey) ? (rawKey as Key) : SNAKE_TO_CAMEL.get(rawKey);
    if (key === undefined) {
      const hint = suggest(rawKey);
      problems.push(`unknown key "${rawKey}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      continue;
    }
    if (value === undefined) continue;
    const earlier = spelledAs.get(key);
    if (earlier !== undefined) {
      problems.push(`${key} given twice (as "${earlier}" and "${rawKey}")`);
      continue;
    }
    spelledAs.set(key, rawKey);
    given.set(key, value);
  }

  const d = DEFAULT_DETECTOR_CONFIG;
  const bool = (key: Key, fallback: boolean): boolean => {
    const v = given.get(key);
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    problems.push(`${spelledAs.get(key)} must be true or false, got ${describe(v)}`);
    return fallback;
  };
  const limit = (key: Key, fallback: number): number => {
    const v = given.get(key);
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    problems.push(`${spelledAs.get(key)} must be a positive integer, got ${describe(v)} (0 means no limit)`);
    return fallback;
  };
  const positiveInt = (key: Key, fallback: number, max: number): number => {
    const v = given.get(key);
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max) return v;
    problems.push(`${spelledAs.get(key)} must be a positive integer up to ${max}, got ${describe(v)}`);
    return fallback;
  };
  const names = (key: Key, fallback: readonly string[]): readonly string[] => {
    const v = given.get(key);
    if (v === undefined) return fallback;
    const label = spelledAs.get(key);
    if (!Array.isArray(v)) {
      problems.push(`${label} must be an array of syscall names, got ${describe(v)}`);
      return fallback;
    }
    const out: string[] = [];
    v.forEach((item: unknown, i) => {
      if (typeof item === 'string' && item.trim().length > 0) out.push(item.trim());
      else problems.push(`${label}[${i}] must be a non-empty syscall name, got ${describe(item)}`);
    });
    return Object.freeze([...new Set(out)]);
  };

  const enabled = bool('enabled', d.enabled);
  const strictMode = bool('strictMode', d.strictMode);
  const alertOnUnknownSyscall = bool('alertOnUnknownSyscall', d.alertOnUnknownSyscall);
  const maxDeniedEventsPerMinute = limit('maxDeniedEventsPerMinute', d.maxDeniedEventsPerMinute);
  const maxTotalEventsPerMinute = limit('maxTotalEventsPerMinute', d.maxTotalEventsPerMinute);
  const maxAlertsPerMinute = limit('maxAlertsPerMinute', d.maxAlertsPerMinute);

  let alertCooldownSecs = d.alertCooldownSecs;
  const cooldown = given.get('alertCooldownSecs');
  if (cooldown !== undefined) {
    // Any length is honoured (the seed's upstream capped it at 60 s); only nonsense is refused.
    if (typeof cooldown === 'number' && Number.isFinite(cooldown) && cooldown >= 0)
      alertCooldownSecs = cooldown;
    else
      problems.push(
        `${spelledAs.get('alertCooldownSecs')} must be a number of seconds >= 0, got ${describe(cooldown)}`,
      );
  }

  const baselineSyscalls = names('baselineSyscalls', d.baselineSyscalls);
  // A window shorter than 60 ms would make its 60 buckets sub-millisecond; a day is plenty.
  const windowMs = given.has('windowMs')
    ? (() => {
        const v = given.get('windowMs');
        if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 60 && v <= 86_400_000) return v;
        problems.push(
          `${spelledAs.get('windowMs')} must be an integer number of ms from 60 to 86400000, got ${describe(v)}`,
        );
        return d.windowMs;
      })()
    : d.windowMs;
  const maxTrackedSyscalls = positiveInt('maxTrackedSyscalls', d.maxTrackedSyscalls, 1_000_000);
  const dangerousSyscalls = names('dangerousSyscalls', d.dangerousSyscalls);
  const forbiddenSyscalls = names('forbiddenSyscalls', d.forbiddenSyscalls);

  let timeSource = d.timeSource;
  const ts = given.get('timeSource');
  if (ts !== undefined) {
    if ((TIME_SOURCES as readonly unknown[]).includes(ts)) timeSource = ts as TimeSource;
    else
      problems.push(`${spelledAs.get('timeSource')} must be one of auto, event, clock, got ${describe(ts)}`);
  }

  let now = d.now;
  const nowGiven = given.get('now');
  if (nowGiven !== undefined) {
    if (typeof nowGiven === 'function') now = nowGiven as () => number;
    else problems.push(`now must be a function returning ms, got ${describe(nowGiven)}`);
  }

  let severity = d.severity;
  const sev = given.get('severity');
  if (sev !== undefined) {
    if (typeof sev !== 'object' || sev === null || Array.isArray(sev)) {
      problems.push(`severity must be an object of alert type → severity, got ${describe(sev)}`);
    } else {
      const merged: Record<AlertType, Severity> = { ...DEFAULT_SEVERITY };
      for (const [type, value] of Object.entries(sev as Record<string, unknown>)) {
        if (!(ALERT_TYPES as readonly string[]).includes(type)) {
          problems.push(`severity.${type} is not an alert type (${ALERT_TYPES.join(', ')})`);
        } else if (value !== undefined && !(SEVERITIES as readonly unknown[]).includes(value)) {
          problems.push(`severity.${type} must be one of ${SEVERITIES.join(', ')}, got ${describe(value)}`);
        } else if (value !== undefined) {
          merged[type as AlertType] = value as Severity;
        }
      }
      severity = Object.freeze(merged);
    }
  }

  if (problems.length > 0) throw configError(problems);
  const config: ResolvedDetectorConfig = Object.freeze({
    enabled,
    strictMode,
    alertOnUnknownSyscall,
    maxDeniedEventsPerMinute,
    maxTotalEventsPerMinute,
    maxAlertsPerMinute,
    alertCooldownSecs,
    baselineSyscalls,
    windowMs,
    maxTrackedSyscalls,
    dangerousSyscalls,
    forbiddenSyscalls,
    timeSource,
    now,
    severity,
  });
  resolved.add(config);
  return config;
}

function configError(problems: string[]): SyscanError {
  const head =
    problems.length === 1
      ? 'invalid detector config'
      : `invalid detector config (${problems.length} problems)`;
  return new SyscanError('ERR_SYSCAN_CONFIG', `${head}: ${problems.join('; ')}`);
}

/** A value as the user wrote it, short: `-1`, `"yes"`, `array`, `null`. */
function describe(value: unknown): string {
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

/** The known key closest to a misspelt one, in the spelling style the user used. */
function suggest(key: string): string | undefined {
  const best = closestName(key, KEYS);
  return best !== undefined && key.includes('_') ? toSnake(best) : best;
}

const nameList = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;
const limitSchema = (description: string, dflt: number): Record<string, unknown> => ({
  type: 'integer',
  minimum: 0,
  default: dflt,
  description: `${description} 0 means no limit.`,
});

const camelProperties: Record<string, Record<string, unknown>> = {
  enabled: {
    type: 'boolean',
    default: true,
    description: 'Off: every verdict is clean and nothing is counted.',
  },
  strictMode: {
    type: 'boolean',
    default: false,
    description: 'Keep every alert instead of merging identical ones (with a count).',
  },
  alertOnUnknownSyscall: {
    type: 'boolean',
    default: true,
    description: 'Alert on syscalls outside baselineSyscalls.',
  },
  maxDeniedEventsPerMinute: limitSchema('Denied events allowed per window before a denied_rate alert.', 5),
  maxTotalEventsPerMinute: limitSchema('Events allowed per window before a total_rate alert.', 120),
  maxAlertsPerMinute: limitSchema('Alerting verdicts allowed per window before the detector cools down.', 30),
  alertCooldownSecs: {
    type: 'number',
    minimum: 0,
    default: 20,
    description: 'Cooldown after the alert budget is spent, in seconds.',
  },
  baselineSyscalls: {
    ...nameList,
    default: DEFAULT_DETECTOR_CONFIG.baselineSyscalls,
    description: 'Syscalls a normal run makes.',
  },
  windowMs: {
    type: 'integer',
    minimum: 60,
    maximum: 86_400_000,
    default: 60_000,
    description: 'Rolling window of the per-minute limits, in ms.',
  },
  maxTrackedSyscalls: {
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: 1024,
    description: 'Distinct syscall names counted one by one; the rest are counted as (other).',
  },
  dangerousSyscalls: {
    ...nameList,
    description: 'An unknown syscall from this list is a critical alert. Defaults to a built-in list.',
  },
  forbiddenSyscalls: {
    ...nameList,
    default: [],
    description: 'Always a critical forbidden_syscall alert, even when in the baseline.',
  },
  timeSource: {
    enum: TIME_SOURCES,
    default: 'auto',
    description:
      'auto: event timestamps when present, else the clock; event: timestamps only; clock: the clock only.',
  },
  severity: {
    type: 'object',
    description: 'Severity per alert type.',
    properties: Object.fromEntries(ALERT_TYPES.map((t) => [t, { enum: SEVERITIES }])),
    additionalProperties: false,
  },
};

/** JSON Schema (draft 2020-12) of a detector config or baseline file, for editors and validators. */
export const detectorConfigJsonSchema: Readonly<Record<string, unknown>> = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://syscan.dev/schema/detector-config.json',
  title: 'syscan detector config',
  description:
    'Config of the syscan anomaly detector; a learned baseline is one too. snake_case spellings of every key are accepted.',
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    learned: { type: 'object', description: 'What a learned baseline saw (ignored by the detector).' },
    ...camelProperties,
    ...Object.fromEntries(
      Object.entries(camelProperties)
        .filter(([k]) => toSnake(k) !== k)
        .map(([k, v]) => [toSnake(k), { ...v, description: `Alias of ${k}.` }]),
    ),
  },
  additionalProperties: false,
});
