/**
 * The mix of a process's calls (how often it made each one) against the normal processes of
 * its program at the same point of their runs: the cosine distance of square-root call
 * counts to the nearest normal process. It catches what order and novelty cannot: a process
 * that makes only calls and pairs its program makes, in proportions no normal run had (a
 * login loop of failed attempts, a read-everything-then-send loop).
 *
 * A prefix is compared with normal prefixes of the same length (16, 32, 64, … calls; a normal
 * process that ended sooner as it ended) and the whole process with whole normal processes,
 * so the value can be read while the process runs and still means the same for every length.
 */
import { ByteReader, ByteWriter } from './codec.js';
import { popcount32 } from './exemplars.js';

/** Calls at the first comparison; each next one is at twice as many. */
export const MIX_FIRST_LEVEL = 16;
/** Prefix comparisons (16 … 32 768 calls); past them only the end is compared. */
export const MIX_LEVELS = 12;
/** The level index of the comparison at a process's end. */
export const MIX_FINAL = MIX_LEVELS;
/**
 * Normal processes a program needs before its mix counts in the score: a nearest-neighbour
 * distance among a handful of runs is mostly how unlike each other those few were (on the UNM
 * bench, sets of 9–24 processes lost up to 0.2 AUC with it, sets of 199 and 567 gained).
 */
export const MIN_MIX_EXEMPLARS = 50;
/** Most distinct normal processes whose call mix a program model keeps. */
export const MAX_MIX_EXEMPLARS = 2000;

/**
 * Profiles a level needs before its search uses pivots (below, a plain pass is as quick), and
 * the most pivots it takes (each costs one comparison per search and 8 bytes per profile).
 */
const PIVOTS_FROM = 32;
const MAX_PIVOTS = 6;
/**
 * Radians a bound may be off and a profile still be compared: the weights are float32, so a
 * dot product of unit vectors is off by up to ~1e-7 relative, which near a cosine of 1 is
 * √(2·1e-7) ≈ 5e-4 rad. Twice that keeps the pruned search's answer the full pass's.
 */
const ANGLE_SLACK = 2e-3;

/** One comparison point: exemplar e's profile is tokens/weights[offsets[e] .. offsets[e + 1]]. */
interface Level {
  /** Distinct profiles at this level. */
  profiles: number;
  tokens: Uint8Array;
  /** √count / ‖√counts‖, so that a dot product with a process's √counts is its cosine times ‖process‖. */
  weights: Float32Array;
  offsets: Int32Array;
  /** Per profile, its distinct calls (for the cosine of the sets of calls made, counts aside). */
  setSizes: Int32Array;
  /** Profiles whose angles to every profile are kept (none below PIVOTS_FROM profiles). */
  pivots: Int32Array;
  /** Per pivot, the norm of its float32 weights (1 within ~1e-7), for exact angles to it. */
  pivotNorms: Float64Array;
  /**
   * Angle of each profile's mix (√counts) to each pivot's, at [e · pivots + k]: by the
   * triangle inequality, |angle(process, pivot) − angle(profile, pivot)| is a lower bound of
   * the process's angle to the profile, which skips profiles that cannot be nearer.
   */
  mixAngles: Float32Array;
  /**
   * With pivots, each profile's set of calls as a bitset of `words` words at [e · words]:
   * the set cosine of every profile is then a few AND and bit counts, not a pass over its
   * calls (pivots do not prune the set well: many profiles share one set, and the first wins).
   */
  words: number;
  setBits: Uint32Array;
}

/** How near a process is to the normal processes at one comparison point (see {@link MixProfiles.nearest}). */
export interface MixNearest {
  /** Cosine distance of √counts to the nearest profile (0 = the same mix). */
  distance: number;
  exemplar: number;
  /** Cosine distance of the sets of calls made (each call 1, made or not) to the nearest profile's set. */
  setDistance: number;
  setExemplar: number;
}

/** One normal process's counts at each comparison point it reached, and at its end. */
export interface ExemplarCounts {
  length: number;
  /** Sparse counts per prefix level reached (L < length), then the whole process: [token, count] pairs. */
  prefixes: Array<Array<[number, number]>>;
  final: Array<[number, number]>;
}

const levelLength = (k: number): number => MIX_FIRST_LEVEL * 2 ** k;

