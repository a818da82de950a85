/**
 * Detector configuration: the seed's keys (camelCase, or the seed's own snake_case), its
 * defaults, one validation pass that lists every problem at once, and layering (a policy,
 * then a learned baseline, then flags) with one documented precedence. Every rule comes from
 * the key table in `config-keys.ts`.
 */
import { closestName } from '../closest-name.js';
import { SyscanError } from '../errors.js';
import type { Severity } from '../types.js';
import type { AlertType } from './alert.js';
import {
  type AllowedDenial,
  CONFIG_KEYS,
  type ConfigKey,
  DEFAULT_SEVERITY,
  describe,
  KEY_NAMES,
  type KeySpec,
  METADATA_KEYS,
  SNAKE_TO_CAMEL,
  type TimeSource,
  toSnake,
} from './config-keys.js';
import type { ProgramBaselines } from './programs.js';

export type { AlertType } from './alert.js';
export { type AllowedDenial, DEFAULT_SEVERITY, MAX_COOLDOWN_SECS, type TimeSource } from './config-keys.js';
export { DEFAULT_DANGEROUS_SYSCALLS } from './dangerous.js';

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
  /** Denials normal runs make (`{syscall, errno?, path?}`): they neither alert nor count towards `denied_rate`. Lists of layers add up. */
  allowedDenials?: readonly AllowedDenial[] | undefined;
  /** With `timeSource: 'auto'`, apply rate limits by the clock while events carry no timestamps. Defaults to `true` (the seed's way). */
  ratesWithoutTimestamps?: boolean | undefined;
  /** Per program (exe, else comm): its own syscalls and allowed denials, judged instead of the top-level ones for its events. */
  programs?: ProgramBaselines | undefined;
  /** A learned sequence model (`syscan learn` writes it); scored by the session, ignored by the detector. */
  sequenceModel?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Processes the sequence model scores at once (a few KiB each). Past it the least recently
   * active one is ended; one that was still running and calls again raises `trace_lost`
   * (`sequence_table_full`). Defaults to `4096`.
   */
  sequenceMaxProcesses?: number | undefined;
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
  readonly sequenceModel: Readonly<Record<string, unknown>> | undefined;
  readonly sequenceMaxProcesses: number;
  readonly allowedDenials: readonly AllowedDenial[];
  readonly ratesWithoutTimestamps: boolean;
  readonly programs: ProgramBaselines;
}

type Given = Partial<Record<ConfigKey, unknown>>;

/** The seed's defaults, plus the window, tracking cap, dangerous list and time source. */
export const DEFAULT_DETECTOR_CONFIG: ResolvedDetectorConfig = Object.freeze(
  Object.fromEntries(KEY_NAMES.map((k) => [k, CONFIG_KEYS[k].default])) as unknown as ResolvedDetectorConfig,
);

/** Configs this module produced: passing one back in skips validation (registries create many detectors). */
const resolved = new WeakSet<object>();
resolved.add(DEFAULT_DETECTOR_CONFIG);

/** True when `config` came out of {@link resolveDetectorConfig} or {@link mergeConfigs} (already valid, frozen). */
export function isResolvedDetectorConfig(config: unknown): config is ResolvedDetectorConfig {
  return typeof config === 'object' && config !== null && resolved.has(config);
}

/**
 * Validates a config (camelCase or snake_case keys, e.g. parsed JSON or a TOML section) and
 * fills in the defaults. Throws one `SyscanError('ERR_SYSCAN_CONFIG')` listing every problem,
 * each with its key and the value given.
 */
export function resolveDetectorConfig(input: unknown = {}): ResolvedDetectorConfig {
  if (isResolvedDetectorConfig(input)) return input;
  if (input === undefined || input === null) return DEFAULT_DETECTOR_CONFIG;
  return complete(readLayer(input, undefined));
}

/** A config checked on its own, remembering where it came from, to be merged with others. */
export interface ConfigLayer {
  readonly source: string;
  /** The keys this layer sets (validated values), nothing else. */
  readonly given: Readonly<Given>;
}
const layers = new WeakSet<object>();

/**
 * Checks one config (a policy file, a learned baseline, flags) on its own, so that an error
 * names where it came from: `invalid detector config in baseline 'b.json': …`.
 */
