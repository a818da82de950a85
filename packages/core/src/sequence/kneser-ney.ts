/**
 * An interpolated Kneser-Ney n-gram language model over a program's tokens, built from its
 * highest-order n-gram counts and stored in backoff form: every seen k-gram keeps its final
 * (interpolated) negative log-probability, every seen context its backoff cost. Scoring a
 * call is then one table lookup when its n-gram was seen (the common case) and a few more
 * when it was not, instead of an interpolation over every order per call.
 *
 * Lower orders use continuation counts (how many distinct tokens preceded a k-gram), one
 * absolute discount per order D = n1 / (n1 + 2·n2) (Chen & Goodman 1999), and the unigram
 * level interpolates with a uniform distribution over the vocabulary, so a syscall the
 * program never made still gets a finite, large cost.
 */
import { gramSuffix, pushToken } from './gram-key.js';
import { GramTable } from './gram-table.js';
import { BOS, UNSEEN } from './vocabulary.js';

/** Counts of distinct highest-order n-grams (packed keys, BOS-padded at each process start). */
export type GramCounts = Map<number, number>;

/** Adds (sign 1) or removes (sign −1) the BOS-padded order-grams of one process. */
export function addCounts(
  counts: Map<number, number>,
  tokens: Uint8Array,
  order: number,
  sign: 1 | -1,
): void {
  let key = BOS;
  for (const token of tokens) {
    key = pushToken(key, token, order);
    const n = (counts.get(key) ?? 0) + sign;
    if (n === 0) counts.delete(key);
    else counts.set(key, n);
  }
}

export class KneserNeyModel {
  readonly order: number;
  /** grams[k]: NLL (nats) of each seen k-gram's last token given its first k-1; index 0 unused. */
  readonly #grams: GramTable[];
  /** contexts[k]: backoff cost (nats) of each seen context of length k-1 at order k. */
  readonly #contexts: GramTable[];
  /** Cost of a token never seen at all (the uniform share of the unigram level). */
  readonly unseenCost: number;
  /** Distinct n-grams the model was built from. */
  readonly distinctGrams: number;

  /** `vocabularySize`: the bound of token ids (BOS included; it is never predicted). */
  constructor(counts: GramCounts, order: number, vocabularySize: number) {
    this.order = order;
    this.distinctGrams = counts.size;
    const levels = levelCounts(counts, order);
    const grams: GramTable[] = [];
    const contexts: GramTable[] = [];
    let unseenCost = Math.log(Math.max(1, vocabularySize - 1));
    // Lowest order first: each level's probabilities interpolate with the one below.
    let lower: ((key: number) => number) | undefined;
    for (let k = 1; k <= order; k++) {
      const level = levels[k] as Map<number, number>;
      const discount = discountOf(level);
      const totals = new Map<number, number>();
      const types = new Map<number, number>();
      for (const [key, count] of level) {
        const context = Math.floor(key / 256);
        totals.set(context, (totals.get(context) ?? 0) + count);
        types.set(context, (types.get(context) ?? 0) + 1);
      }
      const backoff = new Map<number, number>();
      for (const [context, total] of totals)
        backoff.set(context, -Math.log((discount * (types.get(context) ?? 0)) / total));
      const nll = new Map<number, number>();
      if (k === 1) {
        const total = totals.get(0) ?? 1;
        const uniform = (discount * (types.get(0) ?? 0)) / total / Math.max(1, vocabularySize - 1);
        unseenCost = -Math.log(uniform);
        for (const [key, count] of level)
          nll.set(key, -Math.log(Math.max(count - discount, 0) / total + uniform));
      } else {
        const below = lower as (key: number) => number;
        for (const [key, count] of level) {
          const context = Math.floor(key / 256);
          const total = totals.get(context) as number;
          const gamma = Math.exp(-(backoff.get(context) as number));
          const p = Math.max(count - discount, 0) / total + gamma * Math.exp(-below(gramSuffix(key, k - 1)));
          nll.set(key, -Math.log(p));
        }
      }
      const table = new GramTable(nll);
      grams[k] = table;
      contexts[k] = new GramTable(backoff);
      lower = (key) => table.get(key);
    }
    this.#grams = grams;
    this.#contexts = contexts;
    this.unseenCost = unseenCost;
  }

