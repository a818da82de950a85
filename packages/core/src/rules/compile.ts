/**
 * Turns a condition tree into one closure per rule, with macros inlined and lists expanded,
 * and works out which syscalls can make it true (the evaluator's index) and whether the
 * syscall name alone decides it (what can be refused at syscall entry).
 */
import { closestName } from '../closest-name.js';
import type { CompareOp, ConditionNode, FieldRef, ValueNode } from './ast.js';
import {
  type BoundField,
  bindField,
  type Compiled,
  type CompileReport,
  type CompileScope,
  coerce,
  NUMERIC_OPS,
  onField,
  RuleCompileError,
  scalarPredicate,
  type Test,
} from './compile-checks.js';
import type { FieldValue } from './fields.js';
import { globToRegExp, pathPrefixMatcher, stringMatcher } from './matchers.js';
import { type Cidr, cidrContains } from './net.js';

export type { Compiled, CompileReport, CompileScope, Test } from './compile-checks.js';
export { RuleCompileError } from './compile-checks.js';

/** The constant tests: compared by identity when conditions fold. */
export const ALWAYS_FALSE: Test = () => false;
export const ALWAYS_TRUE: Test = () => true;
const MAX_LIST_ITEMS = 100_000;
const MAX_MACRO_DEPTH = 100;
/** Macros used many times by macros used many times multiply: bound the work per rule. */
const MAX_MACRO_EXPANSIONS = 10_000;

/**
 * Compiles a condition for a rule (or exception) within `scope`. Long because its parts are
 * closures over one shared state (the scope, the report, the macro expansion stack); each
 * inner function handles one node kind.
 */
export function compileCondition(node: ConditionNode, scope: CompileScope, report: CompileReport): Compiled {
  const expanding: string[] = [];
  let expansions = 0;

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
    for (const entry of list) {
      expandListName(entry, false, offset, out, seen);
      // Lists of lists can grow exponentially (a: [b, b], b: [c, c], …): cap the expansion.
      if (out.length > MAX_LIST_ITEMS) {
        throw new RuleCompileError(`list '${text}' expands to more than ${MAX_LIST_ITEMS} items`, offset);
      }
    }
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
        const test: Test = t === ALWAYS_TRUE ? ALWAYS_FALSE : t === ALWAYS_FALSE ? ALWAYS_TRUE : (f) => !t(f);
        return { test, types: undefined, nameOnly: inner.nameOnly };
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
        if (expanding.length >= MAX_MACRO_DEPTH) {
          throw new RuleCompileError(`macros nested deeper than ${MAX_MACRO_DEPTH}`, n.offset);
        }
        if (++expansions > MAX_MACRO_EXPANSIONS) {
          throw new RuleCompileError(
            `more than ${MAX_MACRO_EXPANSIONS} macro expansions in one rule`,
            n.offset,
          );
        }
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
    const known =
      field.name === 'evt.type' && (op === '=' || op === '!=')
        ? knownResult(new Set([value.text]))
        : undefined;
    const fixed = known === undefined ? undefined : op === '=' ? known : !known;
    const test =
      fixed === undefined
        ? onField(field, op, scalarPredicate(field, op, operand, offset))
        : fixed
          ? ALWAYS_TRUE
          : ALWAYS_FALSE;
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
    const isType = field.name === 'evt.type';
    const known = isType && op === 'in' ? knownResult(values) : undefined;
    const test =
      known === undefined ? onField(field, op, (v) => values.has(v)) : known ? ALWAYS_TRUE : ALWAYS_FALSE;
    if (isType) for (const t of texts) report.eventTypes?.add(t);
    return { test, types: isType ? new Set(texts) : undefined, nameOnly: isType || field.name === 'evt.dir' };
  }

  /**
   * What `evt.type in values` is for every syscall the rule can be given (scope.knownTypes):
   * true when all are in it, false when none is, undefined when it depends on the event.
   */
  function knownResult(values: ReadonlySet<unknown>): boolean | undefined {
    const known = scope.knownTypes;
    if (known === undefined) return undefined;
    const hits = [...known].filter((t) => values.has(t)).length;
    return hits === known.size ? true : hits === 0 ? false : undefined;
  }

  return walk(node);
}

/** `and` of tests, folding constants: a false part makes it false, true parts drop out. */
function all(parts: Test[]): Test {
  if (parts.includes(ALWAYS_FALSE)) return ALWAYS_FALSE;
  const tests = parts.filter((t) => t !== ALWAYS_TRUE);
  if (tests.length === 0) return ALWAYS_TRUE;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (f) => a(f) && b(f);
  }
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}

/** `or` of tests, folding constants: a true part makes it true, false parts drop out. */
function any(parts: Test[]): Test {
  if (parts.includes(ALWAYS_TRUE)) return ALWAYS_TRUE;
  const tests = parts.filter((t) => t !== ALWAYS_FALSE);
  if (tests.length === 0) return ALWAYS_FALSE;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (f) => a(f) || b(f);
  }
  return (f) => {
    for (const t of tests) if (t(f)) return true;
    return false;
  };
}
