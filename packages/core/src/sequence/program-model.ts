/**
 * What a sequence model knows of one program, ready to score: its vocabulary, its n-gram
 * language model, the calls and pairs any normal process made, the normal processes' sets,
 * and how its channels are combined into one calibrated score.
 */
import { type ExemplarSets, Exemplars } from './exemplars.js';
import { type GramCounts, KneserNeyModel } from './kneser-ney.js';
import { MixProfiles } from './mix.js';
import type { Vocabulary } from './vocabulary.js';

/** The per-process measurements a score combines (see `process-state.ts`), in this order. */
export const CHANNELS = [
  /** Mean cost (NLL, nats) per call. */
  'meanCost',
  /** Highest mean cost over any window of `window` consecutive calls (the whole process when shorter). */
  'windowCost',
  /** log(1 + distinct calls and pairs that no normal process of the program made). */
  'novelty',
  /** Share of the distinct calls that even the closest normal process did not make (0 = all made by one). */
  'callSetDistance',
  /** The same over distinct consecutive pairs. */
  'pairSetDistance',
  /** Share of calls whose n-gram no normal process made (stide's mismatch rate). */
  'mismatchRate',
  /** Cosine distance of the call mix (√counts) to the nearest normal process at the same length (see `mix.ts`). */
  'mixDistance',
  /**
   * Distinct calls and pairs the process and the normal processes do not share, nearest
   * first, weighted by how many normal processes had each set, at the process's end (see
   * `Exemplars.difference`).
   */
  'setDifference',
  /**
   * Cosine distance of the set of distinct calls to the nearest normal process's at the same
   * point of their runs (16, 32, … calls and the end, as the mix): 1 − |A∩B| / √(|A|·|B|). It
   * counts what the process lacks as much as what it adds, relative to the sizes of both, so a
   * process that makes only a few of its program's calls is far from runs that make many.
   */
  'callSetCosine',
] as const;
export type ChannelName = (typeof CHANNELS)[number];

const CALL_SET_DISTANCE = CHANNELS.indexOf('callSetDistance');
const PAIR_SET_DISTANCE = CHANNELS.indexOf('pairSetDistance');

/** Channels of version 1 and 2 models (before the mix), whose calibrations have one entry per each. */
export const CHANNELS_BEFORE_MIX = CHANNELS.slice(0, 6) as readonly ChannelName[];
/** Channels of version 3 models (before the set difference). */
export const CHANNELS_BEFORE_SET_DIFFERENCE = CHANNELS.slice(0, 7) as readonly ChannelName[];
/** Channels of version 4 models (before the call-set cosine). */
export const CHANNELS_BEFORE_SET_COSINE = CHANNELS.slice(0, 8) as readonly ChannelName[];

/**
 * How channels become one score. Version 4 models (`combination: 'sum-of-peaks'`): as in
 * version 3, of each channel's highest value so far, so a process odd early in one way and at
 * its end in another scores both. Version 3 models (`combination: 'sum'`): the sum of each
 * channel's weighted rarity among normal processes (see {@link channelRarity}), in decades, so
 * a process rare in several ways at once scores above one rare in a single way, and one very
 * rare channel still dominates. Version 2 models: the highest weighted rarity of any one
 * channel. Version 1 models (no `channelScores`): Σ weight·(value − mean)/spread over Σ weight.
 * Arrays have one entry per channel of the model's version (6 before version 3, 7 in version 3).
 */
export interface Calibration {
  /** Per channel (CHANNELS order): mean and spread of out-of-fold scores of normal processes. */
  mean: number[];
  spread: number[];
  weights: number[];
  /** Out-of-fold scores of normal processes, ascending (capped sample): thresholds come from here. */
  scores: number[];
  /** How the scores were obtained: `out-of-fold` (k-fold over processes) or `in-sample` (too few processes). */
  method: 'out-of-fold' | 'in-sample';
  /**
   * Per channel (CHANNELS order): each normal process's highest value of that channel over its
   * checkpoints, out-of-fold, ascending (capped sample). Absent in version 1 models.
   */
  channelScores?: number[][] | undefined;
  /**
   * `sum-of-peaks` (version 4): rarities of each channel's peak add up; `sum` (version 3):
   * rarities at one checkpoint add up; absent: the highest counts (version 2).
   */
  combination?: 'sum' | 'sum-of-peaks' | undefined;
}

