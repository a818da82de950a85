/**
 * Public types of the rule engine: rule files in, loaded rules and warnings out.
 */
import type { AlertAction } from '../detect/alert.js';
import type { Severity } from '../types.js';
import type { FalcoPriority } from './priority.js';

/** One rule file's text and the name it is reported under (a path, or `syscan:agent-tools`). */
export interface RuleSource {
  name: string;
  text: string;
}

/** Why the loader warned. The rule named, if any, was still loaded unless the code says skipped. */
export type RuleWarningCode =
  /** The rule reads a Falco field (or operator) syscan cannot know: skipped. */
  | 'unsupported_field'
  /** The rule is for another Falco source (`k8s_audit`, a plugin): skipped. */
  | 'other_source'
  /** The condition does not pin `evt.type`: it is evaluated on every event. */
  | 'no_event_type'
  /** The condition names an `evt.type` that is no syscall of any arch (a typo, or a Falco-only event): that part never matches. */
  | 'unknown_event_type'
  /** A key or item syscan does not read (kept for Falco, ignored here). */
  | 'ignored_key'
  /** A Falco form that still works but is deprecated (`append: true`, bare `enabled:`). */
  | 'deprecated';

export interface RuleWarning {
  code: RuleWarningCode;
  /** `file:line: rule 'X': …`, ready to print. */
  message: string;
  file: string;
  line?: number | undefined;
  rule?: string | undefined;
}

/** A rule as loaded: what `syscan rules list` shows and what alerts carry. */
export interface LoadedRule {
  readonly name: string;
  readonly desc: string;
  /** The full condition text (after appends), before exceptions. */
  readonly condition: string;
  readonly output: string;
  /** Falco priority, canonical spelling (`Warning`). */
  readonly priority: FalcoPriority;
  /** syscan severity mapped from the priority (see {@link PRIORITY_SEVERITY}). */
  readonly severity: Severity;
  readonly tags: readonly string[];
  /** `enabled: false` rules are loaded (and validated) but never evaluated. */
  readonly enabled: boolean;
  /** syscan's `action:` key; `alert` when absent. */
  readonly action: AlertAction;
  /** Where the rule was first defined. */
  readonly file: string;
  readonly line: number;
  /** Syscalls the rule can match; undefined when its condition does not pin `evt.type`. */
  readonly syscalls: ReadonlySet<string> | undefined;
  /**
   * When the syscall name alone decides the rule (condition on `evt.type`/`evt.dir` only, no
   * exceptions): the syscalls it fires on, which a runner may refuse at syscall entry.
   */
  readonly decidedBySyscall: readonly string[] | undefined;
}

/** Options of {@link loadRules}. */
export interface LoadRulesOptions {
  /**
   * Treat every unknown field as unsupported (skip the rule with a warning) instead of an error,
   * as Falco's `skip-if-unknown-filter: true` does for one rule. Defaults to `false`.
   */
  skipUnknownFields?: boolean | undefined;
}

export interface LoadedRules {
  /** Every loaded rule (enabled or not), in definition order. */
  rules: LoadedRule[];
  warnings: RuleWarning[];
}
