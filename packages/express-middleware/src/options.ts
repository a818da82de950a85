import {
  closestName,
  createRuleEvaluator,
  type DetectorConfig,
  type DetectorStore,
  isDetectorStore,
  isSyscanError,
  type LoadedRule,
  resolveDetectorConfig,
  SyscanError,
} from '@syscan/core';
import type { Request, Response } from 'express';
import { createExtractor, DEFAULT_MAX_DEPTH } from './extract.js';
import type { Extracted, GuardVerdict, SyscanGuardOptions } from './types.js';

/** Options with every default filled in; derived once, when the guard is made. */
export interface ResolvedGuardOptions {
  detector: DetectorConfig;
  block: boolean;
  failClosed: boolean;
  /** Block mode and `onUninspected: 'block'`. */
  blockUninspected: boolean;
  /** Block mode and `onStoreError: 'block'`. */
  blockOnStoreError: boolean;
  /** A core DetectorStore sharing the clients' windows, budget and cooldown (shared-state.ts); undefined: in this process. */
  store: DetectorStore | undefined;
  key: (req: Request) => string;
  extract: (payload: unknown, req: Request) => Extracted;
  onVerdict: ((verdict: GuardVerdict, req: Request, res: Response) => unknown) | undefined;
  maxKeys: number;
  idleMs: number;
  maxInspectBytes: number;
  /** Context (process, paths, peer) on every judged event. */
  context: boolean;
  /** The tool's traces are written by strace alone (`-o FILE`). */
  ownStream: boolean;
  /** Rules for the sessions; undefined = the session's default pack. */
  rules: readonly LoadedRule[] | false | undefined;
  /** Lower-case names of the headers a withheld response keeps. */
  keepHeaders: ReadonlySet<string>;
  now: () => number;
}

export const DEFAULT_MAX_INSPECT_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_KEYS = 10_000;
export const DEFAULT_IDLE_MS = 600_000;
const MAX_DEPTH_LIMIT = 64;
const MAX_FIELDS = 64;

/**
 * Headers a withheld response keeps: set by middleware before the handler (CORS, security
 * policy, caching variance), never derived from a tool's output.
 */
export const SAFE_HEADERS: readonly string[] = Object.freeze([
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'referrer-policy',
  'strict-transport-security',
  'vary',
  'x-content-type-options',
  'x-frame-options',
  'x-request-id',
]);

const KNOWN: readonly (keyof SyscanGuardOptions)[] = [
  'detector',
  'mode',
  'key',
  'extract',
  'onVerdict',
  'maxKeys',
  'idleMs',
  'failMode',
  'onUninspected',
  'maxInspectBytes',
  'fields',
  'maxDepth',
  'keepHeaders',
  'context',
  'ownStream',
  'rules',
  'store',
  'onStoreError',
  'now',
];

