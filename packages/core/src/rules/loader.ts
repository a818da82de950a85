/**
 * `loadRules`: Falco rules files in, compiled rules and warnings out. Every rule compiles
 * once here; a bad one is one SyscanError naming the file, line and rule.
 */
import type { AlertAction } from '../detect/alert.js';
import { listArches, syscallNumber } from '../syscalls/index.js';
import type { ConditionNode, FieldRef, ValueNode } from './ast.js';
import {
  type CompileReport,
  type CompileScope,
  compileCondition,
  RuleCompileError,
  type Test,
} from './compile.js';
import { ConditionSyntaxError, fieldRefFromText, parseCondition } from './condition-parser.js';
import { RUN_STATE_FIELDS } from './fields.js';
import { type Definitions, emptyDefinitions, mergeItem, type RuleDef } from './merge.js';
import { compileOutput, type OutputTemplate } from './output.js';
import { PRIORITY_SEVERITY, parsePriority } from './priority.js';
import type {
  LoadedRule,
  LoadedRules,
  LoadRulesOptions,
  RuleSource,
  RuleWarning,
  RuleWarningCode,
} from './types.js';
import { type RawItem, ruleFileError, sourceItems } from './yaml-items.js';

/** What the evaluator needs of a rule beyond its public description. */
export interface RuleInternals {
  test: Test;
  /** The test specialised for each syscall the rule is indexed under (ALWAYS_FALSE: never). */
  testFor: ReadonlyMap<string, Test>;
  output: OutputTemplate;
  usesRunState: boolean;
}

const internals = new WeakMap<LoadedRule, RuleInternals>();

/** The compiled parts of a rule made by {@link loadRules}, or undefined for any other object. */
export function ruleInternals(rule: LoadedRule): RuleInternals | undefined {
  return internals.get(rule);
}

const ACTIONS: readonly AlertAction[] = ['alert', 'deny', 'kill'];

const knownSyscalls = new Map<string, boolean>();
/** True when `name` is a syscall of some arch syscan knows (memoised: rules name few). */
function isKnownSyscall(name: string): boolean {
  let known = knownSyscalls.get(name);
  if (known === undefined) {
    known = listArches().some((arch) => syscallNumber(name, arch) !== undefined);
    knownSyscalls.set(name, known);
  }
  return known;
}
const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/** Line of `offset` within the text of `key` (exact for `|` blocks, the key's line otherwise). */
function lineAt(item: RawItem, key: string, text: string, offset: number): number {
  const base = item.keyLines.get(key) ?? item.line;
  if (!item.literalBlocks.has(key)) return base;
  // An error at the end of the text is on its last line, not after the block's final newline.
  const upTo = Math.min(Math.max(0, offset), text.trimEnd().length);
  return base + 1 + (text.slice(0, upTo).match(/\n/g)?.length ?? 0);
}

function near(text: string, offset: number): string {
  if (offset < 0 || offset >= text.length) return '';
  const snippet = text
    .slice(offset, offset + 30)
    .replace(/\s+/g, ' ')
    .trim();
  return snippet === '' ? '' : ` near '${snippet}'`;
}

/** Exceptions as `not (… or …)` nodes, as Falco adds them to the condition. */
function exceptionNodes(def: RuleDef): ConditionNode[] {
  const alternatives: ConditionNode[] = [];
  const lit = (v: unknown): ValueNode => ({ kind: 'literal', text: String(v), quoted: false, offset: -1 });
  const check = (field: FieldRef, comp: string, value: unknown): ConditionNode => {
    if (comp === 'in' || comp === 'pmatch' || comp === 'intersects') {
      const items = (Array.isArray(value) ? value : [value]).map(lit);
      return { kind: 'list', field, op: comp, items, offset: -1 };
    }
    return { kind: 'compare', field, op: comp as 'in', value: lit(value), offset: -1 };
  };
  const bad = (message: string): never => {
    throw new RuleCompileError(message, -1);
  };
  for (const e of def.exceptions) {
    if (e.values.length === 0) continue;
    if (typeof e.fields === 'string') {
      const comp = typeof e.comps === 'string' ? e.comps : 'in';
      if (!['in', 'pmatch', 'intersects'].includes(comp))
        bad(`exception '${e.name}': a single field needs comps in, pmatch or intersects`);
      alternatives.push(check(fieldRefFromText(e.fields), comp, e.values));
      continue;
    }
    if (!Array.isArray(e.fields) || e.fields.some((f) => typeof f !== 'string'))
      bad(`exception '${e.name}': fields must be a field or a list of fields`);
    const fields = e.fields as string[];
    const comps = e.comps === undefined ? fields.map(() => '=') : e.comps;
    if (!Array.isArray(comps) || comps.length !== fields.length)
      bad(`exception '${e.name}': comps must match fields one to one`);
    for (const tuple of e.values) {
      if (!Array.isArray(tuple) || tuple.length !== fields.length)
        bad(`exception '${e.name}': each value must be a list of ${fields.length}`);
      const parts = fields.map((f, i) =>
        check(fieldRefFromText(f), String((comps as unknown[])[i]), (tuple as unknown[])[i]),
      );
      alternatives.push(parts.length === 1 ? parts[0]! : { kind: 'and', children: parts, offset: -1 });
    }
  }
  return alternatives.length === 0
    ? []
    : [{ kind: 'not', child: { kind: 'or', children: alternatives, offset: -1 }, offset: -1 }];
}

