/**
 * Runs loaded rules over events. Rules are indexed by the syscalls their conditions pin, so
 * an event costs one map lookup plus the closures of the few rules that can match it.
 */
import { openedElsewhere } from '../context/opened-path.js';
import type { ProcessLookup } from '../context/types.js';
import type { Alert } from '../detect/alert.js';
import { cutSample } from '../detect/verdict.js';
import type { SyscallEvent } from '../types.js';
import { ALWAYS_FALSE } from './compile.js';
import type { Frame } from './fields.js';
import { type RuleInternals, ruleInternals } from './loader.js';
import { RUN_STATE_SYSCALLS, RunState } from './run-state.js';
import type { LoadedRule } from './types.js';

export interface RuleEvaluator {
  /** Appends an alert to `out` for every enabled rule `event` matches; returns how many. */
  evaluate(event: SyscallEvent, lookup: ProcessLookup | undefined, out: Alert[]): number;
  /** The enabled rules, in definition order. */
  readonly rules: readonly LoadedRule[];
  /** Syscall → enabled rules decided by that syscall's name alone (refusable at syscall entry). */
  readonly decidedBySyscall: ReadonlyMap<string, readonly LoadedRule[]>;
  /** Events seen, alerts made, and run-state paths forgotten because the cap was reached. */
  stats(): { events: number; alerts: number; forgottenPaths: number };
  /** Forgets what the run wrote (a new run starts). */
  reset(): void;
}

interface Entry {
  rule: LoadedRule;
  internals: RuleInternals;
  /** `internals.test`, one load closer to the hot loop. */
  test: RuleInternals['test'];
  order: number;
}

function makeAlert(entry: Entry, frame: Frame): Alert {
  const { rule, internals } = entry;
  const e = frame.event;
  const alert: Alert = {
    type: 'rule',
    severity: rule.severity,
    message: internals.output.render(frame),
    syscall: e.syscall,
    count: 1,
    rule: rule.name,
    tags: rule.tags,
    action: rule.action,
    details: { priority: rule.priority, outputFields: internals.output.fields(frame) },
  };
  if (e.raw !== '') alert.sample = cutSample(e.raw);
  if (e.line !== undefined) alert.line = e.line;
  const pid = e.process?.pid ?? e.pid;
  if (pid !== undefined) alert.pid = pid;
  if (e.time !== undefined) alert.time = e.time;
  if (e.errno !== undefined) alert.errno = e.errno;
  if (e.process !== undefined) alert.process = e.process;
  if (e.paths !== undefined) alert.paths = e.paths;
  const opened = openedElsewhere(e);
  if (opened !== undefined) alert.opened = opened;
  if (e.peer !== undefined) alert.peer = e.peer;
  if (e.host !== undefined) alert.host = e.host;
  return alert;
}

/**
 * What an evaluator needs of a rule set that does not depend on the run: the enabled
 * entries indexed by syscall. Immutable, so every evaluator over the same rules shares it.
 */
interface RuleIndex {
  readonly rules: readonly LoadedRule[];
  readonly decided: ReadonlyMap<string, readonly LoadedRule[]>;
  /**
   * Syscall → what its events need (the rules that can match it, those on every type
   * included, in definition order; whether the run state learns from them), for every
   * syscall that needs anything: one look-up per event, and most events (read, mmap,
   * close, …) are not in it.
   */
  readonly plans: ReadonlyMap<string, Plan>;
  /** The plan of a syscall not in `plans`: the rules that do not pin `evt.type`, if there are any. */
  readonly otherPlan: Plan | undefined;
}

interface Plan {
  readonly bucket: readonly Entry[];
  /** The run state learns from these events (RUN_STATE_SYSCALLS, when there are rules). */
  readonly learns: boolean;
}

/**
 * Indexes per rule set. A frozen array (the shipped pack, the guard's copy) is looked up in
 * O(1); another array is checked member by member (pointer compares), so one changed after
 * it was first indexed is indexed again rather than judged by a stale index.
 */
const indexes = new WeakMap<
  readonly LoadedRule[],
  { index: RuleIndex; members: readonly LoadedRule[] | undefined }
>();

function indexFor(rules: readonly LoadedRule[]): RuleIndex {
  const hit = indexes.get(rules);
  if (hit !== undefined && (hit.members === undefined || sameMembers(hit.members, rules))) return hit.index;
  const index = buildIndex(rules);
  indexes.set(rules, { index, members: Object.isFrozen(rules) ? undefined : [...rules] });
  return index;
}

