/**
 * Turns a condition tree into one closure per rule, with macros inlined and lists expanded,
 * and works out which syscalls can make it true (the evaluator's index) and whether the
 * syscall name alone decides it (what can be refused at syscall entry).
 */
import { closestName } from '../closest-name.js';
import type { CompareOp, ConditionNode, FieldRef, ValueNode } from './ast.js';
import { isUnsupportedFalcoField, UNSUPPORTED_FIELD_NAMES } from './falco-fields.js';
import { basename, FIELDS, type FieldDef, type FieldValue, type Frame } from './fields.js';
import { globToRegExp, pathPrefixMatcher, stringMatcher } from './matchers.js';
import { type Cidr, cidrContains, parseCidr } from './net.js';

export type Test = (frame: Frame) => boolean;

/** A compile error at `offset` of the condition text (the loader adds file, line and rule). */
export class RuleCompileError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'RuleCompileError';
    this.offset = offset;
  }
}

/** What compiling needs: parsed macros and the raw items of lists, by name. */
export interface CompileScope {
  macros: ReadonlyMap<string, ConditionNode>;
  lists: ReadonlyMap<string, readonly string[]>;
}

export interface Compiled {
  test: Test;
  /** Syscalls that can make it true; undefined when any can. */
  types: ReadonlySet<string> | undefined;
  /** True when only `evt.type`/`evt.dir` are read. */
  nameOnly: boolean;
}

/** What one rule's compilation found besides its closure. */
export interface CompileReport {
  /** Falco fields or operators syscan cannot evaluate (the rule is skipped). */
  unsupported: Set<string>;
  /** Every field read. */
  fields: Set<string>;
  /** Every `evt.type` value named (for the loader's check against the syscall tables). */
  eventTypes?: Set<string>;
}

const NUMERIC_OPS = new Set(['<', '<=', '>', '>=']);
const ALWAYS_FALSE: Test = () => false;

/** A field getter with its type, after the argument and transformers are applied. */
interface BoundField {
  name: string;
  type: FieldDef['type'];
  get: (f: Frame) => FieldValue;
}

const KNOWN_NAMES = [...FIELDS.keys(), ...UNSUPPORTED_FIELD_NAMES];

