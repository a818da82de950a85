/**
 * An open-addressing hash table from packed n-gram keys (integers below 2^48, see
 * `gram-key.ts`) to one float each. Typed arrays, linear probing, no deletion: built once
 * from a model and read on every call, so a lookup is a hash, a compare or two, no allocation.
 *
 * Sized for memory as much as for speed, since a loaded model holds about a million grams and
 * the scorer must fit a 200 MB process: a key is stored as its low 32 and high 16 bits (6
 * bytes, not a double's 8), an empty slot is a NaN value (no key sentinel), and the table
 * holds exactly `size / LOAD` slots instead of the next power of two above twice the size
 * (10 bytes per slot at a load of 0.6: ~17 bytes per gram instead of 24–48).
 */

/** Share of slots in use: linear probing stays short (~1.8 probes for a hit, ~3.6 for a miss). */
const LOAD = 0.6;
/** Keys hold six 8-bit tokens at most. */
const KEY_LIMIT = 2 ** 48;
/** Most slots (2^26: far above any model's ~10^6), so that `hash · scale | 0` stays a small integer. */
const MAX_CAPACITY = 2 ** 26;

export class GramTable {
  readonly size: number;
  readonly #low: Uint32Array;
  readonly #high: Uint16Array;
  /** NaN in an empty slot (values are finite or infinite costs, never NaN: see the constructor). */
  readonly #values: Float32Array;
  readonly #capacity: number;
  /** capacity / 2^32: maps a 32-bit hash onto a slot by multiplication (any capacity, no modulo). */
  readonly #scale: number;

  /** A table holding `entries` (key, value) pairs; keys must be integers in [0, 2^48). */
  constructor(entries: ReadonlyMap<number, number>) {
    const capacity = Math.max(16, Math.ceil(entries.size / LOAD));
    if (capacity > MAX_CAPACITY)
      throw new RangeError(`an n-gram table of ${entries.size} entries is too large`);
    this.#capacity = capacity;
    this.#scale = capacity / 4294967296;
    this.#low = new Uint32Array(capacity);
    this.#high = new Uint16Array(capacity);
    this.#values = new Float32Array(capacity).fill(Number.NaN);
    let size = 0;
    for (const [key, value] of entries) {
      if (!(Number.isInteger(key) && key >= 0 && key < KEY_LIMIT))
        throw new RangeError(`n-gram key ${key} is not a packed key`);
      // A NaN value is the same as no entry to `get`, and storing it would mark its slot empty.
      if (Number.isNaN(value)) continue;
      const low = key >>> 0;
      const high = (key / 4294967296) >>> 0;
      let slot = this.#slot(low, high);
      while (!Number.isNaN(this.#values[slot] as number)) slot = slot + 1 === capacity ? 0 : slot + 1;
      this.#low[slot] = low;
      this.#high[slot] = high;
      this.#values[slot] = value;
      size++;
    }
    this.size = size;
  }

  /** The value stored for `key`, or NaN when there is none. */
  get(key: number): number {
    // ToUint32 of a double is its value mod 2^32, so `>>> 0` is the low word even above 2^32.
    const low = key >>> 0;
    const high = (key / 4294967296) >>> 0;
    const values = this.#values;
    let slot = this.#slot(low, high);
    for (;;) {
      const v = values[slot] as number;
      // biome-ignore lint/suspicious/noSelfCompare: v !== v is the cheapest NaN (empty slot) test
      if (v !== v) return Number.NaN;
      if (this.#low[slot] === low && this.#high[slot] === high) return v;
      slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    }
  }

  #slot(low: number, high: number): number {
    const hash = Math.imul(low ^ Math.imul(high, 0x27d4eb2d), 0x9e3779b1) >>> 0;
    // hash < 2^32, so hash · scale < capacity (the product's rounding error, relative 2^-53,
    // is far below the gap capacity / 2^32): the hash's high bits, the best mixed, pick the slot.
    return (hash * this.#scale) | 0;
  }
}
