/**
 * Falco's definition order: items of every file, in load order, build one set of lists,
 * macros and rules. A later item of the same name replaces the earlier one, unless it says
 * `override:` (per key `append` or `replace`) or the older `append: true`.
 */
import type { RawItem } from './yaml-items.js';
import { ruleFileError } from './yaml-items.js';

export interface RawException {
  name: string;
  fields?: unknown;
  comps?: unknown;
  values: unknown[];
}

export interface RuleDef {
  name: string;
  desc: string;
  condition: string;
  output: string;
  priority: string;
  tags: string[];
  enabled: boolean;
  exceptions: RawException[];
  action: unknown;
  source: string;
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  /** Where it was first defined, and where its condition text came from. */
  item: RawItem;
  conditionItem: RawItem;
  /** Keys this syscan does not read. */
  ignoredKeys: string[];
}

export interface Definitions {
  lists: Map<string, { items: string[]; item: RawItem }>;
  macros: Map<string, { condition: string; item: RawItem }>;
  rules: Map<string, RuleDef>;
  /** Deprecated forms seen, for warnings. */
  deprecated: Array<{ item: RawItem; message: string }>;
}

const RULE_KEYS = new Set([
  'rule',
  'desc',
  'condition',
  'output',
  'priority',
  'tags',
  'enabled',
  'exceptions',
  'source',
  'append',
  'override',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'action',
]);
const APPENDABLE_RULE_KEYS = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
const REPLACEABLE_RULE_KEYS = new Set([
  'condition',
  'output',
  'desc',
  'priority',
  'tags',
  'exceptions',
  'enabled',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'action',
]);

export function emptyDefinitions(): Definitions {
  return { lists: new Map(), macros: new Map(), rules: new Map(), deprecated: [] };
}

function fail(item: RawItem, message: string, key?: string): never {
  const line = key === undefined ? item.line : (item.keyLines.get(key) ?? item.line);
  throw ruleFileError(item.file, line, `${item.kind} '${item.name}': ${message}`);
}

