/**
 * The distinct-syscall sets and distinct-pair sets of the normal processes a program model
 * learned from, for the nearest-normal-process distances: how much of
 * a process's set even the closest normal one lacks. Identical sets are stored once; the pair
 * sets are indexed by pair so that a process's overlap with every exemplar grows by one
 * index walk per new pair, never by a scan per call.
 */

/** Token sets as 256-bit sets (8 words); pairs as sorted `first·256 + second` ids. */
export interface ExemplarSets {
  unigrams: Uint32Array[];
  pairs: Uint16Array[];
}

/** Set bits in a 32-bit word. */
export function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

export class Exemplars {
  readonly count: number;
  readonly #unigrams: Uint32Array[];
  /** pair id → exemplars holding it. */
  readonly #byPair = new Map<number, Int32Array>();
  readonly sets: ExemplarSets;

  constructor(sets: ExemplarSets) {
    this.sets = sets;
    this.count = sets.unigrams.length;
    this.#unigrams = sets.unigrams;
    const lists = new Map<number, number[]>();
    sets.pairs.forEach((pairs, index) => {
      for (const pair of pairs) {
        const list = lists.get(pair);
        if (list === undefined) lists.set(pair, [index]);
        else list.push(index);
      }
    });
    for (const [pair, list] of lists) this.#byPair.set(pair, Int32Array.from(list));
  }

  /** Exemplars holding `pair` (for a process's running overlaps). */
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
    for (let e = 0; e < this.count; e++) {
      const other = this.#unigrams[e] as Uint32Array;
      let common = 0;
      for (let w = 0; w < 8; w++) common += popcount32((bits[w] as number) & (other[w] as number));
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
  return { unigrams, pairs, key: `${unigrams.join(',')}|${pairs.join(',')}` };
}

/** Collects the distinct sets of learned processes (identical sets once), capped. */
export class ExemplarCollector {
  readonly #seen = new Set<string>();
  readonly unigrams: Uint32Array[] = [];
  readonly pairs: Uint16Array[] = [];
  readonly #cap: number;
  /** Distinct sets not kept because the cap was reached. */
  dropped = 0;

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** Adds the sets of a process (see {@link setsOf}). */
  add(sets: ProcessSets): void {
    if (this.#seen.has(sets.key)) return;
    if (this.unigrams.length >= this.#cap) {
      this.dropped++;
      return;
    }
    this.#seen.add(sets.key);
    this.unigrams.push(sets.unigrams);
    this.pairs.push(sets.pairs);
  }
}
