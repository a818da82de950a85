/**
 * Calibration of a program model on normal processes it did not learn from: k-fold over the
 * processes the learner kept, each fold scored by a model of the other folds' counts and
 * sets. Each channel's rarity is measured against these out-of-fold values, and the combined scores
 * of the same processes (their peak over checkpoints, as a live scorer sees them) give the
 * thresholds for any false-alarm rate.
 */
import { ExemplarCollector, type ProcessSets } from './exemplars.js';
import { addCounts } from './kneser-ney.js';
import type { ProgramLearning } from './learn.js';
import { type ExemplarCounts, MAX_MIX_EXEMPLARS, MIN_MIX_EXEMPLARS, MixProfiles } from './mix.js';
import { ProcessState } from './process-state.js';
import { type Calibration, CHANNELS, ProgramModel } from './program-model.js';

export interface CalibrateOptions {
  order: number;
  window: number;
  folds: number;
  weights: number[];
  /** The weights for a program of fewer than MIN_MIX_EXEMPLARS processes (default: `weights`). */
  fewWeights?: number[] | undefined;
}

/** Least spread per channel, so a channel that never moved on normal data does not explode on the first change. */
const SPREAD_FLOORS: Record<(typeof CHANNELS)[number], number> = {
  meanCost: 0.05,
  windowCost: 0.1,
  novelty: 0.3,
  callSetDistance: 0.02,
  pairSetDistance: 0.02,
  mismatchRate: 0.01,
  mixDistance: 0.02,
  setDifference: 0.5,
  callSetCosine: 0.02,
};

/** Most calibration scores stored (as evenly spaced quantiles when there are more). */
const MAX_STORED_SCORES = 1000;
/** Most per-channel peaks stored per channel (evenly spaced quantiles when there are more). */
const MAX_STORED_CHANNEL_SCORES = 200;

/**
 * Channels that mean little for a program of few normal processes (under MIN_MIX_EXEMPLARS):
 * the nearest-neighbour ones (mix, set difference: among a handful of runs the nearest is
 * mostly how unlike each other those few were), and the language model's mean cost, whose
 * out-of-fold costs over a dozen short runs are mostly noise. Asked for with
 * `meanCost=1`, it took the everyday-tools bench (bench/sequence-own-traces.mjs, 200 runs of
 * everyday tools, one model per tool) from AUC 0.964 to 0.902; left out below 50 processes,
 * 0.964 again, while ADFA-LD-like sets (one model of hundreds of processes) keep it.
 */
const NEED_MANY_PROCESSES: ReadonlySet<number> = new Set(
  (['meanCost', 'mixDistance', 'setDifference', 'callSetCosine'] as const).map((c) => CHANNELS.indexOf(c)),
);

export function calibrate(p: ProgramLearning, options: CalibrateOptions): Calibration | undefined {
  const n = p.kept.length;
  if (n === 0) return undefined;
  const folds = Math.min(options.folds, n);
  const scored: Array<{ model: ProgramModel; tokens: Uint8Array }> = [];
  if (folds < 2) {
    const model = foldModel(p, options, () => false);
    for (const tokens of p.kept) scored.push({ model, tokens });
  } else {
    const foldOf = shuffledFolds(n, folds);
    for (let f = 0; f < folds; f++) {
      const model = foldModel(p, options, (i) => foldOf[i] === f);
      p.kept.forEach((tokens, i) => {
        if (foldOf[i] === f) scored.push({ model, tokens });
      });
    }
  }
  // One run per process: its final channel values (→ mean and spread) and each channel's peak,
  // whose combination is its score as a live scorer would report it.
  const runs = scored.map(({ model, tokens }) => record(model, tokens));
  const finals = runs.map((r) => r.final);
  const mean = CHANNELS.map((_, c) => finals.reduce((s, v) => s + (v[c] as number), 0) / finals.length);
  const spread = CHANNELS.map((name, c) => {
    const m = mean[c] as number;
    const variance = finals.reduce((s, v) => s + ((v[c] as number) - m) ** 2, 0) / finals.length;
    return Math.max(Math.sqrt(variance), SPREAD_FLOORS[name]);
  });
  // Too few normal processes for the channels that need many to mean anything: left out.
  // (Unless the caller weighted nothing else: then they are all there is.)
  const given = n < MIN_MIX_EXEMPLARS ? (options.fewWeights ?? options.weights) : options.weights;
  const othersWeighted = given.some((w, c) => !NEED_MANY_PROCESSES.has(c) && w > 0);
  const weights = given.map((w, c) =>
    NEED_MANY_PROCESSES.has(c) && n < MIN_MIX_EXEMPLARS && othersWeighted ? 0 : w,
  );
  const calibration: Calibration = {
    mean,
    spread,
    weights,
    scores: [],
    method: folds < 2 ? 'in-sample' : 'out-of-fold',
    combination: 'sum-of-peaks',
  };
  // Each channel's peak over a process's checkpoints: its rarity is measured among these.
  calibration.channelScores = CHANNELS.map((_, c) =>
    sampleQuantiles(
      runs.map((r) => r.peaks[c] as number).sort((a, b) => a - b),
      MAX_STORED_CHANNEL_SCORES,
    ).map((v) => Number(v.toPrecision(6))),
  );
  const combiner = scored[0]?.model as ProgramModel;
  combiner.calibration = calibration;
  const scores = runs.map((r) => combiner.combine(r.peaks));
  scores.sort((a, b) => a - b);
  calibration.scores = sampleQuantiles(scores, MAX_STORED_SCORES).map(roundScore);
  return calibration;
}

