/**
 * The events being assembled, by key and in arrival order: a fixed open-addressing table
 * (linear probing, backward-shift deletion) over the events themselves, and a list through
 * them. It replaces a Map whose every insert and delete, one each per event, left a deleted
 * entry behind: every few dozen events the Map rebuilt its table, and those tables, old
 * enough to be promoted, were a steady stream of garbage only a full GC frees (~1 MB/s of a
 * 1 GB audit log's peak memory). Nothing here allocates after construction.
 */
import type { PendingEvent } from './event.js';

export class PendingIndex {
  readonly #slots: Array<PendingEvent | undefined>;
  readonly #mask: number;
  #size = 0;
  /** Oldest and newest event. */
  #first: PendingEvent | undefined;
  #last: PendingEvent | undefined;

  /** Room for `max` events at a load of at most 1/4 (probes stay ~1). */
  constructor(max: number) {
    let capacity = 16;
    while (capacity < max * 4) capacity *= 2;
    this.#slots = new Array<PendingEvent | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** The oldest event, undefined when there is none. */
  get first(): PendingEvent | undefined {
    return this.#first;
  }

  /** The event of `key` (whose serial is `serial`), or undefined. */
  get(key: number | string, serial: number): PendingEvent | undefined {
    const slots = this.#slots;
    for (let i = this.#home(serial); ; i = (i + 1) & this.#mask) {
      const p = slots[i];
      if (p === undefined || p.key === key) return p;
    }
  }

  /** Adds `p` (its key not present, its serial set) as the newest event. */
  add(p: PendingEvent): void {
    const slots = this.#slots;
    let i = this.#home(p.serial as number);
    while (slots[i] !== undefined) i = (i + 1) & this.#mask;
    slots[i] = p;
    this.#size++;
    p.olderPending = this.#last;
    p.newerPending = undefined;
    if (this.#last !== undefined) this.#last.newerPending = p;
    else this.#first = p;
    this.#last = p;
  }

  /** Removes `p` (present). */
  delete(p: PendingEvent): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = this.#home(p.serial as number);
    while (slots[i] !== p) i = (i + 1) & mask;
    // Backward shift: pull later entries of the probe run into the hole, so that look-ups
    // can stop at the first empty slot (no tombstones to pile up).
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const q = slots[j];
      if (q === undefined) break;
      const home = this.#home(q.serial as number);
      // q may move to the hole i only when its home is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots[i] = q;
      i = j;
    }
    slots[i] = undefined;
    this.#size--;
    const older = p.olderPending;
    const newer = p.newerPending;
    if (older !== undefined) older.newerPending = newer;
    else this.#first = newer;
    if (newer !== undefined) newer.olderPending = older;
    else this.#last = older;
    p.olderPending = undefined;
    p.newerPending = undefined;
  }

  /** Removes every event. */
  clear(): void {
    this.#slots.fill(undefined);
    this.#size = 0;
    for (let p = this.#first; p !== undefined; ) {
      const next = p.newerPending;
      p.olderPending = undefined;
      p.newerPending = undefined;
      p = next;
    }
    this.#first = undefined;
    this.#last = undefined;
  }

  #home(serial: number): number {
    // Serials are consecutive: spread them, and the low bits of a product are weak.
    return (Math.imul(serial | 0, 0x9e3779b1) >>> 16) & this.#mask;
  }
}
