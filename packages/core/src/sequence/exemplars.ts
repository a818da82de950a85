/**
 * The distinct-syscall sets and distinct-pair sets of the normal processes a program model
 * learned from, for the nearest-normal-process distances: how much of
 * a process's set even the closest normal one lacks. Identical sets are stored once; the pair
 * sets are indexed by pair so that a process's overlap with every exemplar grows by one
 * index walk per new pair, never by a scan per call.
 */

/**
 * Token sets as 256-bit sets (8 words); pairs as sorted `first·256 + second` ids; how many
 * normal processes had each (absent before version 4 models: 1 each).
 */
export interface ExemplarSets {
  unigrams: Uint32Array[];
  pairs: Uint16Array[];
  weights?: number[] | undefined;
}

/** Set bits in a 32-bit word. */
export function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

export class Exemplars {
  readonly count: number;
  /**
   * Every exemplar's 256-bit call set, 8 words each, in one array; pair lists and holder
   * lists likewise flat with offsets. A loaded model has ~10^4 exemplars and ~3·10^4 distinct
   * pairs: one typed array (and ArrayBuffer) each cost ~250 bytes of bookkeeping apiece, more
   * than their data, in a scorer that must fit 200 MB.
   */
  readonly #words: Uint32Array;
  readonly #pairs: Uint16Array;
  /** Exemplar e's pairs are #pairs[#pairStart[e], #pairStart[e + 1]). */
  readonly #pairStart: Int32Array;
  /** pair id → exemplars holding it (views into one array). */
  readonly #byPair = new Map<number, Int32Array>();
  #sets: ExemplarSets | undefined;
  readonly #weightList: number[] | undefined;
  /** Per exemplar: distinct calls plus distinct pairs (for set differences). */
  readonly #sizes: Int32Array;
  readonly #weights: Float64Array;
  readonly #totalWeight: number;
  /** Scratch for {@link difference}, one per model: a scorer ends thousands of processes. */
  readonly #distances: Float64Array;

  constructor(sets: ExemplarSets) {
    const count = sets.unigrams.length;
    this.count = count;
    this.#weightList = sets.weights;
    this.#words = new Uint32Array(8 * count);
    this.#pairStart = new Int32Array(count + 1);
    this.#sizes = new Int32Array(count);
    this.#distances = new Float64Array(count);
    this.#weights = new Float64Array(count);
    let pairTotal = 0;
    for (let e = 0; e < count; e++) pairTotal += (sets.pairs[e] as Uint16Array).length;
    this.#pairs = new Uint16Array(pairTotal);
    /** Per pair id: how many exemplars hold it. */
    const holderCounts = new Int32Array(65536);
    let total = 0;
    let at = 0;
    for (let e = 0; e < count; e++) {
      const bits = sets.unigrams[e] as Uint32Array;
      let calls = 0;
      for (let w = 0; w < 8; w++) {
        const word = (bits[w] as number) >>> 0;
        this.#words[8 * e + w] = word;
        calls += popcount32(word);
      }
      const pairs = sets.pairs[e] as Uint16Array;
      this.#pairStart[e] = at;
      this.#pairs.set(pairs, at);
      at += pairs.length;
      for (const pair of pairs) holderCounts[pair] = (holderCounts[pair] as number) + 1;
      this.#sizes[e] = calls + pairs.length;
      const w = sets.weights?.[e] ?? 1;
      this.#weights[e] = w;
      total += w;
    }
    this.#pairStart[count] = at;
    this.#totalWeight = total;
    // Holder lists in exemplar order, each a view of one array (counting sort by pair id).
    const holders = new Int32Array(pairTotal);
    const next = new Int32Array(65536);
    let offset = 0;
    for (let pair = 0; pair < 65536; pair++) {
      const n = holderCounts[pair] as number;
      if (n === 0) continue;
      next[pair] = offset;
      this.#byPair.set(pair, holders.subarray(offset, offset + n));
      offset += n;
    }
    for (let e = 0; e < count; e++) {
      for (let i = this.#pairStart[e] as number; i < (this.#pairStart[e + 1] as number); i++) {
        const pair = this.#pairs[i] as number;
        holders[next[pair] as number] = e;
        next[pair] = (next[pair] as number) + 1;
      }
    }
  }