function bindField(ref: FieldRef, report: CompileReport): BoundField | undefined {
  let fieldName = ref.name;
  let argText = ref.arg;
  for (const prefix of ['evt.arg.', 'evt.rawarg.']) {
    if (fieldName.startsWith(prefix) && argText === undefined) {
      argText = fieldName.slice(prefix.length);
      fieldName = prefix.slice(0, -1);
    }
  }
  const label = argText === undefined ? fieldName : `${fieldName}[${argText}]`;
  report.fields.add(label);
  const def = FIELDS.get(fieldName);
  if (def === undefined) {
    if (isUnsupportedFalcoField(fieldName)) {
      report.unsupported.add(fieldName);
      return undefined;
    }
    const hint = closestName(fieldName, KNOWN_NAMES);
    throw new RuleCompileError(
      `unknown field '${fieldName}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
      ref.offset,
    );
  }
  let arg: number | string | undefined;
  if (argText !== undefined) {
    if (def.arg === 'none') throw new RuleCompileError(`field '${fieldName}' takes no argument`, ref.offset);
    if (/^\d+$/.test(argText)) arg = Number(argText);
    else if (def.arg === 'index-or-name' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(argText)) arg = argText;
    else throw new RuleCompileError(`bad argument '${argText}' for field '${fieldName}'`, ref.offset);
  } else if (def.arg === 'index' || def.arg === 'index-or-name') {
    throw new RuleCompileError(`field '${fieldName}' needs an argument, e.g. ${fieldName}[1]`, ref.offset);
  }
  const base = def.get;
  let type: FieldDef['type'] =
    arg === undefined && def.arg === 'optional-index'
      ? 'strings'
      : def.type === 'strings'
        ? 'string'
        : def.type;
  let get = (f: Frame): FieldValue => base(f, arg);
  for (const t of ref.transforms) {
    if (type !== 'string' && type !== 'strings')
      throw new RuleCompileError(`${t}() needs a text field, not '${label}'`, ref.offset);
    if (t === 'b64') {
      report.unsupported.add('b64()');
      return undefined;
    }
    const inner = get;
    const fn: (s: string) => string | number =
      t === 'tolower'
        ? (s) => s.toLowerCase()
        : t === 'toupper'
          ? (s) => s.toUpperCase()
          : t === 'basename'
            ? basename
            : (s) => s.length;
    get = (f) => {
      const v = inner(f);
      if (typeof v === 'string') return fn(v);
      return Array.isArray(v) ? (v as string[]).map((s) => String(fn(s))) : undefined;
    };
    if (t === 'len') type = 'number';
  }
  return { name: label, type, get };
}

/** A literal coerced to the field's type, or a compile error naming both. */
function coerce(field: BoundField, text: string, offset: number): string | number | boolean | Cidr {
  switch (field.type) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n))
        throw new RuleCompileError(`'${text}' is not a number (field ${field.name})`, offset);
      return n;
    }
    case 'bool':
      if (text !== 'true' && text !== 'false')
        throw new RuleCompileError(`'${text}' is not true or false (field ${field.name})`, offset);
      return text === 'true';
    case 'ip':
    case 'ipnet': {
      const cidr = parseCidr(text);
      if (cidr === undefined)
        throw new RuleCompileError(
          `'${text}' is not an IP address or CIDR range (field ${field.name})`,
          offset,
        );
      return cidr;
    }
    default:
      return text;
  }
}

/** A predicate on one non-undefined scalar value. */
function scalarPredicate(
  field: BoundField,
  op: CompareOp,
  operand: string | number | boolean | Cidr,
  offset: number,
): (v: FieldValue) => boolean {
  if (field.type === 'ip' || field.type === 'ipnet') {
    if (op !== '=' && op !== '!=')
      throw new RuleCompileError(`operator '${op}' does not apply to address field ${field.name}`, offset);
    const range = operand as Cidr;
    return op === '='
      ? (v) => cidrContains(range, v as Uint8Array)
      : (v) => !cidrContains(range, v as Uint8Array);
  }
  if (field.type === 'number' || field.type === 'bool') {
    if (field.type === 'bool' && op !== '=' && op !== '!=')
      throw new RuleCompileError(`operator '${op}' does not apply to true/false field ${field.name}`, offset);
    if (op !== '=' && op !== '!=' && !NUMERIC_OPS.has(op))
      throw new RuleCompileError(`operator '${op}' needs a text field; ${field.name} is a number`, offset);
    const x = operand as number | boolean;
    switch (op) {
      case '=':
        return (v) => v === x;
      case '!=':
        return (v) => v !== x;
      case '<':
        return (v) => (v as number) < (x as number);
      case '<=':
        return (v) => (v as number) <= (x as number);
      case '>':
        return (v) => (v as number) > (x as number);
      default:
        return (v) => (v as number) >= (x as number);
    }
  }
  if (NUMERIC_OPS.has(op))
    throw new RuleCompileError(`operator '${op}' needs a number field; ${field.name} is text`, offset);
  if (op === 'regex') {
    try {
      new RegExp(String(operand));
    } catch {
      throw new RuleCompileError(`bad regular expression '${String(operand)}'`, offset);
    }
  }
  const match = stringMatcher(op, String(operand));
  return (v) => match(v as string);
}

/** Applies a scalar predicate to a field's value: false when the value is missing, any element for multi-valued fields. */
function onField(field: BoundField, op: CompareOp, pred: (v: FieldValue) => boolean): Test {
  const get = field.get;
  if (field.type !== 'strings') {
    return (f) => {
      const v = get(f);
      return v !== undefined && pred(v);
    };
  }
  // `proc.aname != x` means no ancestor is x (and there is one); other operators: some ancestor.
  if (op === '!=') {
    return (f) => {
      const v = get(f) as readonly string[] | undefined;
      return v !== undefined && v.length > 0 && v.every(pred);
    };
  }
  return (f) => {
    const v = get(f) as readonly string[] | undefined;
    return v?.some(pred) ?? false;
  };
}

/** Compiles a condition for a rule (or exception) within `scope`. */
export function compileCondition(node: ConditionNode, scope: CompileScope, report: CompileReport): Compiled {
  const expanding: string[] = [];

  function listItems(items: readonly ValueNode[], out: string[], seen: string[]): void {
    for (const item of items) {
      if (item.kind === 'field') throw new RuleCompileError('val() cannot appear in a list', item.offset);
      expandListName(item.text, item.quoted, item.offset, out, seen);
    }
  }

  function expandListName(
    text: string,
    quoted: boolean,
    offset: number,
    out: string[],
    seen: string[],
  ): void {
    const list = quoted ? undefined : scope.lists.get(text);
    if (list === undefined) {
      out.push(text);
      return;
    }
    if (seen.includes(text)) throw new RuleCompileError(`list '${text}' includes itself`, offset);
    seen.push(text);
    for (const entry of list) expandListName(entry, false, offset, out, seen);
    seen.pop();
  }

  function walk(n: ConditionNode): Compiled {
    switch (n.kind) {
      case 'and':
      case 'or': {
        const parts = n.children.map(walk);
        const tests = parts.map((p) => p.test);
        const nameOnly = parts.every((p) => p.nameOnly);
        let types: Set<string> | undefined;
        if (n.kind === 'and') {
          for (const p of parts) {
            if (p.types === undefined) continue;
            types =
              types === undefined ? new Set(p.types) : new Set([...types].filter((t) => p.types!.has(t)));
          }
          return { test: all(tests), types, nameOnly };
        }
        if (parts.every((p) => p.types !== undefined)) types = new Set(parts.flatMap((p) => [...p.types!]));
        return { test: any(tests), types, nameOnly };
      }
      case 'not': {
        const inner = walk(n.child);
        const t = inner.test;
        return { test: (f) => !t(f), types: undefined, nameOnly: inner.nameOnly };
      }
      case 'macro': {
        const macro = scope.macros.get(n.name);
        if (macro === undefined) {
          const hint = closestName(n.name, scope.macros.keys());
          throw new RuleCompileError(
            `undefined macro '${n.name}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
            n.offset,
          );
        }
        if (expanding.includes(n.name))
          throw new RuleCompileError(`macro '${n.name}' refers to itself`, n.offset);
        expanding.push(n.name);
        try {
          return walk(macro);
        } catch (error) {
          // Point at the use; name the macro whose body failed.
          if (error instanceof RuleCompileError && !error.message.startsWith('in macro')) {
            throw new RuleCompileError(`in macro '${n.name}': ${error.message}`, n.offset);
          }
          throw error;
        } finally {
          expanding.pop();
        }
      }
      case 'exists': {
        const field = bindField(n.field, report);
        if (field === undefined) return unsupported();
        const get = field.get;
        return {
          test: (f) => {
            const v = get(f);
            return v !== undefined && (!Array.isArray(v) || v.length > 0);
          },
          types: undefined,
          nameOnly: false,
        };
      }
      case 'compare':
        return compare(n.field, n.op, n.value, n.offset);
      case 'list':
        return listCompare(n.field, n.op, n.items, n.offset);
    }
  }

  function unsupported(): Compiled {
    return { test: ALWAYS_FALSE, types: undefined, nameOnly: false };
  }

  function compare(ref: FieldRef, op: CompareOp, value: ValueNode, offset: number): Compiled {
    if (op === 'bcontains' || op === 'bstartswith') {
      report.unsupported.add(op);
      return unsupported();
    }
    const field = bindField(ref, report);
    if (field === undefined) return unsupported();
    if (op === 'pmatch' || op === 'in' || op === 'intersects') return listCompare(ref, op, [value], offset);
    if (value.kind === 'field') return fieldToField(field, op, value, offset);
    const operand = coerce(field, value.text, value.offset);
    const test = onField(field, op, scalarPredicate(field, op, operand, offset));
    if (field.name === 'evt.type') report.eventTypes?.add(value.text);
    const types = field.name === 'evt.type' && op === '=' ? new Set([value.text]) : undefined;
    return { test, types, nameOnly: field.name === 'evt.type' || field.name === 'evt.dir' };
  }

  function fieldToField(
    field: BoundField,
    op: CompareOp,
    value: ValueNode & { kind: 'field' },
    offset: number,
  ): Compiled {
    const other = bindField(value.field, report);
    if (other === undefined) return unsupported();
    const left = field.get;
    const right = other.get;
    const asText = (v: FieldValue): string => (v instanceof Uint8Array ? v.join('.') : String(v));
    const test: Test = (f) => {
      const a = left(f);
      const b = right(f);
      if (a === undefined || b === undefined || Array.isArray(a) || Array.isArray(b)) return false;
      if (typeof a === 'number' && NUMERIC_OPS.has(op)) {
        const n = Number(b);
        return op === '<' ? a < n : op === '<=' ? a <= n : op === '>' ? a > n : a >= n;
      }
      if (NUMERIC_OPS.has(op)) return false;
      return stringMatcher(op, asText(b))(asText(a));
    };
    if (NUMERIC_OPS.has(op) && field.type !== 'number')
      throw new RuleCompileError(`operator '${op}' needs a number field; ${field.name} is not`, offset);
    return { test, types: undefined, nameOnly: false };
  }

  function listCompare(ref: FieldRef, op: CompareOp, items: readonly ValueNode[], offset: number): Compiled {
    const field = bindField(ref, report);
    if (field === undefined) return unsupported();
    const texts: string[] = [];
    listItems(items, texts, []);
    const get = field.get;
    if (op === 'pmatch') {
      if (field.type !== 'string' && field.type !== 'strings')
        throw new RuleCompileError(`pmatch needs a path field, not ${field.name}`, offset);
      const globbed = texts.filter((t) => /[*?[]/.test(t)).map((t) => globToRegExp(t, false));
      const prefix = pathPrefixMatcher(texts.filter((t) => !/[*?[]/.test(t)));
      return {
        test: onField(field, op, (v) => prefix(v as string) || globbed.some((re) => re.test(v as string))),
        types: undefined,
        nameOnly: false,
      };
    }
    if (field.type === 'ip' || field.type === 'ipnet') {
      const ranges = texts.map((t) => coerce(field, t, offset) as Cidr);
      return {
        test: onField(field, op, (v) => ranges.some((r) => cidrContains(r, v as Uint8Array))),
        types: undefined,
        nameOnly: false,
      };
    }
    const values = new Set<unknown>(texts.map((t) => coerce(field, t, offset)));
    if (op === 'intersects') {
      return {
        test: (f) => {
          const v = get(f);
          if (v === undefined) return false;
          return Array.isArray(v) ? v.some((x) => values.has(x)) : values.has(v);
        },
        types: undefined,
        nameOnly: false,
      };
    }
    const test = onField(field, op, (v) => values.has(v));
    const isType = field.name === 'evt.type';
    if (isType) for (const t of texts) report.eventTypes?.add(t);
    return { test, types: isType ? new Set(texts) : undefined, nameOnly: isType || field.name === 'evt.dir' };
  }

  return walk(node);
}

function all(tests: Test[]): Test {
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (f) => a(f) && b(f);
  }
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}

function any(tests: Test[]): Test {
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (f) => a(f) || b(f);
  }
  return (f) => {
    for (const t of tests) if (t(f)) return true;
    return false;
  };
}
