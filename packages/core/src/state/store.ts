/**
 * The detector state that must be shared when several processes judge one client (guard
 * instances behind a load balancer): its rolling windows of total and denied events, its
 * alert budget and cooldown, and lifetime counts. A `DetectorStore` keeps it per key and
 * applies one verdict's change in one atomic call, so a network store (Redis) costs one
 * round trip per verdict. The store does arithmetic only; the words of a verdict (alerts,
 * reasons) are made by {@link SharedDetector} in core.
 *
 * Windows are rings of {@link BUCKETS} buckets addressed by absolute bucket index
 * (`floor(time / (windowMs / BUCKETS))`), exactly like the detector's `RollingCounter`: the
 * window ending at bucket `h` sums buckets `h - BUCKETS + 1 … h`. A step whose bucket is
 * behind the key's newest bucket (another instance's clock ran ahead) counts in the newest.
 */

/** One run of a batch's events that fell in the same bucket, in input order. */
export interface StateStep {
  /** Absolute bucket index the window is moved to before counting (never moved back). */
  readonly bucket: number;
  /** Events counted in the total window. */
  readonly total: number;
  /** Denied events counted in the denied window (allowed denials excluded). */
  readonly denied: number;
}

/** What one verdict does to a key's state. */
export interface StateUpdate {
  /** The verdict's time (ms, the detector's timeline): cooldowns are compared with it. */
  readonly now: number;
  /** Length of the windows (ms); also how long the state matters after its last use. */
  readonly windowMs: number;
  /** The batch's steps, the first being where the batch began (its counts may be 0). At least one. */
  readonly steps: readonly StateStep[];
  /** Alerts the per-payload checks found (unknown, denied, forbidden syscalls, rules, integrity). */
  readonly alerts: number;
  /** `denied_rate` limit (a peak above it alerts); 0 = none. */
  readonly deniedLimit: number;
  /** `total_rate` limit; 0 = none. */
  readonly totalLimit: number;
  /** Alerting verdicts allowed per window; 0 = no budget. */
  readonly budget: number;
  /** Cooldown started when the budget is found spent (ms). */
  readonly cooldownMs: number;
}

/**
 * What the store decided, from the key's state:
 * - `clean`: no alert (neither per-payload nor rate) and no cooldown running;
 * - `alert`: alerting, within budget (one unit spent);
 * - `cooling`: a cooldown was running at `now` (alerting or not);
 * - `exhausted`: alerting and the budget of the window spent: a cooldown starts at `now`.
 */
export type StateOutcome = 'clean' | 'alert' | 'cooling' | 'exhausted';

export interface StateReply {
  /** Sums of the total and denied windows just before each step's counts were added. */
  readonly before: ReadonlyArray<readonly [total: number, denied: number]>;
  readonly outcome: StateOutcome;
  /** End of the key's cooldown after the update (ms; -Infinity when none ever ran). */
  readonly cooldownUntil: number;
}

/** Lifetime counts of a key, since its state was created (a store may forget an idle key). */
export interface StateCounts {
  events: number;
  deniedEvents: number;
  cleanVerdicts: number;
  alertVerdicts: number;
  /** `cooling` and `exhausted` outcomes. */
  suppressedVerdicts: number;
}

/** A key's state as of `now` (for tests, dashboards, forgiving a client). */
export interface StateSnapshot {
  /** Sum of the total-events window ending at the key's newest bucket. */
  readonly total: number;
  readonly denied: number;
  /** Alerting verdicts counted in the budget window. */
  readonly alerts: number;
  /** Cooldown left at `now` (ms; 0 = none). */
  readonly cooldownMs: number;
  readonly counts: Readonly<StateCounts>;
}

/**
 * Per-key detector state. Every call may go over the network, so every call is async; a
 * store that fails rejects (the caller decides: `onStoreError`).
 */
export interface DetectorStore {
  /** Applies one verdict's change to `key` atomically (see {@link StateUpdate}). */
  update(key: string, update: StateUpdate): Promise<StateReply>;
  /** Cooldown left for `key` at `now` (ms; 0 = none): the check before work is done. */
  cooldownMs(key: string, now: number): Promise<number>;
  /** `key`'s state, or undefined when the store holds none. */
  get(key: string, now: number): Promise<StateSnapshot | undefined>;
  /** Forgets `key` (forgives a client). */
  reset(key: string): Promise<void>;
}

/** True when `v` has the calls of a {@link DetectorStore} (adapters validate options with it). */
export function isDetectorStore(v: unknown): v is DetectorStore {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.update === 'function' &&
    typeof s.cooldownMs === 'function' &&
    typeof s.get === 'function' &&
    typeof s.reset === 'function'
  );
}

export function emptyCounts(): StateCounts {
  return { events: 0, deniedEvents: 0, cleanVerdicts: 0, alertVerdicts: 0, suppressedVerdicts: 0 };
}
