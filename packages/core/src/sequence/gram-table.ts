/**
 * An open-addressing hash table from packed n-gram keys (integers below 2^48, see
 * `gram-key.ts`) to one float each. Typed arrays, linear probing, no deletion: built once
 * from a model and read on every call, so a lookup is a hash, a compare or two, no allocation.
 */

const EMPTY = -1;

export class GramTable {
  readonly size: number;
  readonly #keys: Float64Array;
  readonly #values: Float32Array;
  readonly #mask: number;

  /** A table holding `entries` (key, value) pairs. */
  constructor(entries: ReadonlyMap<number, number>) {
    let capacity = 16;
    while (capacity < entries.size * 2) capacity *= 2;
    this.#keys = new Float64Array(capacity).fill(EMPTY);
    this.#values = new Float32Array(capacity);
    this.#mask = capacity - 1;
    this.size = entries.size;
    for (const [key, value] of entries) {
      let slot = this.#slot(key);
      while (this.#keys[slot] !== EMPTY) slot = (slot + 1) & this.#mask;
      this.#keys[slot] = key;
      this.#values[slot] = value;
    }
  }

  /** The value stored for `key`, or NaN when there is none. */
  get(key: number): number {
    let slot = this.#slot(key);
    for (;;) {
      const k = this.#keys[slot] as number;
      if (k === key) return this.#values[slot] as number;
      if (k === EMPTY) return Number.NaN;
      slot = (slot + 1) & this.#mask;
    }
  }

  #slot(key: number): number {
    // ToUint32 of a double is its value mod 2^32, so `>>> 0` is the low word even above 2^32.
    const low = key >>> 0;
    const high = (key / 4294967296) >>> 0;
    return (Math.imul(low ^ Math.imul(high, 0x27d4eb2d), 0x9e3779b1) >>> 0) & this.#mask;
  }
}