function newReport(): CompileReport {
  return { unsupported: new Set(), fields: new Set(), eventTypes: new Set() };
}

/** Which of `types` make a name-only rule true: tried on a bare event of each syscall. */
function decidedSyscalls(test: Test, types: ReadonlySet<string>): string[] {
  const frame = {
    event: { kind: 'syscall' as const, syscall: '', denied: false, raw: '', source: 'strace' as const },
    lookup: undefined,
    run: undefined as never,
    args: [],
    open: null,
    path: null,
    dir: null,
    base: null,
  };
  return [...types].filter((syscall) => {
    frame.event.syscall = syscall;
    return test(frame);
  });
}

interface Ctx {
  defs: Definitions;
  scope: CompileScope;
  warnings: RuleWarning[];
  options: LoadRulesOptions;
}

function warn(ctx: Ctx, code: RuleWarningCode, item: RawItem, message: string, rule?: string): void {
  const who = rule === undefined ? '' : `rule '${rule}': `;
  ctx.warnings.push({
    code,
    message: `${item.file}:${item.line}: ${who}${message}`,
    file: item.file,
    line: item.line,
    rule,
  });
}

function compileRule(ctx: Ctx, def: RuleDef): LoadedRule | undefined {
  const where = (key: string, text: string, offset: number): string => {
    const item = key === 'condition' ? def.conditionItem : def.item;
    return `${item.file}:${lineAt(item, key, text, offset)}`;
  };
  const fail = (key: string, text: string, offset: number, message: string): never => {
    throw ruleFileError(
      where(key, text, offset),
      undefined,
      `rule '${def.name}': ${message}${near(text, offset)}`,
    );
  };
  if (def.source !== 'syscall') {
    warn(ctx, 'other_source', def.item, `source '${def.source}' is not syscall telemetry; skipped`, def.name);
    return undefined;
  }
  const priority = parsePriority(def.priority);
  if (priority === undefined)
    fail(
      'priority',
      '',
      -1,
      `unknown priority '${def.priority}' (emergency, alert, critical, error, warning, notice, informational, debug)`,
    );
  const action = def.action ?? 'alert';
  if (!ACTIONS.includes(action as AlertAction))
    fail('action', '', -1, `action must be alert, deny or kill, not '${String(action)}'`);
  const report = newReport();
  let condition: ConditionNode;
  try {
    condition = parseCondition(def.condition);
  } catch (error) {
    if (error instanceof ConditionSyntaxError)
      fail('condition', def.condition, error.offset, `syntax error: ${error.message}`);
    throw error;
  }
  let compiled: ReturnType<typeof compileCondition>;
  const bySyscall = new Map<string, Test>();
  let output: OutputTemplate;
  try {
    const extra = exceptionNodes(def);
    const whole: ConditionNode =
      extra.length === 0 ? condition : { kind: 'and', children: [condition, ...extra], offset: 0 };
    compiled = compileCondition(whole, ctx.scope, report);
    // Once more per indexed syscall: there every `evt.type` check is a constant, and folding
    // it away leaves only what that syscall's events must pass (or nothing, for none).
    if (compiled.types !== undefined) {
      for (const syscall of compiled.types) {
        bySyscall.set(
          syscall,
          compileCondition(whole, { ...ctx.scope, knownTypes: new Set([syscall]) }, newReport()).test,
        );
      }
    }
    output = compileOutput(def.output.trim());
  } catch (error) {
    if (error instanceof RuleCompileError || error instanceof ConditionSyntaxError) {
      if (ctx.options.skipUnknownFields || def.skipIfUnknownFilter) {
        if (/^(in macro '[^']*': )?unknown field/.test(error.message)) {
          warn(ctx, 'unsupported_field', def.item, `${error.message}; skipped`, def.name);
          return undefined;
        }
      }
      fail('condition', def.condition, error.offset, error.message);
    }
    throw error;
  }
  if (report.unsupported.size > 0) {
    const names = [...report.unsupported].join(', ');
    warn(
      ctx,
      'unsupported_field',
      def.item,
      `uses ${names}, which syscall telemetry cannot supply; skipped`,
      def.name,
    );
    return undefined;
  }
  if (output!.unsupported.length > 0) {
    warn(
      ctx,
      'unsupported_field',
      def.item,
      `output names ${[...new Set(output!.unsupported)].join(', ')}, shown as <NA>`,
      def.name,
    );
  }
  const unknownTypes = [...(report.eventTypes ?? [])].filter((t) => !isKnownSyscall(t));
  if (unknownTypes.length > 0) {
    warn(
      ctx,
      'unknown_event_type',
      def.item,
      `evt.type ${unknownTypes.join(', ')}: no such syscall on any arch; never matches`,
      def.name,
    );
  }
  if (compiled!.types === undefined && def.warnEvttypes) {
    warn(
      ctx,
      'no_event_type',
      def.item,
      'condition does not restrict evt.type: evaluated on every event',
      def.name,
    );
  }
  for (const key of def.ignoredKeys)
    warn(ctx, 'ignored_key', def.item, `key '${key}' is not read by syscan`, def.name);
  const nameOnly =
    compiled!.nameOnly && compiled!.types !== undefined && !def.exceptions.some((e) => e.values.length > 0);
  const rule: LoadedRule = Object.freeze({
    name: def.name,
    desc: def.desc.trim(),
    condition: def.condition.trim(),
    output: def.output.trim(),
    priority: priority!,
    severity: PRIORITY_SEVERITY[priority!],
    tags: Object.freeze([...def.tags]),
    enabled: def.enabled,
    action: action as AlertAction,
    file: def.item.file,
    line: def.item.line,
    syscalls: compiled!.types,
    decidedBySyscall: nameOnly ? Object.freeze(decidedSyscalls(compiled!.test, compiled!.types!)) : undefined,
  });
  internals.set(rule, {
    test: compiled!.test,
    testFor: bySyscall,
    output: output!,
    usesRunState: [...report.fields].some((f) => RUN_STATE_FIELDS.has(f)),
  });
  return rule;
}

