/**
 * Explanations a person can check against the trace: the costliest window of calls (names,
 * trace lines, the cost of each, and where the model expected something else, what it
 * expected), the calls and pairs no normal process of the program made, and each channel
 * next to its normal level.
 */

import { MIX_FINAL, MIX_FIRST_LEVEL } from './mix.js';
import type { ProcessState } from './process-state.js';
import {
  CHANNELS,
  type ChannelName,
  channelRarity,
  type ProgramModel,
  RATE_NOT_HELD_FACTOR,
} from './program-model.js';
import { UNSEEN } from './vocabulary.js';

/** One call of the explained window. */
export interface ExplainedCall {
  syscall: string;
  /** Line of the call in the trace, when known. */
  line?: number | undefined;
  /** Its cost under the model: −ln P(call | the calls before it), nats. */
  cost: number;
  /**
   * What the model found likeliest there instead, likeliest first (for the window's costliest
   * calls, where the call was not the likeliest, and not right after a call no normal run made).
   */
  expected?: Array<{ syscall: string; probability: number }> | undefined;
  /**
   * The file or peer the call was on (`/etc/shadow`, `10.0.0.5:4444`), when the trace shows it:
   * the scorer takes it from the events' process context (`observe(event)`; the model itself
   * sees only call names).
   */
  target?: string | undefined;
}

export interface SequenceExplanation {
  program: string;
  pid: number;
  calls: number;
  score: number;
  threshold: number;
  /** One line for people. */
  summary: string;
  /**
   * The false-alarm rate the threshold was set for, and the share of the program's normal runs
   * expected over it (see `ProgramModel.expectedFalseAlarmRate`), from `heldOutScores` held-out
   * normal scores. Well above the rate when the program was learned from too few runs to hold
   * it (its threshold is then the highest of their scores): how much an alert of it means.
   * Absent for a program the model never learned (no threshold: every process of it alerts).
   */
  falseAlarms?: { rate: number; expected: number; heldOutScores: number; held: boolean } | undefined;
  /** The most unusual window of consecutive calls (the whole process when it is shorter). */
  window: { meanCost: number; normalMeanCost: number | undefined; calls: ExplainedCall[] };
  /** Calls and consecutive pairs no normal process of the program made (first ones listed, all counted). */
  novel: {
    total: number;
    calls: Array<{ syscall: string; line?: number | undefined }>;
    pairs: Array<{ syscalls: [string, string]; line?: number | undefined }>;
  };
  /** Each channel's value and how many normal spreads it lies above the normal mean. */
  channels: Record<ChannelName, { value: number; z?: number | undefined }>;
  /**
   * The call mix against the nearest normal process at the same point of its run (`at`:
   * calls made, or `end`), at the latest comparison and as the calls were then: the calls
   * whose share differs most, this process's share next to that normal process's. Absent for
   * models without mixes.
   */
  mix?:
    | {
        distance: number;
        at: number | 'end';
        calls: Array<{ syscall: string; share: number; normalShare: number }>;
      }
    | undefined;
  /**
   * The set of distinct calls against the nearest normal process's at the same point of its
   * run (`at`: calls made, or `end`), counts aside, at the latest comparison, everything as it
   * was then: its cosine distance, how many distinct calls each had made, and the first calls
   * that run had made and this one had not (`missing`) and the reverse (`added`). Calls made
   * since are not in it: made later than the normal runs' same first calls, they would read as
   * added whatever they were (the call window and `novelties` show them). Absent for models
   * before version 5 and before a process's first comparison (16 calls, or its end).
   */
  callSet?:
    | {
        distance: number;
        /** How rare that distance is among normal runs, in decades (1 = rarer than 90 % of them, 2 = 99 %); 0 when not scored. */
        rarity: number;
        /**
         * Whether the score weighed this comparison. It does from CALL_SET_FIRST_CALLS calls on
         * and at the end; an alert raised earlier is explained by the latest earlier comparison
         * (from 16 calls on), which the score leaves out.
         */
        scored: boolean;
        at: number | 'end';
        distinct: number;
        normalDistinct: number;
        missing: string[];
        added: string[];
      }
    | undefined;
  /**
   * At the process's end: how many distinct calls and pairs it and the nearest normal run do
   * not share, and the first of them: what that run made and this one did not (`missing`), and
   * what this one made and that run did not (`added`). Absent before the end and for models
   * before version 4.
   */
  sets?:
    | {
        differing: number;
        missing: { calls: string[]; pairs: Array<[string, string]> };
        added: { calls: string[]; pairs: Array<[string, string]> };
      }
    | undefined;
}

