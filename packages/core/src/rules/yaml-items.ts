/**
 * A Falco rules file read as YAML: a sequence of `rule`, `macro` and `list` items, each with
 * the line it starts on and the line of each key's value, so errors can point at them.
 * Shipped packs come with their items already read (see {@link preParsedSource}), since
 * parsing a pack's YAML cost more than all else a short run does at start.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import { SyscanError } from '../errors.js';
import type { RuleSource } from './types.js';

export interface RawItem {
  kind: 'rule' | 'macro' | 'list';
  name: string;
  /** The item's keys as plain values. */
  data: Record<string, unknown>;
  file: string;
  line: number;
  /** 1-based line where each key's value starts. */
  keyLines: ReadonlyMap<string, number>;
  /** Keys whose value is a literal block scalar (`|`): its lines map one to one to the text's. */
  literalBlocks: ReadonlySet<string>;
}

/** Top-level items syscan accepts and ignores (Falco versioning). */
const IGNORED_ITEMS = new Set(['required_engine_version', 'required_plugin_versions']);

/** Most items one file may hold: a bound on memory for hostile input. */
const MAX_ITEMS = 20_000;

export function ruleFileError(file: string, line: number | undefined, message: string): SyscanError {
  return new SyscanError('ERR_SYSCAN_CONFIG', `${file}${line === undefined ? '' : `:${line}`}: ${message}`, {
    reason: 'invalid_rule',
  });
}

/** Reads one file's items; unknown top-level items are reported through `ignored`. */
export function readRuleItems(
  file: string,
  text: string,
  ignored: (line: number, what: string) => void,
): RawItem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  const first = doc.errors[0];
  if (first !== undefined) {
    throw ruleFileError(file, lineOf(first.pos[0]), `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return [];
  if (!isSeq(root))
    throw ruleFileError(
      file,
      lineOf(root.range?.[0]),
      'a rules file is a YAML list of rule, macro and list items',
    );
  if (root.items.length > MAX_ITEMS) throw ruleFileError(file, undefined, `more than ${MAX_ITEMS} items`);
  const items: RawItem[] = [];
  for (const node of root.items) {
    const line = lineOf((node as { range?: [number, number, number] } | null)?.range?.[0]);
    if (!isMap(node)) throw ruleFileError(file, line, 'each item must be a mapping (rule:, macro: or list:)');
    const data: Record<string, unknown> = {};
    const keyLines = new Map<string, number>();
    const literalBlocks = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const value = pair.value as { range?: [number, number, number]; toJSON?: () => unknown } | null;
      data[key] = isScalar(value) ? value.value : (value?.toJSON?.() ?? value);
      keyLines.set(
        key,
        lineOf(value?.range?.[0] ?? (pair.key as { range?: [number, number, number] }).range?.[0]),
      );
      if (isScalar(value) && value.type === Scalar.BLOCK_LITERAL) literalBlocks.add(key);
    }
    const kind = (['rule', 'macro', 'list'] as const).find((k) => k in data);
    if (kind === undefined) {
      const what = Object.keys(data)[0] ?? '(empty)';
      if (!IGNORED_ITEMS.has(what)) ignored(line, what);
      continue;
    }
    const name = data[kind];
    if (typeof name !== 'string' || name.trim() === '')
      throw ruleFileError(file, line, `${kind} item needs a name`);
    items.push({ kind, name, data, file, line, keyLines, literalBlocks });
  }
  return items;
}

/** An item as the generated pack modules hold it: JSON, with the line maps as entry lists. */
interface StoredItem {
  kind: RawItem['kind'];
  name: string;
  data: Record<string, unknown>;
  line: number;
  keyLines: Array<[string, number]>;
  literalBlocks: string[];
}

/** A file's items in stored form: what {@link readRuleItems} returns and what it reports ignored. */
interface StoredItems {
  items: StoredItem[];
  ignored: Array<{ line: number; what: string }>;
}

/** The JSON of the items `text` holds, for a generated module (scripts/gen-rule-packs.mjs). */
export function storeRuleItems(file: string, text: string): string {
  const stored: StoredItems = { items: [], ignored: [] };
  for (const item of readRuleItems(file, text, (line, what) => stored.ignored.push({ line, what }))) {
    stored.items.push({
      kind: item.kind,
      name: item.name,
      data: item.data,
      line: item.line,
      keyLines: [...item.keyLines],
      literalBlocks: [...item.literalBlocks],
    });
  }
  return JSON.stringify(stored);
}

/**
 * Items back from {@link storeRuleItems}' JSON, as `file`'s: fresh objects on every call, so
 * nothing a load does to them reaches the next load.
 */
export function restoreRuleItems(
  file: string,
  json: string,
  ignored: (line: number, what: string) => void,
): RawItem[] {
  const stored = JSON.parse(json) as StoredItems;
  for (const i of stored.ignored) ignored(i.line, i.what);
  return stored.items.map((i) => ({
    kind: i.kind,
    name: i.name,
    data: i.data,
    file,
    line: i.line,
    keyLines: new Map(i.keyLines),
    literalBlocks: new Set(i.literalBlocks),
  }));
}

/** Sources shipped with their items read ahead of time, and those items' JSON. */
const preParsed = new WeakMap<RuleSource, string>();

/**
 * A shipped rule source (frozen) whose items are `itemsJson` ({@link storeRuleItems} of its
 * text, made by scripts/gen-rule-packs.mjs and checked against the text by
 * test/rule-packs.test.ts): loading it runs no YAML parser. Any other source object, such as
 * a user's file or a copy of this one, is read from its text.
 */
export function preParsedSource(source: RuleSource, itemsJson: string): RuleSource {
  const frozen = Object.freeze({ name: source.name, text: source.text });
  preParsed.set(frozen, itemsJson);
  return frozen;
}

/** The items of one source: its shipped pre-parsed form when it has one, else its YAML. */
export function sourceItems(source: RuleSource, ignored: (line: number, what: string) => void): RawItem[] {
  const json = preParsed.get(source);
  return json === undefined
    ? readRuleItems(source.name, source.text, ignored)
    : restoreRuleItems(source.name, json, ignored);
}
