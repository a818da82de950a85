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
import { MAX_MIX_EXEMPLARS, MIN_MIX_EXEMPLARS, MixProfiles } from './mix.js';
import { ProcessState } from './process-state.js';
import { type Calibration, CHANNELS, ProgramModel } from './program-model.js';

export interface CalibrateOptions {
  order: number;
  window: number;
  folds: number;
  weights: number[];
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
};

/** Most calibration scores stored (as evenly spaced quantiles when there are more). */
const MAX_STORED_SCORES = 1000;
/** Most per-channel peaks stored per channel (evenly spaced quantiles when there are more). */
const MAX_STORED_CHANNEL_SCORES = 200;

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
  // One run per process records the channels at every checkpoint; the last are its final
  // values (→ mean and spread), the peak of their combination its score as a live scorer
  // would report it.
  const runs = scored.map(({ model, tokens }) => record(model, tokens));
  const finals = runs.map((r) => r.final);
  const mean = CHANNELS.map((_, c) => finals.reduce((s, v) => s + (v[c] as number), 0) / finals.length);
  const spread = CHANNELS.map((name, c) => {
    const m = mean[c] as number;
    const variance = finals.reduce((s, v) => s + ((v[c] as number) - m) ** 2, 0) / finals.length;
    return Math.max(Math.sqrt(variance), SPREAD_FLOORS[name]);
  });
  // Too few normal processes for a nearest-neighbour mix to mean anything: left out.
  // (Unless the caller weighted nothing else: then the mix is all there is to score by.)
  const mix = CHANNELS.indexOf('mixDistance');
  const othersWeighted = options.weights.some((w, c) => c !== mix && w > 0);
  const weights = options.weights.map((w, c) =>
    c === mix && n < MIN_MIX_EXEMPLARS && othersWeighted ? 0 : w,
  );
  const calibration: Calibration = {
    mean,
    spread,
    weights,
    scores: [],
    method: folds < 2 ? 'in-sample' : 'out-of-fold',
    combination: 'sum',
  };
  // Each channel's peak over a process's checkpoints: the combined score is the highest
  // channel rarity at any checkpoint, i.e. the highest rarity of any channel's peak.
  calibration.channelScores = CHANNELS.map((_, c) =>
    sampleQuantiles(
      runs.map((r) => peakOf(r.frontier, c)).sort((a, b) => a - b),
      MAX_STORED_CHANNEL_SCORES,
    ).map((v) => Number(v.toPrecision(6))),
  );
  const combiner = scored[0]?.model as ProgramModel;
  combiner.calibration = calibration;
  const scores = runs.map((r) => {
    let peak = Number.NEGATIVE_INFINITY;
    for (const v of r.frontier) peak = Math.max(peak, combiner.combine(v));
    return peak;
  });
  scores.sort((a, b) => a - b);
  calibration.scores = sampleQuantiles(scores, MAX_STORED_SCORES).map(roundScore);
  return calibration;
}

/** Highest value of channel `c` over the checkpoints kept (every channel's peak is on the frontier). */
function peakOf(frontier: Float64Array[], c: number): number {
  let peak = Number.NEGATIVE_INFINITY;
  for (const v of frontier) peak = Math.max(peak, v[c] as number);
  return peak;
}

/** Most checkpoints kept per process: past it the oldest is dropped (the peak may then be missed, rarely). */
const MAX_FRONTIER = 256;

/**
 * One process's channel values at its end, and the checkpoints whose combination can be its
 * peak. The combined score never falls when a channel rises (a max of per-channel rarities;
 * a non-negatively weighted sum in version 1 models), so a checkpoint that another matches
 * or beats in every channel can never be the peak, whatever the weights: only the others (the Pareto frontier, a handful in practice) are kept.
 */
function record(model: ProgramModel, tokens: Uint8Array): { final: Float64Array; frontier: Float64Array[] } {
  const state = new ProcessState(model);
  let frontier: Float64Array[] = [];
  state.onCheckpoint = (values) => {
    if (frontier.some((kept) => dominates(kept, values))) return;
    frontier = frontier.filter((kept) => !dominates(values, kept));
    if (frontier.length >= MAX_FRONTIER) frontier.shift();
    frontier.push(values.slice());
  };
  for (const token of tokens) state.observe(token, -1);
  state.finish();
  return { final: state.channels().slice(), frontier };
}

function dominates(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] as number) < (b[i] as number)) return false;
  return true;
}

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
    exemplars.add(sets[i] as ProcessSets);
    let previous = -1;
    for (const token of tokens) {
      calls[token >>> 5] = (calls[token >>> 5] as number) | (1 << (token & 31));
      if (previous >= 0) pairs.add(previous * 256 + token);
      previous = token;
    }
  });
  // Processes past the calibration budget were not kept: their calls stay in every fold.
  const partial = p.unkept > 0;
  const mix = MixProfiles.fromProcesses(
    p.kept.filter((_, i) => !held(i)),
    MAX_MIX_EXEMPLARS,
  );
  return new ProgramModel({
    vocabulary: p.vocabulary,
    counts,
    order: options.order,
    window: options.window,
    exemplars: { unigrams: exemplars.unigrams, pairs: exemplars.pairs },
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