/**
 * Said of the threshold only when it does not hold its rate: "a threshold from 20 normal runs,
 * which about 1 in 21 normal runs passes".
 */
function thresholdText(f: NonNullable<SequenceExplanation['falseAlarms']>): string {
  if (f.held || !(f.expected > 0)) return '';
  return `, a threshold from ${f.heldOutScores} normal runs, which about 1 in ${Math.round(1 / f.expected)} normal runs passes`;
}

/** Calls and pairs listed per side of a set explanation. */
const SETS_LISTED = 4;

/** Calls listed in a mix explanation. */
const MIX_LISTED = 4;

/** Calls of the window that get the model's expectations (the costliest ones). */
const EXPECTED_FOR = 4;

const round = (x: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function explainProcess(
  state: ProcessState,
  program: string,
  pid: number,
  score: number,
  threshold: number,
  falseAlarmRate = 0.01,
): SequenceExplanation {
  const model = state.model;
  const full = state.calls >= model.window;
  const window = full
    ? {
        costs: [...state.bestCosts],
        tokens: [...state.bestTokens],
        lines: [...state.bestLines],
        contexts: [...state.bestContexts],
        names: [...state.bestNames],
      }
    : state.currentWindow();
  // What the model expected is worked out for the costliest few calls only: each one asks the
  // model about every token of the vocabulary.
  const costliest = new Set(
    window.costs
      .map((cost, i) => ({ cost, i }))
      .sort((a, b) => b.cost - a.cost)
      .slice(0, EXPECTED_FOR)
      .map((x) => x.i),
  );
  const calls = window.tokens.map((token, i) => {
    const call = explainCall(
      model,
      token,
      window.lines[i] as number,
      window.costs[i] as number,
      costliest.has(i) ? (window.contexts[i] as number) : undefined,
    );
    const name = window.names[i];
    if (name !== undefined) call.syscall = name;
    return call;
  });
  const meanCost = window.costs.reduce((s, c) => s + c, 0) / Math.max(1, window.costs.length);
  const novelCalls: SequenceExplanation['novel']['calls'] = [];
  const novelPairs: SequenceExplanation['novel']['pairs'] = [];
  for (const n of state.novelties) {
    const names = n.tokens.map((t) => model.vocabulary.name(t));
    if (n.tokens.length === 1) novelCalls.push({ syscall: n.name ?? (names[0] as string), line: n.line });
    else novelPairs.push({ syscalls: [names[0] as string, names[1] as string], line: n.line });
  }
  const values = state.channels(true);
  const c = model.calibration;
  const channels = {} as SequenceExplanation['channels'];
  CHANNELS.forEach((name, i) => {
    const value = values[i] as number;
    // Models before version 3 have no mix channel and no calibration for it.
    if (c !== undefined && i >= c.mean.length) return;
    channels[name] = {
      value: round(value),
      z: c === undefined ? undefined : round((value - (c.mean[i] as number)) / (c.spread[i] as number), 2),
    };
  });
  const mix = explainMix(model, state);
  const callSet = explainCallSet(model, state);
  const sets = explainSets(model, state);
  const first = calls.find((x) => x.line !== undefined)?.line;
  const last = [...calls].reverse().find((x) => x.line !== undefined)?.line;
  const where = first === undefined ? '' : ` at lines ${first}–${last}`;
  const novelText =
    state.novelCount === 0
      ? ''
      : `; ${state.novelCount} call(s)/pair(s) no normal process made, first: ${[...novelCalls.map((n) => n.syscall), ...novelPairs.map((p) => p.syscalls.join('→'))].slice(0, 3).join(', ')}`;
  const expected = model.expectedFalseAlarmRate(falseAlarmRate);
  const falseAlarms = {
    rate: falseAlarmRate,
    expected: round(expected, 4),
    heldOutScores: model.calibration?.scores.length ?? 0,
    held: expected < RATE_NOT_HELD_FACTOR * falseAlarmRate,
  };
  return {
    program,
    pid,
    calls: state.calls,
    score: round(score),
    threshold: round(threshold),
    summary: `${program} pid ${pid}: calls unlike normal (score ${round(score, 2)} > ${round(threshold, 2)}${thresholdText(falseAlarms)}); most unusual ${calls.length} calls${where} cost ${round(meanCost, 2)} nats/call${novelText}${callSetText(callSet)}${mixText(mix)}${setsText(sets)}`,
    falseAlarms,
    window: {
      meanCost: round(meanCost),
      normalMeanCost: c === undefined ? undefined : round(c.mean[1] as number),
      calls,
    },
    novel: { total: state.novelCount, calls: novelCalls, pairs: novelPairs },
    channels,
    ...(mix === undefined ? {} : { mix }),
    ...(callSet === undefined ? {} : { callSet }),
    ...(sets === undefined ? {} : { sets }),
  };
}

/** The set difference in the summary line, once the process has ended. */
function setsText(sets: SequenceExplanation['sets']): string {
  if (sets === undefined) return '';
  const missing = [...sets.missing.calls, ...sets.missing.pairs.map((p) => p.join('→'))].slice(0, 2);
  const lacks = missing.length === 0 ? '' : ` (it lacks ${missing.join(', ')})`;
  return `; ${sets.differing} distinct call(s)/pair(s) differ from the nearest normal run's${lacks}`;
}

/** What the process and the normal run nearest to its sets do not share (see {@link SequenceExplanation.sets}). */
function explainSets(model: ProgramModel, state: ProcessState): SequenceExplanation['sets'] {
  const e = state.setExemplar;
  const c = model.calibration;
  if (
    e < 0 ||
    state.setNearest <= 0 ||
    (c !== undefined && c.weights.length <= CHANNELS.indexOf('setDifference'))
  )
    return undefined;
  const name = (token: number) => model.vocabulary.name(token);
  const normalCalls = model.exemplars.sets.unigrams[e] as Uint32Array;
  const normalPairs = model.exemplars.sets.pairs[e] as Uint16Array;
  const hasNormalCall = (t: number) => ((normalCalls[t >>> 5] as number) & (1 << (t & 31))) !== 0;
  const side = () => ({ calls: [] as string[], pairs: [] as Array<[string, string]> });
  const missing = side();
  const added = side();
  for (let t = 0; t < 256; t++) {
    const own = state.madeCall(t);
    if (own === hasNormalCall(t)) continue;
    const list = own ? added.calls : missing.calls;
    if (list.length < SETS_LISTED) list.push(name(t));
  }
  const ownPairs = state.distinctPairs();
  const pairName = (pair: number): [string, string] => [name(pair >>> 8), name(pair & 255)];
  // Both lists ascending: one merge walk finds what either lacks.
  let i = 0;
  let j = 0;
  while (i < ownPairs.length || j < normalPairs.length) {
    const a = ownPairs[i] ?? Number.POSITIVE_INFINITY;
    const b = normalPairs[j] ?? Number.POSITIVE_INFINITY;
    if (a === b) {
      i++;
      j++;
    } else if (a < b) {
      if (added.pairs.length < SETS_LISTED) added.pairs.push(pairName(a));
      i++;
    } else {
      if (missing.pairs.length < SETS_LISTED) missing.pairs.push(pairName(b));
      j++;
    }
  }
  return { differing: state.setNearest, missing, added };
}

/** How rare a channel's value is among the out-of-fold normal processes, in decades (0 without a calibration). */
function channelRarityOf(model: ProgramModel, channel: ChannelName, value: number): number {
  const c = model.calibration;
  const i = CHANNELS.indexOf(channel);
  const peaks = c?.channelScores?.[i];
  if (c === undefined || peaks === undefined) return 0;
  return channelRarity(peaks, value, c.spread[i] as number);
}

/**
 * The call set in the summary line: when it is rarer than 90 % of normal runs', or, compared
 * before the score weighs it, when it makes calls that run did not at the same point.
 */
function callSetText(set: SequenceExplanation['callSet']): string {
  if (set === undefined || (set.scored ? set.rarity < 1 : set.added.length === 0)) return '';
  const at = set.at === 'end' ? 'whole run' : `first ${set.at} calls`;
  const lacks = set.missing.length === 0 ? '' : `, lacking ${set.missing.slice(0, 3).join(', ')}`;
  const adds =
    set.added.length === 0 ? '' : `${lacks === '' ? ',' : ';'} adding ${set.added.slice(0, 3).join(', ')}`;
  return `; ${set.distinct} distinct call(s) against ${set.normalDistinct} of the nearest normal run (${at}, cosine distance ${round(set.distance, 2)})${lacks}${adds}`;
}

/** Calls that end a process: one still running has not made them. */
const ENDING_CALLS = new Set(['exit', 'exit_group']);

/**
 * The process's distinct calls against the nearest normal run's at the latest comparison of its
 * set (`mixAt`), all as they were then; one made before the score weighs the set (an alert
 * raised in its first CALL_SET_FIRST_CALLS calls) is marked unscored.
 */
function explainCallSet(model: ProgramModel, state: ProcessState): SequenceExplanation['callSet'] {
  const index = CHANNELS.indexOf('callSetCosine');
  const c = model.calibration;
  if ((c !== undefined && c.weights.length <= index) || state.callSetExemplar < 0) return undefined;
  const at = state.mixAt;
  const scored = state.callSetScored;
  const normal = model.mix.shares(at, state.callSetExemplar);
  const missing: string[] = [];
  const added: string[] = [];
  const then = state.mixCounts;
  for (const token of normal.keys()) {
    if ((then[token] ?? 0) > 0 || missing.length >= SETS_LISTED) continue;
    const name = model.vocabulary.name(token);
    // Compared while it ran, against a normal run that had ended by then: the process cannot
    // have made the call that ends it yet ("lacks exit_group" at 128 calls).
    if (at !== MIX_FINAL && ENDING_CALLS.has(name)) continue;
    missing.push(name);
  }
  let distinct = 0;
  then.forEach((count, token) => {
    if (count === 0 || token === UNSEEN) return;
    distinct++;
    if (!normal.has(token) && added.length < SETS_LISTED) added.push(model.vocabulary.name(token));
  });
  // Calls the program never made share one token: each counts, and the first are named by their novelties.
  distinct += state.callSetUnseen;
  for (const n of state.novelties.slice(0, state.callSetNovelties))
    if (n.name !== undefined && added.length < SETS_LISTED) added.push(n.name);
  const distance = state.callSetDistance;
  return {
    distance: round(distance),
    // Normal runs were calibrated from CALL_SET_FIRST_CALLS calls on: an earlier distance has no rarity to give.
    rarity: scored ? round(channelRarityOf(model, 'callSetCosine', distance), 2) : 0,
    scored,
    at: at === MIX_FINAL ? 'end' : MIX_FIRST_LEVEL * 2 ** at,
    distinct,
    normalDistinct: normal.size,
    missing,
    added,
  };
}

/** The mix in the summary line, when a call's share differs by a tenth of all calls or more. */
function mixText(mix: SequenceExplanation['mix']): string {
  const top = mix?.calls[0];
  if (mix === undefined || top === undefined || Math.abs(top.share - top.normalShare) < 0.1) return '';
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  return `; call mix unlike the nearest normal run: ${top.syscall} ${pct(top.share)} of calls vs ${pct(top.normalShare)}`;
}

/** The calls whose share of the process differs most from the nearest normal process's. */
function explainMix(model: ProgramModel, state: ProcessState): SequenceExplanation['mix'] {
  if (state.mixExemplar < 0 || state.mixCalls === 0) return undefined;
  const normal = model.mix.shares(state.mixAt, state.mixExemplar);
  const own = new Map<number, number>();
  // As compared at `mixAt`, the latest comparison (the channel's value is of it too).
  state.mixCounts.forEach((count, token) => {
    if (count > 0) own.set(token, count / state.mixCalls);
  });
  const tokens = new Set([...own.keys(), ...normal.keys()]);
  const calls = [...tokens]
    .map((token) => ({ token, share: own.get(token) ?? 0, normalShare: normal.get(token) ?? 0 }))
    .sort((a, b) => Math.abs(b.share - b.normalShare) - Math.abs(a.share - a.normalShare))
    .slice(0, MIX_LISTED)
    .map((x) => ({
      syscall: model.vocabulary.name(x.token),
      share: round(x.share),
      normalShare: round(x.normalShare),
    }));
  return {
    distance: round(state.values[CHANNELS.indexOf('mixDistance')] as number),
    at: state.mixAt === MIX_FINAL ? 'end' : MIX_FIRST_LEVEL * 2 ** state.mixAt,
    calls,
  };
}

function explainCall(
  model: ProgramModel,
  token: number,
  line: number,
  cost: number,
  context: number | undefined,
): ExplainedCall {
  const call: ExplainedCall = { syscall: model.vocabulary.name(token), cost: round(cost, 2) };
  if (line >= 0) call.line = line;
  // Right after a call no normal run made, the model has no expectation of its own: what it
  // would name is only how common each call is overall ("sendto: expected mmap 17 %").
  if (context === undefined || context % 256 === UNSEEN) return call;
  const expected = model.language.expected(context, model.vocabulary.size, 3);
  if (expected[0] !== undefined && expected[0].token !== token) {
    call.expected = expected.map((e) => ({
      syscall: model.vocabulary.name(e.token),
      probability: round(e.probability),
    }));
  }
  return call;
}