  /**
   * The sets as lists, made on first use (explanations read one exemplar's): views of the
   * flat arrays, so the model holds no per-exemplar array while it only scores.
   */
  get sets(): ExemplarSets {
    if (this.#sets === undefined) {
      const unigrams: Uint32Array[] = [];
      const pairs: Uint16Array[] = [];
      for (let e = 0; e < this.count; e++) {
        unigrams.push(this.#words.subarray(8 * e, 8 * e + 8));
        pairs.push(this.#pairs.subarray(this.#pairStart[e] as number, this.#pairStart[e + 1] as number));
      }
      this.#sets = { unigrams, pairs, weights: this.#weightList };
    }
    return this.#sets;
  }

  /** Exemplars holding `pair` (for a process's running overlaps), in exemplar order. */
  holders(pair: number): Int32Array | undefined {
    return this.#byPair.get(pair);
  }

  /**
   * The least share of the token set `bits` (of `size` members) that some exemplar lacks: 0
   * when one normal process made every call this one made. Containment, not cosine: a
   * prefix of a normal process is at 0, so the value can be read while the process runs.
   */
  unigramDistance(bits: Uint32Array, size: number): number {
    if (size === 0 || this.count === 0) return 1;
    let best = 0;
    const words = this.#words;
    for (let e = 0; e < this.count; e++) {
      let common = 0;
      for (let w = 0; w < 8; w++) common += popcount32((bits[w] as number) & (words[8 * e + w] as number));
      if (common > best) best = common;
    }
    return 1 - best / size;
  }

  /** As {@link unigramDistance} for a pair set of `size` pairs whose overlap with exemplar e is `overlaps[e]`. */
  pairDistance(overlaps: Int32Array, size: number): number {
    if (size === 0 || this.count === 0) return 1;
    let best = 0;
    for (let e = 0; e < this.count; e++) {
      const common = overlaps[e] as number;
      if (common > best) best = common;
    }
    return 1 - best / size;
  }

  /**
   * How far a whole process's distinct calls and pairs are from the normal processes': a
   * kernel density over the exemplars with the set difference (calls and pairs one has and the
   * other lacks) as distance, weighted by how many normal processes had each set, as a
   * distance again: d_min − ln(Σ w·e^−(d − d_min) / Σ w). So it is the difference from the
   * nearest normal process, plus ln of how rare that kind of process was (a set many normal
   * runs share is nearer than one a single run had). Unlike the containment distances it
   * counts what the process lacks too, so it is read at the process's end only. `overlaps[e]`: pairs in
   * common with exemplar e.
   */
  difference(
    callBits: Uint32Array,
    callCount: number,
    overlaps: Int32Array,
    pairCount: number,
  ): { value: number; nearest: number; exemplar: number } {
    const n = this.count;
    if (n === 0) return { value: callCount + pairCount, nearest: callCount + pairCount, exemplar: -1 };
    const distances = this.#distances;
    let nearest = Number.POSITIVE_INFINITY;
    let exemplar = -1;
    const words = this.#words;
    for (let e = 0; e < n; e++) {
      let common = 0;
      for (let w = 0; w < 8; w++)
        common += popcount32((callBits[w] as number) & (words[8 * e + w] as number));
      common += overlaps[e] as number;
      const d = callCount + pairCount + (this.#sizes[e] as number) - 2 * common;
      distances[e] = d;
      if (d < nearest) {
        nearest = d;
        exemplar = e;
      }
    }
    let mass = 0;
    for (let e = 0; e < n; e++)
      mass += (this.#weights[e] as number) * Math.exp(nearest - (distances[e] as number));
    return { value: nearest - Math.log(mass / this.#totalWeight), nearest, exemplar };
  }
}

/** The sets of one process, and a key equal for equal sets. */
export interface ProcessSets {
  unigrams: Uint32Array;
  pairs: Uint16Array;
  key: string;
}

/** The distinct calls and pairs of a process whose tokens are `tokens` (BOS excluded). */
export function setsOf(tokens: Uint8Array): ProcessSets {
  const unigrams = new Uint32Array(8);
  const pairSet = new Set<number>();
  let previous = -1;
  for (const token of tokens) {
    unigrams[token >>> 5] = (unigrams[token >>> 5] as number) | (1 << (token & 31));
    if (previous >= 0) pairSet.add(previous * 256 + token);
    previous = token;
  }
  const pairs = Uint16Array.from(pairSet).sort();
  return { unigrams, pairs, key: setKey(unigrams, pairs) };
}

/** Equal for equal sets. */
const setKey = (unigrams: Uint32Array, pairs: Uint16Array): string =>
  `${unigrams.join(',')}|${pairs.join(',')}`;

/** Collects the distinct sets of learned processes (identical sets once), capped. */
export class ExemplarCollector {
  /** Set key → its index. */
  readonly #seen = new Map<string, number>();
  readonly unigrams: Uint32Array[] = [];
  readonly pairs: Uint16Array[] = [];
  /** Processes per kept set. */
  readonly weights: number[] = [];
  readonly #cap: number;
  /** Distinct sets not kept because the cap was reached. */
  dropped = 0;

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** Adds the sets of a process (see {@link setsOf}). */
  add(sets: ProcessSets): void {
    const index = this.#seen.get(sets.key);
    if (index !== undefined) {
      this.weights[index] = (this.weights[index] as number) + 1;
      return;
    }
    if (this.unigrams.length >= this.#cap) {
      this.dropped++;
      return;
    }
    this.#seen.set(sets.key, this.unigrams.length);
    this.unigrams.push(sets.unigrams);
    this.pairs.push(sets.pairs);
    this.weights.push(1);
  }

  /** A collector of the same cap and drop count holding `sets` (distinct), in their order. */
  withSets(
    sets: ReadonlyArray<{ unigrams: Uint32Array; pairs: Uint16Array; weight: number }>,
  ): ExemplarCollector {
    const out = new ExemplarCollector(this.#cap);
    for (const { unigrams, pairs, weight } of sets) {
      out.#seen.set(setKey(unigrams, pairs), out.unigrams.length);
      out.unigrams.push(unigrams);
      out.pairs.push(pairs);
      out.weights.push(weight);
    }
    out.dropped = this.dropped;
    return out;
  }
}
