/**
 * Time for the detector and the baseline learner: a monotonic timeline fed by event
 * timestamps or a clock, and rolling counters over it.
 *
 * The seed reset its counters every 60 s from its first call, so a burst straddling that
 * boundary was split in two and never seen. A rolling window sums the last `windowMs`
 * instead. It is kept as a ring of {@link BUCKETS} buckets, not a timestamp per event:
 * O(1) amortised per event, fixed memory, and a resolution of windowMs/60 (1 s by default).
 */
import type { TimeSource } from './config.js';

/** Buckets per window. */
export const BUCKETS = 60;

/**
 * Rolling counters over one window, moved together as time advances: the detector's
 * totals, denials and alert budget, the learner's totals and denials.
 */
export class RollingWindow {
  readonly #bucketMs: number;
  readonly #counters: readonly RollingCounter[];
  /** Absolute index of the bucket the counters were last advanced to. */
  #bucket = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, counters: readonly RollingCounter[]) {
    this.#bucketMs = windowMs / BUCKETS;
    this.#counters = counters;
  }

  /** Moves every counter's window to end at time `now` (ms, never decreasing). */
  advance(now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    if (bucket === this.#bucket) return;
    this.#bucket = bucket;
    for (const c of this.#counters) c.advance(bucket);
  }

  clear(): void {
    this.#bucket = Number.NEGATIVE_INFINITY;
    for (const c of this.#counters) c.clear();
  }
}

/**
 * A count over the last window. Buckets are addressed by absolute index
 * (`floor(time / bucketMs)`), which must never decrease: the {@link Timeline} guarantees it.
 */
export class RollingCounter {
  readonly #buckets = new Float64Array(BUCKETS);
  /** Ring position of the newest bucket. */
  #head = 0;
  /** Absolute index of the newest bucket (-Infinity before the first event). */
  #headIndex = Number.NEGATIVE_INFINITY;
  #sum = 0;

  /** Sum of the buckets inside the window that ends at the last {@link advance}. */
  get sum(): number {
    return this.#sum;
  }

  /** Moves the window's end to bucket `index`, dropping the buckets that fall out of it. */
  advance(index: number): void {
    const steps = index - this.#headIndex;
    if (steps <= 0) return;
    if (steps >= BUCKETS) {
      this.#buckets.fill(0);
      this.#sum = 0;
      this.#head = 0;
    } else {
      const b = this.#buckets;
      let head = this.#head;
      for (let i = 0; i < steps; i++) {
        head = head + 1 === BUCKETS ? 0 : head + 1;
        this.#sum -= b[head]!;
        b[head] = 0;
      }
      this.#head = head;
    }
    this.#headIndex = index;
  }

  /** Counts `n` in the newest bucket. */
  add(n: number): void {
    this.#buckets[this.#head]! += n;
    this.#sum += n;
  }

  clear(): void {
    this.#buckets.fill(0);
    this.#sum = 0;
    this.#head = 0;
    this.#headIndex = Number.NEGATIVE_INFINITY;
  }
}

/**
 * The detector's "now", in ms, never decreasing.
 *
 * With timestamps (`timeSource` `event`, or `auto` once an event carries one) time is the
 * largest event time seen, so replaying a log gives the verdicts it gave live. Slightly
 * out-of-order events (audit, `-f` interleaving) count at the current time. A jump back by
 * more than one window (a second log appended, a restarted `-r` count, a repeated capture)
 * starts a new time base: time continues from where it was, as if the logs were back to
 * back, instead of freezing until the old maximum is reached again. Switching from the clock
 * to event time (`auto`) is handled the same way.
 */
/** Latest plausible event time: epoch ms of year ~5138, far inside float integer precision. */
const MAX_EVENT_TIME_MS = 1e14;
/** Largest forward step of event time accepted at once: a year (logs back to back may skip days). */
const MAX_FORWARD_JUMP_MS = 366 * 86_400_000;

export class Timeline {
  /** Event times ignored as implausible (see {@link Timeline.event}). */
  rejectedTimes = 0;
  readonly #source: TimeSource;
  readonly #clock: () => number;
  readonly #jumpMs: number;
  readonly #bucketMs: number;
  /** Current time (ms); NaN until the first reading. */
  #now = Number.NaN;
  /** Added to raw readings of the current time base. */
  #offset = 0;
  /** True once event time drives the timeline. */
  #eventDriven: boolean;
  /** True once an event time was accepted (jumps are judged against it, not the start at 0). */
  #eventSeen = false;

  constructor(source: TimeSource, clock: () => number, windowMs: number) {
    this.#source = source;
    this.#clock = clock;
    this.#jumpMs = windowMs;
    this.#bucketMs = windowMs / BUCKETS;
    this.#eventDriven = source === 'event';
  }

  /** Current time without reading anything. 0 before the first reading. */
  get current(): number {
    return Number.isNaN(this.#now) ? 0 : this.#now;
  }

  /** True when event timestamps (not the clock) drive time. */
  get eventDriven(): boolean {
    return this.#eventDriven;
  }

  /** True when events' `time` fields are read (source `event`, or `auto`). */
  get readsEvents(): boolean {
    return this.#source !== 'clock';
  }

  /**
   * Reads the clock when it drives time (once per batch, not per event: the clock is the
   * batch's arrival time) and returns the current time.
   */
  tick(): number {
    if (!this.#eventDriven) return this.#set(this.#clock());
    // Event time with no event yet: start at 0 rather than NaN.
    if (Number.isNaN(this.#now)) this.#now = 0;
    return this.#now;
  }

  /**
   * Takes an event timestamp (ms) into account and returns the current time. A time that
   * cannot be real is ignored (and counted in `rejectedTimes`): not finite, negative, past
   * year 5000, or more than a year ahead of the current time. One crafted `1e300` would
   * otherwise freeze the clock (float precision) and with it every window and cooldown.
   */
  event(time: number): number {
    if (!(time >= 0 && time <= MAX_EVENT_TIME_MS)) return this.#reject();
    if (this.#eventSeen && time + this.#offset - this.#now > MAX_FORWARD_JUMP_MS) return this.#reject();
    this.#eventSeen = true;
    if (!this.#eventDriven) {
      // `auto`: the first timestamp switches to event time, continuing from the clock's now.
      this.#eventDriven = true;
      this.#offset = Number.isNaN(this.#now) ? 0 : this.#align(this.#now - time);
    }
    return this.#set(time);
  }

  #reject(): number {
    this.rejectedTimes++;
    return this.tick();
  }

  #set(raw: number): number {
    let t = raw + this.#offset;
    const now = this.#now;
    if (Number.isNaN(now)) {
      this.#now = t;
      return t;
    }
    if (now - t > this.#jumpMs) {
      // New time base: continue from now.
      this.#offset += this.#align(now - t);
      t = raw + this.#offset;
    }
    if (t > now) this.#now = t;
    return this.#now;
  }

  /**
   * A shift of time base rounded up to whole buckets, so events fall into the same buckets
   * relative to each other whatever the shift: a replay then gives the same sums, and the
   * same verdicts, whatever the wall clock read before the first timestamp.
   */
  #align(delta: number): number {
    return Math.ceil(delta / this.#bucketMs) * this.#bucketMs;
  }

  reset(): void {
    this.rejectedTimes = 0;
    this.#eventSeen = false;
    this.#now = Number.NaN;
    this.#offset = 0;
    this.#eventDriven = this.#source === 'event';
  }
}
