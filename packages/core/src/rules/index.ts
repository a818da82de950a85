/**
 * The rule engine: Falco's rule language over syscall telemetry. Load rule files once
 * ({@link loadRules}), evaluate events with {@link createRuleEvaluator}, print alerts as
 * Falco's JSON with {@link toFalcoJson}. Pure: no I/O.
 */

export type { RuleEvaluator } from './evaluator.js';
export { createRuleEvaluator } from './evaluator.js';
export type { FalcoAlert, FalcoFormatOptions } from './falco-json.js';
export { rfc3339Nanos, toFalcoJson } from './falco-json.js';
export type { FieldDef as RuleFieldDef, FieldType as RuleFieldType } from './fields.js';
export { FIELDS as RULE_FIELDS } from './fields.js';
export { loadRules } from './loader.js';
// The shipped rule pack and the overlay its egress allow-list option becomes.
export { AGENT_TOOLS_RULES, EGRESS_RULE, egressAllowListRules } from './packs/index.js';
export type { FalcoPriority } from './priority.js';
export { FALCO_PRIORITIES, PRIORITY_SEVERITY, parsePriority } from './priority.js';
export { MAX_TRACKED_PATHS } from './run-state.js';
export type {
  LoadedRule,
  LoadedRules,
  LoadRulesOptions,
  RuleSource,
  RuleWarning,
  RuleWarningCode,
} from './types.js';