function text(item: RawItem, key: string, required: boolean): string {
  const v = item.data[key];
  if (v === undefined || v === null) {
    if (required) fail(item, `missing '${key}'`);
    return '';
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(item, `'${key}' must be text`, key);
}

function strings(item: RawItem, key: string): string[] {
  const v = item.data[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(item, `'${key}' must be a list`, key);
  return v.map((x) => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
    return fail(item, `'${key}' must be a list of plain values`, key);
  });
}

function bool(item: RawItem, key: string, fallback: boolean): boolean {
  const v = item.data[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') return fail(item, `'${key}' must be true or false`, key);
  return v;
}

/** `override: {key: append|replace}` as a map, validated against what the kind allows. */
function overrides(item: RawItem): Map<string, 'append' | 'replace'> | undefined {
  const v = item.data.override;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    return fail(item, "'override' must map keys to append or replace", 'override');
  const out = new Map<string, 'append' | 'replace'>();
  for (const [key, how] of Object.entries(v as Record<string, unknown>)) {
    if (how !== 'append' && how !== 'replace')
      fail(item, `override of '${key}' must be append or replace`, 'override');
    const allowed =
      item.kind === 'list'
        ? key === 'items'
        : item.kind === 'macro'
          ? key === 'condition'
          : how === 'append'
            ? APPENDABLE_RULE_KEYS.has(key)
            : REPLACEABLE_RULE_KEYS.has(key);
    if (!allowed) fail(item, `'${key}' cannot be overridden with ${how}`, 'override');
    out.set(key, how);
  }
  for (const key of Object.keys(item.data)) {
    if (key !== item.kind && key !== 'override' && !out.has(key))
      fail(item, `'${key}' is not named in override`, key);
  }
  for (const key of out.keys())
    if (!(key in item.data)) fail(item, `override names '${key}' but the item has no '${key}'`, 'override');
  return out;
}

function exceptions(item: RawItem): RawException[] {
  const v = item.data.exceptions;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(item, "'exceptions' must be a list", 'exceptions');
  return v.map((e) => {
    if (typeof e !== 'object' || e === null || typeof (e as RawException).name !== 'string') {
      return fail(item, 'each exception needs a name', 'exceptions');
    }
    const raw = e as RawException & { values?: unknown };
    if (raw.values !== undefined && raw.values !== null && !Array.isArray(raw.values)) {
      fail(item, `exception '${raw.name}': values must be a list`, 'exceptions');
    }
    return {
      name: raw.name,
      fields: raw.fields,
      comps: raw.comps,
      values: Array.isArray(raw.values) ? [...raw.values] : [],
    };
  });
}

/** Adds exceptions: values of a same-named exception are appended, new names added. */
function appendExceptions(into: RawException[], more: RawException[], item: RawItem): void {
  for (const e of more) {
    const existing = into.find((x) => x.name === e.name);
    if (existing === undefined) {
      if (e.fields === undefined)
        fail(item, `exception '${e.name}' has no fields and no earlier definition`, 'exceptions');
      into.push(e);
    } else existing.values.push(...e.values);
  }
}

function newRule(item: RawItem): RuleDef {
  return {
    name: item.name,
    desc: text(item, 'desc', true),
    condition: text(item, 'condition', true),
    output: text(item, 'output', true),
    priority: text(item, 'priority', true),
    tags: strings(item, 'tags'),
    enabled: bool(item, 'enabled', true),
    exceptions: exceptions(item),
    action: item.data.action,
    source: text(item, 'source', false) || 'syscall',
    warnEvttypes: bool(item, 'warn_evttypes', true),
    skipIfUnknownFilter: bool(item, 'skip-if-unknown-filter', false),
    item,
    conditionItem: item,
    ignoredKeys: Object.keys(item.data).filter((k) => !RULE_KEYS.has(k)),
  };
}

function mergeRule(defs: Definitions, item: RawItem): void {
  const existing = defs.rules.get(item.name);
  const how = overrides(item);
  const legacyAppend = bool(item, 'append', false);
  if (how === undefined && !legacyAppend) {
    const keys = Object.keys(item.data).filter((k) => k !== 'rule');
    // `- rule: X` + `enabled: false` alone toggles an existing rule (deprecated Falco form).
    if (existing !== undefined && keys.length === 1 && keys[0] === 'enabled') {
      existing.enabled = bool(item, 'enabled', true);
      defs.deprecated.push({
        item,
        message: "bare 'enabled:' is deprecated; use override: {enabled: replace}",
      });
      return;
    }
    defs.rules.set(item.name, newRule(item));
    return;
  }
  if (existing === undefined) fail(item, 'appends to or overrides a rule that is not defined earlier');
  if (legacyAppend) {
    defs.deprecated.push({ item, message: "'append: true' is deprecated; use override:" });
    if (item.data.condition !== undefined) {
      existing.condition = `${existing.condition} ${text(item, 'condition', false)}`;
      existing.conditionItem = item;
    }
    appendExceptions(existing.exceptions, exceptions(item), item);
    return;
  }
  for (const [key, mode] of how!) {
    if (key === 'exceptions') {
      if (mode === 'replace') existing.exceptions = exceptions(item);
      else appendExceptions(existing.exceptions, exceptions(item), item);
    } else if (key === 'tags') {
      existing.tags =
        mode === 'replace' ? strings(item, 'tags') : [...existing.tags, ...strings(item, 'tags')];
    } else if (key === 'enabled') existing.enabled = bool(item, 'enabled', true);
    else if (key === 'warn_evttypes') existing.warnEvttypes = bool(item, key, true);
    else if (key === 'skip-if-unknown-filter') existing.skipIfUnknownFilter = bool(item, key, false);
    else if (key === 'action') existing.action = item.data.action;
    else {
      const value = text(item, key, true);
      const k = key as 'condition' | 'output' | 'desc' | 'priority';
      existing[k] = mode === 'replace' ? value : `${existing[k]} ${value}`;
      if (k === 'condition') existing.conditionItem = item;
    }
  }
}

/** Applies one item to the definitions so far. */
export function mergeItem(defs: Definitions, item: RawItem): void {
  if (item.kind === 'rule') {
    mergeRule(defs, item);
    return;
  }
  const how = overrides(item);
  const legacyAppend = bool(item, 'append', false);
  if (legacyAppend) defs.deprecated.push({ item, message: "'append: true' is deprecated; use override:" });
  const mode = how?.values().next().value ?? (legacyAppend ? 'append' : undefined);
  if (item.kind === 'list') {
    const items = strings(item, 'items');
    const existing = defs.lists.get(item.name);
    if (mode !== undefined && existing === undefined)
      fail(item, `${mode} to a list that is not defined earlier`);
    if (mode === 'append') existing!.items.push(...items);
    else if (mode === 'replace') existing!.items = items;
    else defs.lists.set(item.name, { items, item });
    return;
  }
  const condition = text(item, 'condition', true);
  const existing = defs.macros.get(item.name);
  if (mode !== undefined && existing === undefined)
    fail(item, `${mode} to a macro that is not defined earlier`);
  if (mode === 'append') existing!.condition = `${existing!.condition} ${condition}`;
  else if (mode === 'replace') existing!.condition = condition;
  else defs.macros.set(item.name, { condition, item });
}