export function configLayer(input: unknown, source: string): ConfigLayer {
  const layer = { source, given: readLayer(input, source) };
  layers.add(layer);
  return Object.freeze(layer);
}

/**
 * Composes configs, earliest first (e.g. the policy, then a learned baseline, then flags):
 * - a key a later layer sets wins over earlier layers (scalars; `baselineSyscalls`, since a
 *   learned baseline says exactly what is normal; `sequenceModel`);
 * - `forbiddenSyscalls` and `dangerousSyscalls` add up: a later layer can add to them, never
 *   take away (a learned baseline never un-forbids a call);
 * - `severity` is merged per alert type;
 * - keys no layer sets keep their defaults.
 * Each input is a {@link configLayer} (errors name it) or a plain config.
 */
export function mergeConfigs(
  ...inputs: Array<ConfigLayer | DetectorConfig | undefined>
): ResolvedDetectorConfig {
  const merged: Given = {};
  inputs.forEach((input, i) => {
    if (input === undefined) return;
    const given =
      typeof input === 'object' && input !== null && layers.has(input)
        ? (input as ConfigLayer).given
        : readLayer(input, inputs.length > 1 ? `config ${i + 1}` : undefined);
    for (const key of Object.keys(given) as ConfigKey[]) {
      const value = given[key];
      const before = merged[key];
      const rule = CONFIG_KEYS[key].merge;
      if (before === undefined || rule === 'replace') merged[key] = value;
      else if (rule === 'union')
        merged[key] = Object.freeze([...new Set([...(before as string[]), ...(value as string[])])]);
      else merged[key] = Object.freeze({ ...(before as object), ...(value as object) });
    }
  });
  return complete(merged);
}

/** Validates `input` and returns only the keys it sets (camelCase). */
function readLayer(input: unknown, source: string | undefined): Given {
  if (isResolvedDetectorConfig(input)) return { ...input };
  const problems: string[] = [];
  const given: Given = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw configError([`config must be an object, got ${describe(input)}`], source);
  }
  const spelledAs = new Map<ConfigKey, string>();
  for (const [rawKey, value] of Object.entries(input as Record<string, unknown>)) {
    if (METADATA_KEYS.has(rawKey)) continue;
    const key = Object.hasOwn(CONFIG_KEYS, rawKey) ? (rawKey as ConfigKey) : SNAKE_TO_CAMEL.get(rawKey);
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
    const spec = CONFIG_KEYS[key] as KeySpec<unknown>;
    const read = spec.read(value, rawKey, problems);
    if (read !== undefined) given[key] = read;
  }
  if (problems.length > 0) throw configError(problems, source);
  return given;
}

/** Fills in defaults; freezes and remembers the result. */
function complete(given: Given): ResolvedDetectorConfig {
  const out: Record<string, unknown> = {};
  for (const key of KEY_NAMES) out[key] = given[key] !== undefined ? given[key] : CONFIG_KEYS[key].default;
  // Severities given are a partial map over the defaults.
  if (given.severity !== undefined)
    out.severity = Object.freeze({ ...DEFAULT_SEVERITY, ...(given.severity as object) });
  const config = Object.freeze(out) as unknown as ResolvedDetectorConfig;
  resolved.add(config);
  return config;
}

function configError(problems: string[], source: string | undefined): SyscanError {
  const where = source === undefined ? '' : ` in ${source}`;
  const head =
    problems.length === 1
      ? `invalid detector config${where}`
      : `invalid detector config${where} (${problems.length} problems)`;
  return new SyscanError('ERR_SYSCAN_CONFIG', `${head}: ${problems.join('; ')}`);
}

/** The known key closest to a misspelt one, in the spelling style the user used. */
function suggest(key: string): string | undefined {
  const best = closestName(key, KEY_NAMES);
  return best !== undefined && key.includes('_') ? toSnake(best) : best;
}

const camelProperties: Record<string, Readonly<Record<string, unknown>>> = Object.fromEntries(
  KEY_NAMES.flatMap((k) => {
    const schema = (CONFIG_KEYS[k] as KeySpec<unknown>).schema;
    return schema === undefined ? [] : [[k, schema]];
  }),
);

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
