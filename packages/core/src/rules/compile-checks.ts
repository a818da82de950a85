/**
 * One comparison of a condition, compiled: a field bound to its getter (argument and
 * transformers applied), the literal coerced to the field's type, and the predicate.
 */
import { closestName } from '../closest-name.js';
import type { CompareOp, ConditionNode, FieldRef } from './ast.js';
import { isUnsupportedFalcoField, UNSUPPORTED_FIELD_NAMES } from './falco-fields.js';
import { basename } from './field-readers.js';
import { FIELDS, type FieldDef, type FieldValue, type Frame } from './fields.js';
import { stringMatcher } from './matchers.js';
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
  /**
   * The syscalls the evaluator will ever give this rule (its index bucket): an `evt.type`
   * check that every one of them passes compiles to `true`. Undefined: no such knowledge.
   */
  knownTypes?: ReadonlySet<string> | undefined;
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

export const NUMERIC_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);

/** A field getter with its type, after the argument and transformers are applied. */
export interface BoundField {
  name: string;
  type: FieldDef['type'];
  get: (f: Frame) => FieldValue;
}

const KNOWN_NAMES = [...FIELDS.keys(), ...UNSUPPORTED_FIELD_NAMES];

export function bindField(ref: FieldRef, report: CompileReport): BoundField | undefined {
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
  // `proc.aname` alone is every ancestor; `proc.aname[2]` is one.
  let type: FieldDef['type'] =
    def.arg === 'optional-index' ? (arg === undefined ? 'strings' : 'string') : def.type;
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
export function coerce(field: BoundField, text: string, offset: number): string | number | boolean | Cidr {
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
export function scalarPredicate(
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
export function onField(field: BoundField, op: CompareOp, pred: (v: FieldValue) => boolean): Test {
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