  /** Whether the full n-gram of the last {@link cost} call was seen while learning (stide's question). */
  lastSeen = false;
  /** The longest suffix of the last {@link cost} call's key that was seen (0: not even its token). */
  lastOrder = 0;

  /**
   * NLL (nats) of the newest token of the order-gram `key` given the tokens before it.
   * `highest`: the longest suffix worth looking up. A k-gram can have been seen only if its
   * first k − 1 tokens were seen as a gram ending at the call before, so a caller that knows
   * that call's {@link lastOrder} m passes m + 1: longer suffixes would miss, and so would
   * their contexts' backoffs (a context is such a gram too), so the cost is the same with a
   * lookup or two instead of up to twelve. Not after a process start, whose context is padding.
   */
  cost(key: number, highest = this.order): number {
    let acc = 0;
    this.lastSeen = false;
    for (let k = Math.min(highest, this.order); k >= 1; k--) {
      const gram = k === this.order ? key : gramSuffix(key, k);
      const nll = (this.#grams[k] as GramTable).get(gram);
      if (!Number.isNaN(nll)) {
        // not NaN: seen at this order
        if (k === this.order) this.lastSeen = true;
        this.lastOrder = k;
        return acc + nll;
      }
      if (k > 1) {
        const backoff = (this.#contexts[k] as GramTable).get(Math.floor(gram / 256));
        if (!Number.isNaN(backoff)) acc += backoff;
      }
    }
    this.lastOrder = 0;
    return acc + this.unseenCost;
  }

  /** True when the full n-gram `key` was seen while learning (stide's question). */
  seen(key: number): boolean {
    const nll = (this.#grams[this.order] as GramTable).get(key);
    return !Number.isNaN(nll);
  }

  /** The `limit` likeliest next tokens after the order-gram window `key` (newest token last), likeliest first. */
  expected(
    key: number,
    vocabularySize: number,
    limit: number,
  ): Array<{ token: number; probability: number }> {
    const context = gramSuffix(key, this.order - 1) * 256;
    // As in a scored process: no gram longer than one past the context's longest seen suffix
    // was learned (see cost), which spares most lookups where the model is surprised, the only
    // calls asked about. Any length after padding (a process's first call).
    let seen = this.order - 1;
    if (gramSuffix(key, 1) !== BOS)
      while (seen > 0 && Number.isNaN((this.#grams[seen] as GramTable).get(gramSuffix(key, seen)))) seen--;
    // The `limit` likeliest kept in order as they come (ties in token order, as a stable sort
    // of all would leave them): an explanation asks for three of a vocabulary of fifty or more.
    const best: Array<{ token: number; probability: number }> = [];
    for (let token = UNSEEN + 1; token < vocabularySize; token++) {
      const probability = Math.exp(-this.cost(context + token, seen + 1));
      if (best.length >= limit && probability <= (best[best.length - 1]?.probability ?? 0)) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1] as { probability: number }).probability < probability) at--;
      best.splice(at, 0, { token, probability });
      if (best.length > limit) best.pop();
    }
    return best;
  }
}

/** levels[k]: counts of k-grams: raw for the highest order, continuation counts below. */
function levelCounts(counts: GramCounts, order: number): Array<Map<number, number>> {
  const levels: Array<Map<number, number>> = [];
  levels[order] = counts;
  for (let k = order - 1; k >= 1; k--) {
    const above = levels[k + 1] as Map<number, number>;
    const level = new Map<number, number>();
    for (const key of above.keys()) {
      const suffix = gramSuffix(key, k);
      level.set(suffix, (level.get(suffix) ?? 0) + 1);
    }
    levels[k] = level;
  }
  return levels;
}

/** D = n1 / (n1 + 2·n2) from the count-of-counts, kept within [0.1, 0.9] for tiny samples. */
function discountOf(level: Map<number, number>): number {
  let n1 = 0;
  let n2 = 0;
  for (const count of level.values()) {
    if (count === 1) n1++;
    else if (count === 2) n2++;
  }
  const d = n1 + 2 * n2 === 0 ? 0.5 : n1 / (n1 + 2 * n2);
  return Math.min(0.9, Math.max(0.1, d));
}