/** Validates `options` and fills in defaults; throws one SyscanError listing every problem. */
export function resolveGuardOptions(options: unknown): ResolvedGuardOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw configError([`options must be an object, got ${describe(options)}`]);
  }
  const o = options as Record<string, unknown>;
  const problems: string[] = [];

  for (const name of Object.keys(o)) {
    if ((KNOWN as readonly string[]).includes(name)) continue;
    const near = closestName(name, KNOWN);
    problems.push(`unknown option '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
  }

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    problems.push(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${describe(v)}`);
    return fallback;
  };
  const fn = (name: string): ((...args: never[]) => unknown) | undefined => {
    const v = o[name];
    if (v === undefined || typeof v === 'function') return v as ((...args: never[]) => unknown) | undefined;
    problems.push(`${name} must be a function, got ${describe(v)}`);
    return undefined;
  };
  const count = (name: string, fallback: number, zeroOk = false): number => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isSafeInteger(v) && (v > 0 || (zeroOk && v === 0))) return v;
    problems.push(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${describe(v)}`);
    return fallback;
  };

  const mode = oneOf('mode', ['block', 'report'], 'block');
  const failMode = oneOf('failMode', ['closed', 'open'], 'closed');
  const key = fn('key') as ResolvedGuardOptions['key'] | undefined;
  const extract = fn('extract') as ResolvedGuardOptions['extract'] | undefined;
  const onVerdict = fn('onVerdict') as ResolvedGuardOptions['onVerdict'];
  const now = (fn('now') as (() => number) | undefined) ?? Date.now;
  const maxKeys = count('maxKeys', DEFAULT_MAX_KEYS);
  const idleMs = count('idleMs', DEFAULT_IDLE_MS, true);
  const maxInspectBytes = count('maxInspectBytes', DEFAULT_MAX_INSPECT_BYTES);
  const context = o.context === undefined ? true : o.context;
  if (typeof context !== 'boolean') problems.push(`context must be true or false, got ${describe(context)}`);
  const ownStream = o.ownStream === undefined ? false : o.ownStream;
  if (typeof ownStream !== 'boolean')
    problems.push(`ownStream must be true or false, got ${describe(ownStream)}`);
  const rules = guardRules(o.rules, problems);
  const onStoreError = oneOf('onStoreError', ['block', 'pass'], 'block');
  const store = o.store;
  if (store !== undefined && !isDetectorStore(store))
    problems.push(
      `store must be a DetectorStore (update, cooldownMs, get, reset; e.g. new RedisStore({ url })), got ${describe(store)}`,
    );
  const onUninspected = oneOf('onUninspected', ['block', 'pass'], 'block');
  const maxDepth = count('maxDepth', DEFAULT_MAX_DEPTH);
  if (maxDepth > MAX_DEPTH_LIMIT)
    problems.push(`maxDepth must be at most ${MAX_DEPTH_LIMIT}, got ${maxDepth}`);
  const names = (name: string, max: number): string[] | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (
      Array.isArray(v) &&
      v.length <= max &&
      v.every((f) => typeof f === 'string' && f.length > 0 && f.length <= 256)
    )
      return v as string[];
    problems.push(`${name} must be an array of at most ${max} non-empty names, got ${describe(v)}`);
    return undefined;
  };
  const fields = names('fields', MAX_FIELDS);
  if (fields !== undefined && fields.length === 0) problems.push('fields must name at least one field');
  const keepHeaders = names('keepHeaders', MAX_FIELDS) ?? [];
  if (extract !== undefined && (fields !== undefined || o.maxDepth !== undefined))
    problems.push(
      'fields and maxDepth configure the default extractor; with a custom extract, use createExtractor()',
    );

  let detector: DetectorConfig = {};
  const d = o.detector;
  if (d !== undefined && (typeof d !== 'object' || d === null || Array.isArray(d))) {
    problems.push(`detector must be a detector config object, got ${describe(d)}`);
  } else if (d !== undefined) {
    detector = d as DetectorConfig;
  }
  // Wall-clock windows by default: cooldown and Retry-After are then seconds a client can
  // wait out, whatever timestamps (or none) the traces carry. The guard's clock feeds the
  // detectors unless the detector config brings its own.
  const hasTimeSource = 'timeSource' in detector || 'time_source' in detector;
  detector = { ...(hasTimeSource ? {} : { timeSource: 'clock' as const }), now, ...detector };
  try {
    resolveDetectorConfig(detector);
  } catch (error) {
    if (!isSyscanError(error)) throw error;
    problems.push(`detector: ${error.message}`);
  }

  if (problems.length > 0) throw configError(problems);
  return {
    detector,
    block: mode === 'block',
    failClosed: failMode === 'closed',
    blockUninspected: mode === 'block' && onUninspected === 'block',
    blockOnStoreError: mode === 'block' && onStoreError === 'block',
    store: isDetectorStore(store) ? store : undefined,
    key: key ?? defaultKey,
    extract: extract ?? createExtractor({ fields, maxDepth, maxChars: maxInspectBytes }),
    onVerdict,
    maxKeys,
    idleMs,
    maxInspectBytes,
    context: context === true,
    ownStream: ownStream === true,
    rules,
    keepHeaders: new Set([...SAFE_HEADERS, ...keepHeaders.map((h) => h.toLowerCase())]),
    now,
  };
}

/**
 * The rules every session of the guard judges with: a frozen copy, indexed once here (so a
 * session's evaluator is O(1) to make and a rule not made by `loadRules` is a config error
 * now, not an error verdict on every response). Undefined: the session's shipped pack.
 */
function guardRules(rules: unknown, problems: string[]): readonly LoadedRule[] | false | undefined {
  if (rules === undefined || rules === false) return rules;
  if (!Array.isArray(rules)) {
    problems.push(`rules must be loaded rules (loadRules()) or false, got ${describe(rules)}`);
    return undefined;
  }
  const frozen: readonly LoadedRule[] = Object.freeze([...(rules as LoadedRule[])]);
  try {
    createRuleEvaluator(frozen);
  } catch (error) {
    problems.push(`rules: ${error instanceof Error ? error.message : String(error)}`);
  }
  return frozen;
}

/** `req.ip` (honours `trust proxy`), else the socket's address. */
function defaultKey(req: Request): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

function configError(problems: string[]): SyscanError {
  const list = problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`;
  return new SyscanError('ERR_SYSCAN_CONFIG', `syscanGuard: invalid options: ${list}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