export interface ProgramModelParts {
  vocabulary: Vocabulary;
  counts: GramCounts;
  order: number;
  window: number;
  exemplars: ExemplarSets;
  /** Bitset (256 bits) of calls any normal process made. */
  calls: Uint32Array;
  /** Pairs (`first·256 + second`) any normal process made. */
  pairs: Set<number>;
  processes: number;
  totalCalls: number;
  /** Call-mix profiles of normal processes (empty for models before version 3). */
  mix?: MixProfiles | undefined;
  calibration?: Calibration | undefined;
}

/**
 * A program's expected false-alarm rate is "not held" from this multiple of the rate asked. With
 * n held-out scores the threshold passes (⌊rate·n⌋ + 1)/(n + 1) of new normal runs: up to twice
 * the rate from 1/rate − 1 runs on (2/101 for 1 % of 100, where the threshold is the second
 * highest), and 1/(n + 1) below. So twice is what fewer runs than 1/(2·rate) give (49 for 1 %).
 */
export const RATE_NOT_HELD_FACTOR = 2;

/** Normal processes a program needs before its threshold means anything (out-of-fold, k ≥ 2). */
export const MIN_CALIBRATION_PROCESSES = 3;

export class ProgramModel {
  readonly vocabulary: Vocabulary;
  readonly order: number;
  readonly window: number;
  readonly language: KneserNeyModel;
  readonly exemplars: Exemplars;
  readonly calls: Uint32Array;
  /** 65 536-entry membership map of learned pairs (one byte each: fast and 64 KiB). */
  readonly pairMap: Uint8Array;
  readonly mix: MixProfiles;
  calibration: Calibration | undefined;

  constructor(parts: ProgramModelParts) {
    this.vocabulary = parts.vocabulary;
    this.order = parts.order;
    this.window = parts.window;
    this.language = new KneserNeyModel(parts.counts, parts.order, parts.vocabulary.size);
    this.exemplars = new Exemplars(parts.exemplars);
    this.calls = parts.calls;
    this.pairMap = new Uint8Array(65536);
    for (const pair of parts.pairs) this.pairMap[pair] = 1;
    this.mix = parts.mix ?? MixProfiles.empty();
    this.calibration = parts.calibration;
  }

  /**
   * Whether the score counts a containment distance (call-set or pair-set distance). An
   * uncalibrated model (one being calibrated records every channel) always does.
   */
  get weighsContainment(): boolean {
    const w = this.calibration?.weights;
    return w === undefined || (w[CALL_SET_DISTANCE] ?? 0) > 0 || (w[PAIR_SET_DISTANCE] ?? 0) > 0;
  }