function sameMembers(a: readonly LoadedRule[], b: readonly LoadedRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function buildIndex(rules: readonly LoadedRule[]): RuleIndex {
  const entries: Entry[] = [];
  for (const rule of rules) {
    const internals = typeof rule === 'object' && rule !== null ? ruleInternals(rule) : undefined;
    if (internals === undefined)
      throw new TypeError(
        `rule '${String((rule as { name?: unknown } | null)?.name)}' was not made by loadRules`,
      );
    if (rule.enabled) entries.push({ rule, internals, test: internals.test, order: entries.length });
  }
  const anyType = entries.filter((e) => e.rule.syscalls === undefined);
  const buckets = new Map<string, Entry[]>();
  for (const entry of entries) {
    for (const syscall of entry.rule.syscalls ?? []) {
      // The rule's test with this syscall's evt.type checks folded away; none left: not indexed.
      const test = entry.internals.testFor.get(syscall) ?? entry.test;
      if (test === ALWAYS_FALSE) continue;
      let bucket = buckets.get(syscall);
      if (bucket === undefined) {
        bucket = [...anyType];
        buckets.set(syscall, bucket);
      }
      bucket.push({ ...entry, test });
    }
  }
  for (const bucket of buckets.values()) bucket.sort((a, b) => a.order - b.order);
  const decided = new Map<string, LoadedRule[]>();
  for (const { rule } of entries) {
    for (const syscall of rule.decidedBySyscall ?? []) {
      const list = decided.get(syscall) ?? [];
      list.push(rule);
      decided.set(syscall, list);
    }
  }
  // Every rule on paths may meet a symlink the run made: keep the run's state whenever there are rules.
  const tracksRun = entries.length > 0;
  const plans = new Map<string, Plan>();
  for (const [syscall, bucket] of buckets)
    plans.set(syscall, { bucket, learns: tracksRun && RUN_STATE_SYSCALLS.has(syscall) });
  if (tracksRun)
    for (const syscall of RUN_STATE_SYSCALLS)
      if (!plans.has(syscall)) plans.set(syscall, { bucket: anyType, learns: true });
  return {
    rules: Object.freeze(entries.map((e) => e.rule)),
    decided,
    plans,
    otherPlan: anyType.length > 0 ? { bucket: anyType, learns: false } : undefined,
  };
}

/**
 * An evaluator over `rules` (from {@link loadRules}); disabled rules are left out. The index
 * of the rules is built once per rule set and shared; each evaluator has only its own run
 * state (what the run wrote) and counts, so making one per run costs O(1) in the pack's size.
 *
 * @example
 * const evaluator = createRuleEvaluator(loadRules([AGENT_TOOLS_RULES]).rules);
 * const alerts: Alert[] = [];
 * for (const event of events) evaluator.evaluate(event, tracker, alerts);
 */
export function createRuleEvaluator(rules: readonly LoadedRule[]): RuleEvaluator {
  const index = indexFor(rules);
  const { plans, otherPlan } = index;
  const run = new RunState();
  const frame: Frame = {
    event: undefined as unknown as SyscallEvent,
    lookup: undefined,
    run,
    args: undefined,
    open: undefined,
    path: undefined,
    dir: undefined,
    base: undefined,
  };
  let events = 0;
  let alerts = 0;

  return {
    rules: index.rules,
    decidedBySyscall: index.decided,
    evaluate(event, lookup, out) {
      events++;
      const plan = plans.get(event.syscall) ?? otherPlan;
      // Most events (read, mmap, close, …) no rule can match: nothing else to do.
      if (plan === undefined) return 0;
      const bucket = plan.bucket;
      frame.event = event;
      frame.lookup = lookup;
      frame.args = undefined;
      frame.open = undefined;
      frame.path = undefined;
      frame.dir = undefined;
      frame.base = undefined;
      let made = 0;
      for (let i = 0; i < bucket.length; i++) {
        const entry = bucket[i]!;
        if (entry.test(frame)) {
          out.push(makeAlert(entry, frame));
          made++;
        }
      }
      // After the rules: an exec of a file is judged on what happened before it.
      if (plan.learns) run.observe(event, frame.open, frame.path);
      alerts += made;
      return made;
    },
    stats: () => ({ events, alerts, forgottenPaths: run.forgotten }),
    reset() {
      run.reset();
    },
  };
}
