/**
 * Rules as a session check: every syscall event goes through the rule evaluator (Falco's
 * language, with the event's context and the session's process table for ancestors), and
 * rules decided by a syscall's name alone whose action is `deny` or `kill` are refused at
 * syscall entry when enforcing.
 */

import { createRuleEvaluator, loadRules } from '../../rules/index.js';
import { AGENT_TOOLS_RULES } from '../../rules/packs/index.js';
import type { LoadedRule } from '../../rules/types.js';
import type { SessionCheck } from '../session.js';

let shipped: readonly LoadedRule[] | undefined;

/** The shipped agent-tools pack, compiled once per process (compiled rules are immutable). */
export function shippedRules(): readonly LoadedRule[] {
  shipped ??= Object.freeze(loadRules([AGENT_TOOLS_RULES]).rules);
  return shipped;
}

/** A check over `rules`; each session gets its own evaluator (it remembers what the run wrote). */
export function rulesCheck(rules: readonly LoadedRule[]): SessionCheck {
  const evaluator = createRuleEvaluator(rules);
  return {
    record(record, out, processes) {
      if (record.kind === 'syscall') evaluator.evaluate(record, processes, out);
    },
    refusedAtEntry() {
      const names: string[] = [];
      for (const [syscall, list] of evaluator.decidedBySyscall) {
        if (list.some((r) => r.action === 'deny' || r.action === 'kill')) names.push(syscall);
      }
      return names;
    },
  };
}