/** One process's channel values at its end and each channel's highest value over its checkpoints. */
function record(model: ProgramModel, tokens: Uint8Array): { final: Float64Array; peaks: Float64Array } {
  const state = new ProcessState(model);
  for (const token of tokens) state.observe(token, -1);
  state.finish();
  return { final: state.channels().slice(), peaks: state.peaks.slice() };
}

/**
 * Mix counts of kept processes, made once for every fold and the final model (each profiles
 * the same arrays, which the learner never changes once kept); gone with the arrays.
 */
export const keptMixCounts = new WeakMap<Uint8Array, ExemplarCounts>();

/** A model of the program without the kept processes `held(i)` selects. */
function foldModel(
  p: ProgramLearning,
  options: CalibrateOptions,
  held: (i: number) => boolean,
): ProgramModel {
  const counts = new Map(p.counts);
  const exemplars = new ExemplarCollector(Number.POSITIVE_INFINITY);
  const sets = p.keptSets;
  const calls = new Uint32Array(8);
  const pairs = new Set<number>();
  p.kept.forEach((tokens, i) => {
    if (held(i)) {
      addCounts(counts, tokens, options.order, -1);
      return;
    }
    // The union of the process's distinct calls and pairs, from its sets (a pass over its
    // calls for each fold cost a fifteenth of learning).
    const own = sets[i] as ProcessSets;
    exemplars.add(own);
    for (let w = 0; w < 8; w++) calls[w] = (calls[w] as number) | (own.unigrams[w] as number);
    for (const pair of own.pairs) pairs.add(pair);
  });
  // Processes past the calibration budget were not kept: their calls stay in every fold.
  const partial = p.unkept > 0;
  const mix = MixProfiles.fromProcesses(
    p.kept.filter((_, i) => !held(i)),
    MAX_MIX_EXEMPLARS,
    keptMixCounts,
  );
  return new ProgramModel({
    vocabulary: p.vocabulary,
    counts,
    order: options.order,
    window: options.window,
    exemplars: { unigrams: exemplars.unigrams, pairs: exemplars.pairs, weights: exemplars.weights },
    calls: partial ? p.calls : calls,
    pairs: partial ? p.pairs : pairs,
    processes: p.processes,
    totalCalls: p.totalCalls,
    mix,
  });
}

/** Fold of each of n processes: a fixed shuffle (runs learn the same model), then round robin. */
function shuffledFolds(n: number, folds: number): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 0x2545f491;
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const foldOf = new Int32Array(n);
  order.forEach((process, position) => {
    foldOf[process] = position % folds;
  });
  return foldOf;
}

/** Six decimals (channel peaks: six significant digits, as mixes of near-identical runs differ by 1e-8): the stored model stays small, and rounding keeps lists ascending. */
const roundScore = (s: number): number => Math.round(s * 1e6) / 1e6;

function sampleQuantiles(sorted: number[], max: number): number[] {
  if (sorted.length <= max) return sorted;
  return Array.from(
    { length: max },
    (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (max - 1))] as number,
  );
}