export class MixProfiles {
  /** Distinct normal processes compared with. */
  readonly count: number;
  /**
   * The stored form: read models keep the bytes they were read from, learned ones encode their
   * exemplars' counts when asked (a scorer of an audit log's 28 programs kept ~17 MB of these
   * lists for nothing).
   */
  readonly #encoded: Uint8Array | undefined;
  readonly #exemplars: ExemplarCounts[] | undefined;
  /** Prefix levels some exemplar reached, then the final level (whole processes). */
  readonly #levels: Level[];
  readonly #roots = new Float64Array(256);
  readonly #made = new Uint8Array(256);
  readonly #nearest: MixNearest = { distance: 0, exemplar: -1, setDistance: 0, setExemplar: -1 };
  /** The process's mix angle to each pivot of the level being searched. */
  readonly #toPivot = new Float64Array(MAX_PIVOTS);
  readonly #madeBits = new Uint32Array(8);

  private constructor(exemplars: ExemplarCounts[], encoded?: Uint8Array) {
    this.#exemplars = encoded === undefined ? exemplars : undefined;
    this.#encoded = encoded;
    this.count = exemplars.length;
    const longest = exemplars.reduce((m, e) => Math.max(m, e.length), 0);
    let reached = 0;
    while (reached < MIX_LEVELS && levelLength(reached) < longest) reached++;
    this.#levels = [];
    for (let k = 0; k < reached; k++)
      this.#levels.push(buildLevel(exemplars, (e) => e.prefixes[k] ?? e.final));
    this.#levels.push(buildLevel(exemplars, (e) => e.final));
  }

  /**
   * Profiles of the token sequences of normal processes; identical sequences once, at most
   * `cap`. `memo`: counts already made of these very arrays, kept and reused (calibration
   * profiles the same processes once per fold).
   */
  static fromProcesses(
    processes: Iterable<Uint8Array>,
    cap = MAX_MIX_EXEMPLARS,
    memo?: WeakMap<Uint8Array, ExemplarCounts>,
  ): MixProfiles {
    const seen = new Set<string>();
    const exemplars: ExemplarCounts[] = [];
    const counts = new Uint32Array(256);
    for (const tokens of processes) {
      if (exemplars.length >= cap) break;
      if (tokens.length === 0) continue;
      const key = sequenceKey(tokens);
      if (seen.has(key)) continue;
      seen.add(key);
      let exemplar = memo?.get(tokens);
      if (exemplar === undefined) {
        exemplar = exemplarCounts(tokens, counts);
        memo?.set(tokens, exemplar);
      }
      exemplars.push(exemplar);
    }
    return new MixProfiles(exemplars);
  }

  static empty(): MixProfiles {
    return new MixProfiles([]);
  }

