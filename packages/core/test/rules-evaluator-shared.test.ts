// Evaluators over one rule set share its compiled index, never a run's state: what one run
// wrote must not make another run's exec of the same path a download-and-run.
import { describe, expect, it } from 'vitest';
import { createContextTracker } from '../src/context/tracker.js';
import type { Alert } from '../src/detect/alert.js';
import { createSession, parseRecords, SyscallAnomalyDetector } from '../src/index.js';
import { AGENT_TOOLS_RULES, createRuleEvaluator, type LoadedRule, loadRules } from '../src/rules/index.js';

const RULE = 'Executed a file this run wrote';
const WRITE = '100 openat(AT_FDCWD, "/tmp/dl", O_WRONLY|O_CREAT|O_TRUNC, 0755) = 3\n100 close(3) = 0\n';
const EXEC = '100 execve("/tmp/dl", ["/tmp/dl"], 0x7ffd3c2a1e40 /* 1 var */) = 0\n';
const pack = (): readonly LoadedRule[] => Object.freeze(loadRules([AGENT_TOOLS_RULES]).rules);

function evaluate(evaluator: ReturnType<typeof createRuleEvaluator>, text: string): Alert[] {
  // A fresh tracker each time: only the evaluator could carry anything from one run to the next.
  const tracker = createContextTracker();
  const out: Alert[] = [];
  for (const r of parseRecords(text)) {
    tracker.observe(r);
    if (r.kind === 'syscall') evaluator.evaluate(r, tracker, out);
  }
  return out;
}

describe('rule evaluators over one rule set', () => {
  it('share the compiled index but not what a run wrote, nor the counts', () => {
    const rules = pack();
    const first = createRuleEvaluator(rules);
    const second = createRuleEvaluator(rules);
    expect(second.rules).toBe(first.rules);
    expect(second.decidedBySyscall).toBe(first.decidedBySyscall);

    expect(evaluate(first, WRITE + EXEC).map((a) => a.rule)).toEqual([RULE]);
    expect(evaluate(second, EXEC)).toEqual([]);
    expect(first.stats()).toMatchObject({ events: 3, alerts: 1 });
    expect(second.stats()).toMatchObject({ events: 1, alerts: 0 });
    // And the first keeps its own state after the second ran.
    expect(evaluate(first, EXEC).map((a) => a.rule)).toEqual([RULE]);
  });

  it('index a mutable array again when its rules changed since it was first indexed', () => {
    const rules = [...pack()];
    expect(evaluate(createRuleEvaluator(rules), WRITE + EXEC).map((a) => a.rule)).toEqual([RULE]);
    rules.splice(
      rules.findIndex((r) => r.name === RULE),
      1,
    );
    expect(evaluate(createRuleEvaluator(rules), WRITE + EXEC)).toEqual([]);
  });

  it('give each session over the same rules and detector its own run state', () => {
    const rules = pack();
    const detector = new SyscallAnomalyDetector({ alertOnUnknownSyscall: false, maxAlertsPerMinute: 0 });
    const ruleAlerts = (text: string): (string | undefined)[] => {
      const v = createSession({ detector, rules }).analyze(text);
      return v.kind === 'alert' ? v.alerts.filter((a) => a.type === 'rule').map((a) => a.rule) : [];
    };
    expect(ruleAlerts(WRITE + EXEC)).toEqual([RULE]);
    expect(ruleAlerts(EXEC)).toEqual([]);
  });
});