  /** The combined score of channel values (CHANNELS order); the raw window cost when uncalibrated. */
  combine(values: ArrayLike<number>): number {
    const c = this.calibration;
    if (c === undefined) return values[1] as number;
    const perChannel = c.channelScores;
    const channels = c.weights.length;
    if (perChannel !== undefined) {
      const sum = c.combination !== undefined;
      let total = 0;
      let best = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < channels; i++) {
        const w = c.weights[i] as number;
        if (w === 0) continue;
        const r = w * channelRarity(perChannel[i] as number[], values[i] as number, c.spread[i] as number);
        total += r;
        if (r > best) best = r;
      }
      return sum ? total : best;
    }
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < channels; i++) {
      const w = c.weights[i] as number;
      if (w === 0) continue;
      sum += (w * ((values[i] as number) - (c.mean[i] as number))) / (c.spread[i] as number);
      weight += w;
    }
    return sum / weight;
  }

  /**
   * A combined score in decades of rarity among the out-of-fold normal processes: 2 means
   * rarer than 99 % of them (−log10 of the share at least as high, interpolated between
   * them), extended linearly past the highest with the (bounded) slope of the top tenth, so that
   * scores of different programs compare and stay strictly ordered within one.
   */
  rarity(raw: number): number {
    const scores = this.calibration?.scores ?? [];
    const n = scores.length;
    if (n === 0 || !Number.isFinite(raw)) return raw;
    const top = Math.log10(n + 1);
    const first = scores[0] as number;
    const last = scores[n - 1] as number;
    const high = scores[Math.floor(0.9 * (n - 1))] as number;
    // Decades per unit of raw score past the top, from the top tenth, at most 2 (a Gaussian
    // tail gains about 1.25 decades per standard deviation there): a few near-identical
    // normal processes would otherwise make it explode. (A floor of 0.5 as well cost 0.02
    // of mean AUC on the UNM bench: flat tops are real.)
    const fitted =
      last > high ? (top - Math.log10((n + 1) / (n - Math.floor(0.9 * (n - 1))))) / (last - high) : 1;
    const slope = Math.min(2, Math.max(0.001, fitted));
    if (raw >= last) return top + (raw - last) * slope;
    if (raw < first) return -Math.log10(n / (n + 1)) - (first - raw) * slope;
    // Last index i with scores[i] <= raw (binary search), then interpolate the tail share.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((scores[mid] as number) <= raw) lo = mid;
      else hi = mid - 1;
    }
    const x0 = scores[lo] as number;
    const x1 = scores[lo + 1] as number;
    const t = x1 > x0 ? (raw - x0) / (x1 - x0) : 0;
    const tail = (n - lo - t) / (n + 1);
    return -Math.log10(tail);
  }

  /**
   * The score that `falseAlarmRate` of normal processes exceed (out-of-fold), +∞ when
   * uncalibrated. Fewer than {@link MIN_CALIBRATION_PROCESSES} normal processes cannot say
   * what 1 % of normal runs do: a threshold from one run's own score would make every re-run
   * that differs at all an alert, so such a program is not scored until more runs are learned.
   */
  threshold(falseAlarmRate: number): number {
    const rank = this.#thresholdRank(falseAlarmRate);
    return rank < 0 ? Number.POSITIVE_INFINITY : (this.calibration?.scores[rank] as number);
  }

  /**
   * The share of new normal processes to expect over {@link threshold}: a new normal process is
   * one more like the n held out, so it scores above the threshold's rank among them with
   * chance (n − rank)/(n + 1), which is at least 1/(n + 1). So a program learned from fewer than
   * 1/rate − 1 normal processes cannot hold `falseAlarmRate` (its threshold is the highest of
   * their scores): 20 runs hold about 4.8 %, whatever was asked. NaN when it is not scored.
   */
  expectedFalseAlarmRate(falseAlarmRate: number): number {
    const rank = this.#thresholdRank(falseAlarmRate);
    if (rank < 0) return Number.NaN;
    const n = this.calibration?.scores.length as number;
    return (n - rank) / (n + 1);
  }

  /**
   * Index of the threshold among the n calibration scores (ascending), −1 when the program is
   * not scored: the ⌈(1 − rate)·n⌉-th. (The split-conformal ⌈(1 − rate)(n + 1)⌉-th, one rank
   * higher at most, halved detection at the own threshold on the UNM bench, 49 % → 30 %, for
   * the same 1.6 % of held-out false alarms: the top of a program's normal scores is sparse.)
   */
  #thresholdRank(falseAlarmRate: number): number {
    const n = this.calibration?.scores.length ?? 0;
    if (n < MIN_CALIBRATION_PROCESSES || this.calibration?.method === 'in-sample') return -1;
    return Math.min(n - 1, Math.max(0, Math.ceil((1 - falseAlarmRate) * n) - 1));
  }
}

/**
 * How rare one channel value is among normal processes, in decades: −log10 of the share of
 * the `sorted` normal values (ascending) at least as high, counted conformally
 * ((k + 1)/(n + 1), so a value every normal process reaches is 0 and one above them all is
 * log10(n + 1)), interpolated between neighbouring values so that scores stay ordered; past
 * the highest it grows by one decade per `spread` (the channel's normal spread). Counting
 * ties as reached matters: most normal processes make no call sequence the model lacks, and
 * that shared 0 must not look rare.
 */
export function channelRarity(sorted: number[], value: number, spread: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const last = sorted[n - 1] as number;
  if (value > last) return Math.log10(n + 1) + (value - last) / spread;
  // First index whose value is at least `value` (binary search): n − lo normal values reach it.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  let reached = n - lo;
  if (lo > 0) {
    const below = sorted[lo - 1] as number;
    const at = sorted[lo] as number;
    if (at > below) reached += (at - value) / (at - below);
  }
  return -Math.log10((reached + 1) / (n + 1));
}