  /** Stored form: per exemplar its length, then each prefix level's and the end's sparse counts. */
  encode(): Uint8Array {
    if (this.#encoded !== undefined) return this.#encoded;
    const w = new ByteWriter();
    for (const e of this.#exemplars ?? []) {
      w.varint(e.length);
      for (const list of [...e.prefixes, e.final]) {
        w.varint(list.length);
        let previous = 0;
        for (const [token, count] of list) {
          w.varint(token - previous);
          w.varint(count);
          previous = token;
        }
      }
    }
    return w.bytes();
  }

  /** Reads {@link encode}'s bytes of `count` exemplars; throws RangeError on bytes it did not write. */
  static decode(bytes: Uint8Array, count: number): MixProfiles {
    const r = new ByteReader(bytes);
    const exemplars: ExemplarCounts[] = [];
    for (let e = 0; e < count; e++) {
      const length = r.varint();
      if (length < 1) throw new RangeError('mix exemplar of no calls');
      let levels = 0;
      while (levels < MIX_LEVELS && levelLength(levels) < length) levels++;
      const lists: Array<Array<[number, number]>> = [];
      for (let k = 0; k <= levels; k++) {
        const n = r.varint();
        if (n > 256) throw new RangeError('mix profile of more than 256 calls');
        const list: Array<[number, number]> = [];
        let token = 0;
        for (let i = 0; i < n; i++) {
          token += r.varint();
          if (token > 255) throw new RangeError('mix profile token out of range');
          list.push([token, r.varint()]);
        }
        lists.push(list);
      }
      const final = lists.pop() as Array<[number, number]>;
      exemplars.push({ length, prefixes: lists, final });
    }
    if (!r.done) throw new RangeError('mix profiles have bytes past their last exemplar');
    return new MixProfiles(exemplars, bytes);
  }

  /**
   * The distances (0 = a normal process had exactly this mix, or this set of calls; 1 = no
   * call in common) of the process whose call counts are `counts` (by token, `calls` in all)
   * at comparison `level` (0 … MIX_LEVELS − 1 for the prefix of 16·2^level calls, MIX_FINAL
   * for its end), and the nearest normal profile of that level for each (for {@link shares});
   * distances 0 and exemplars −1 when there is nothing to compare with. Both in one pass: the
   * set's cosine is the mix's with every count made 1. `moreDistinct`: distinct calls the
   * counts do not tell apart (calls the program never made share one token), added to the
   * process's set.
   */
  nearest(level: number, counts: Uint32Array, calls: number, moreDistinct = 0): Readonly<MixNearest> {
    const out = this.#nearest;
    out.distance = 0;
    out.exemplar = -1;
    out.setDistance = 0;
    out.setExemplar = -1;
    if (this.count === 0 || calls === 0) return out;
    const profiles = this.#levels[Math.min(level, this.#levels.length - 1)] as Level;
    const roots = this.#roots;
    const made = this.#made;
    roots.fill(0);
    made.fill(0);
    let distinct = moreDistinct;
    for (let t = 0; t < counts.length; t++) {
      const count = counts[t] as number;
      if (count === 0) continue;
      roots[t] = Math.sqrt(count);
      made[t] = 1;
      distinct++;
    }
    const { tokens, weights, offsets, setSizes, pivots } = profiles;
    let best = -1;
    // The set cosine is common/√(distinct·size): the nearest has the highest common²/size,
    // in integers until the end, so an identical set is at distance 0 exactly.
    let bestSet = -1;
    if (pivots.length === 0) {
      for (let e = 0; e < profiles.profiles; e++) {
        let dot = 0;
        let common = 0;
        const end = offsets[e + 1] as number;
        for (let j = offsets[e] as number; j < end; j++) {
          const t = tokens[j] as number;
          dot += (roots[t] as number) * (weights[j] as number);
          common += made[t] as number;
        }
        if (dot > best) {
          best = dot;
          out.exemplar = e;
        }
        const set = (common * common) / (setSizes[e] as number);
        if (set > bestSet) {
          bestSet = set;
          out.setExemplar = e;
        }
      }
    } else {
      best = this.#nearestMixByPivots(profiles, calls);
      bestSet = this.#nearestSetByBits(profiles);
    }
    // ‖√counts‖² is the number of calls; ‖made‖² the number of distinct calls.
    out.distance = Math.min(1, Math.max(0, 1 - best / Math.sqrt(calls)));
    out.setDistance = Math.min(1, Math.max(0, 1 - Math.sqrt(bestSet / distinct)));
    return out;
  }

  /**
   * The highest dot product of √counts (in `#roots`) with a profile of `level`, its profile in
   * `#nearest.exemplar`: the pivots first, then only profiles their angles cannot rule out.
   * The same profile as one pass in order finds (ties go to the first).
   */
  #nearestMixByPivots(level: Level, calls: number): number {
    const { tokens, weights, offsets, pivots, pivotNorms, mixAngles } = level;
    const roots = this.#roots;
    const out = this.#nearest;
    const norm = Math.sqrt(calls);
    const k = pivots.length;
    const toPivot = this.#toPivot;
    let best = -1;
    let nextPivot = 0;
    for (let round = 0; round < 2; round++) {
      for (let e = 0; e < level.profiles; e++) {
        const isPivot = nextPivot < k && e === pivots[nextPivot];
        if (isPivot) nextPivot++;
        if (round === 0 && !isPivot) continue;
        if (round === 1) {
          if (isPivot) continue;
          // Compared unless its angle to some pivot says it is farther than the nearest so far.
          const limit = angle(best / norm) + ANGLE_SLACK;
          const at = e * k;
          let far = false;
          for (let p = 0; p < k; p++)
            if (Math.abs((toPivot[p] as number) - (mixAngles[at + p] as number)) > limit) {
              far = true;
              break;
            }
          if (far) continue;
        }
        let dot = 0;
        const end = offsets[e + 1] as number;
        for (let j = offsets[e] as number; j < end; j++)
          dot += (roots[tokens[j] as number] as number) * (weights[j] as number);
        if (round === 0) toPivot[nextPivot - 1] = angle(dot / (norm * (pivotNorms[nextPivot - 1] as number)));
        if (dot > best || (dot === best && e < out.exemplar)) {
          best = dot;
          out.exemplar = e;
        }
      }
      nextPivot = 0;
    }
    return best;
  }