/**
 * Loads Falco rules files, in order (later files append to or override earlier ones).
 * Throws a SyscanError (`ERR_SYSCAN_CONFIG`, reason `invalid_rule`) for bad YAML, bad
 * syntax, an unknown field or macro; rules that need fields syscan cannot know are left
 * out and reported in `warnings`.
 *
 * @example
 * const { rules, warnings } = loadRules([AGENT_TOOLS_RULES, { name: 'mine.yaml', text }]);
 */
export function loadRules(sources: readonly RuleSource[], options: LoadRulesOptions = {}): LoadedRules {
  const defs = emptyDefinitions();
  const warnings: RuleWarning[] = [];
  for (const source of sources) {
    if (source.text.length > MAX_SOURCE_BYTES)
      throw ruleFileError(source.name, undefined, `larger than ${MAX_SOURCE_BYTES} bytes`);
    const items = sourceItems(source, (line, what) => {
      warnings.push({
        code: 'ignored_key',
        message: `${source.name}:${line}: item '${what}' is not read by syscan`,
        file: source.name,
        line,
      });
    });
    for (const item of items) mergeItem(defs, item);
  }
  const macros = new Map<string, ConditionNode>();
  for (const [name, macro] of defs.macros) {
    try {
      macros.set(name, parseCondition(macro.condition));
    } catch (error) {
      if (!(error instanceof ConditionSyntaxError)) throw error;
      const line = lineAt(macro.item, 'condition', macro.condition, error.offset);
      throw ruleFileError(
        macro.item.file,
        line,
        `macro '${name}': syntax error: ${error.message}${near(macro.condition, error.offset)}`,
      );
    }
  }
  const lists = new Map<string, readonly string[]>([...defs.lists].map(([name, l]) => [name, l.items]));
  const ctx: Ctx = { defs, scope: { macros, lists }, warnings, options };
  for (const d of defs.deprecated)
    warn(ctx, 'deprecated', d.item, d.message, d.item.kind === 'rule' ? d.item.name : undefined);
  const rules: LoadedRule[] = [];
  for (const def of defs.rules.values()) {
    const rule = compileRule(ctx, def);
    if (rule !== undefined) rules.push(rule);
  }
  return { rules, warnings };
}