  /** The highest common²/size of the calls made (in `#made`) with a profile of `level`, its profile in `#nearest.setExemplar`. */
  #nearestSetByBits(level: Level): number {
    const { words, setBits, setSizes } = level;
    const made = this.#made;
    const bits = this.#madeBits;
    bits.fill(0);
    for (let t = 0; t < 32 * words; t++)
      if (made[t] === 1) bits[t >>> 5] = (bits[t >>> 5] as number) | (1 << (t & 31));
    const out = this.#nearest;
    let bestCommon = -1;
    let bestSize = 1;
    for (let e = 0, at = 0; e < level.profiles; e++, at += words) {
      let common = 0;
      for (let w = 0; w < words; w++) common += popcount32((bits[w] as number) & (setBits[at + w] as number));
      const size = setSizes[e] as number;
      // common²/size > best²/bestSize, in integers (exact, as the plain pass's float division is for these sizes).
      if (common * common * bestSize > bestCommon * bestCommon * size || bestCommon < 0) {
        bestCommon = common;
        bestSize = size;
        out.setExemplar = e;
      }
    }
    return (bestCommon * bestCommon) / bestSize;
  }

  /** Each call's share of the calls of profile `e` of `level` (as {@link nearest} named it; for explanations). */
  shares(level: number, e: number): Map<number, number> {
    const profiles = this.#levels[Math.min(level, this.#levels.length - 1)] as Level;
    const out = new Map<number, number>();
    for (let j = profiles.offsets[e] as number; j < (profiles.offsets[e + 1] as number); j++) {
      const w = profiles.weights[j] as number;
      out.set(profiles.tokens[j] as number, w * w);
    }
    return out;
  }
}

/** A process's counts at each comparison point it reached and at its end (`counts`: scratch, 256 zeroed or not). */
function exemplarCounts(tokens: Uint8Array, counts: Uint32Array): ExemplarCounts {
  counts.fill(0);
  const prefixes: Array<Array<[number, number]>> = [];
  let next = MIX_FIRST_LEVEL;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    counts[t] = (counts[t] as number) + 1;
    // A prefix exactly as long as the process is its end, not a prefix.
    if (i + 1 === next && i + 1 < tokens.length && prefixes.length < MIX_LEVELS) {
      prefixes.push(sparse(counts));
      next *= 2;
    }
  }
  return { length: tokens.length, prefixes, final: sparse(counts) };
}

/** Length and two 32-bit FNV-1a hashes of a token sequence: equal for equal sequences, and practically only for them. */
function sequenceKey(tokens: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    a = Math.imul(a ^ t, 0x01000193);
    b = Math.imul(b ^ (t + i), 0x5bd1e995);
  }
  return `${tokens.length}:${a >>> 0}:${b >>> 0}`;
}

/**
 * Length and two 32-bit hashes of sparse counts, as {@link sequenceKey} of a sequence: joining
 * the pairs into a string was a sixth of learning's time (every level of every exemplar, for
 * each calibration fold).
 */
function countsKey(list: Array<[number, number]>): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (const [token, count] of list) {
    a = Math.imul(a ^ token, 0x01000193);
    a = Math.imul(a ^ count, 0x01000193);
    b = Math.imul(b ^ (token * 65599 + count), 0x5bd1e995);
    b ^= b >>> 15;
  }
  return `${list.length}:${a >>> 0}:${b >>> 0}`;
}

function sparse(counts: Uint32Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = 0; t < counts.length; t++) if ((counts[t] as number) > 0) out.push([t, counts[t] as number]);
  return out;
}

/** One level's profiles, each distinct one once (most normal runs start alike: early levels shrink to a few). */
function buildLevel(
  exemplars: ExemplarCounts[],
  pick: (e: ExemplarCounts) => Array<[number, number]>,
): Level {
  const seen = new Set<string>();
  const lists: Array<Array<[number, number]>> = [];
  for (const e of exemplars) {
    const list = pick(e);
    const key = countsKey(list);
    if (seen.has(key)) continue;
    seen.add(key);
    lists.push(list);
  }
  const size = lists.reduce((n, list) => n + list.length, 0);
  const tokens = new Uint8Array(size);
  const weights = new Float32Array(size);
  const offsets = new Int32Array(lists.length + 1);
  const setSizes = new Int32Array(lists.length);
  let j = 0;
  lists.forEach((list, i) => {
    let calls = 0;
    for (const [, count] of list) calls += count;
    const norm = Math.sqrt(calls);
    setSizes[i] = Math.max(1, list.length);
    for (const [token, count] of list) {
      tokens[j] = token;
      weights[j] = Math.sqrt(count) / norm;
      j++;
    }
    offsets[i + 1] = j;
  });
  return {
    tokens,
    weights,
    offsets,
    setSizes,
    profiles: lists.length,
    ...pivotsOf(tokens, weights, offsets, setSizes),
  };
}

/** The angle (radians) of a cosine, clamped to one: rounding can take a cosine a little past it. */
function angle(cosine: number): number {
  return Math.acos(Math.min(1, Math.max(-1, cosine)));
}

/**
 * Pivots of one level's profiles, spread out (each the profile farthest by mix from the ones
 * before it), every profile's mix angle to each, and every profile's set as bits: see {@link Level}.
 */
function pivotsOf(
  tokens: Uint8Array,
  weights: Float32Array,
  offsets: Int32Array,
  setSizes: Int32Array,
): Pick<Level, 'pivots' | 'pivotNorms' | 'mixAngles' | 'words' | 'setBits'> {
  const n = setSizes.length;
  if (n < PIVOTS_FROM)
    return {
      pivots: new Int32Array(0),
      pivotNorms: new Float64Array(0),
      mixAngles: new Float32Array(0),
      words: 0,
      setBits: new Uint32Array(0),
    };
  const norms = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    let sum = 0;
    for (let j = offsets[e] as number; j < (offsets[e + 1] as number); j++)
      sum += (weights[j] as number) ** 2;
    norms[e] = Math.sqrt(sum);
  }
  const dense = new Float64Array(256);
  /** Mix angles of every profile to profile `p`. */
  const anglesTo = (p: number): Float64Array => {
    dense.fill(0);
    for (let j = offsets[p] as number; j < (offsets[p + 1] as number); j++)
      dense[tokens[j] as number] = weights[j] as number;
    const out = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      let dot = 0;
      for (let j = offsets[e] as number; j < (offsets[e + 1] as number); j++)
        dot += (weights[j] as number) * (dense[tokens[j] as number] as number);
      out[e] = angle(dot / ((norms[e] as number) * (norms[p] as number)));
    }
    return out;
  };
  const chosen: Array<{ pivot: number; angles: Float64Array }> = [];
  const nearestPivot = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  // The first pivot is the profile farthest from profile 0; each next the farthest from all so far.
  let next = argMax(anglesTo(0));
  while (chosen.length < MAX_PIVOTS) {
    const angles = anglesTo(next);
    chosen.push({ pivot: next, angles });
    for (let e = 0; e < n; e++) nearestPivot[e] = Math.min(nearestPivot[e] as number, angles[e] as number);
    next = argMax(nearestPivot);
    // Every profile has a pivot's mix, or the angles are not numbers (a stored profile of no
    // calls): a pivot twice would leave the search a stale angle.
    if (!((nearestPivot[next] as number) >= 1e-6) || chosen.some((c) => c.pivot === next)) break;
  }
  // In profile order, so that a search passes the pivots as it goes.
  chosen.sort((a, b) => a.pivot - b.pivot);
  const k = chosen.length;
  const mixAngles = new Float32Array(n * k);
  chosen.forEach(({ angles }, p) => {
    for (let e = 0; e < n; e++) mixAngles[e * k + p] = angles[e] as number;
  });
  let highest = 0;
  for (const t of tokens) highest = Math.max(highest, t);
  const words = (highest >>> 5) + 1;
  const setBits = new Uint32Array(n * words);
  for (let e = 0; e < n; e++)
    for (let j = offsets[e] as number; j < (offsets[e + 1] as number); j++) {
      const t = tokens[j] as number;
      setBits[e * words + (t >>> 5)] = (setBits[e * words + (t >>> 5)] as number) | (1 << (t & 31));
    }
  return {
    pivots: Int32Array.from(chosen, (c) => c.pivot),
    pivotNorms: Float64Array.from(chosen, (c) => norms[c.pivot] as number),
    mixAngles,
    words,
    setBits,
  };
}

function argMax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
