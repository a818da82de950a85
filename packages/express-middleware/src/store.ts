/**
 * Where the guard keeps each client's alert budget and cooldown: the state that must be
 * shared when several instances of an app serve one client (a client cooling down on one
 * instance must get its 429 from the next). The shape follows express-rate-limit's `Store`:
 * small, one atomic call per alerting verdict, sync or async. `MemoryStore` is the default;
 * a shared store (Redis) implements the same three calls.
 */

/** The budget the guard asks a store to enforce (from the detector config). */
export interface AlertBudget {
  /** Alerting verdicts allowed per window; 0 = no limit. */
  readonly max: number;
  readonly windowMs: number;
  /** Cooldown once the budget is spent (ms). */
  readonly cooldownMs: number;
}

/**
 * What spending one alerting verdict came to: `ok` (within budget), `exhausted` (the budget
 * was spent: a cooldown starts now) or `cooling` (a cooldown was already running).
 */
export interface SpendResult {
  readonly state: 'ok' | 'exhausted' | 'cooling';
  /** Cooldown left (ms); 0 for `ok`. */
  readonly retryAfterMs: number;
}

export interface GuardStore {
  /** Cooldown left for `key` at `now` (ms; 0 = none). Asked before the handler runs. */
  cooldownMs(key: string, now: number): number | PromiseLike<number>;
  /** Counts one alerting verdict of `key` at `now` against `budget`, atomically. */
  spend(key: string, now: number, budget: AlertBudget): SpendResult | PromiseLike<SpendResult>;
  /** Forgets `key` (forgive a client). */
  reset(key: string): void | PromiseLike<void>;
}

export interface MemoryStoreOptions {
  /** Most clients kept; the least recently used goes first (which lifts its cooldown). Defaults to 10 000. */
  maxKeys?: number | undefined;
}

interface Entry {
  /** Times of the alerting verdicts counted, oldest first; never more than the budget. */
  hits: number[];
  cooldownUntil: number;
  /** When the entry stops mattering (its last hit leaves the window, its cooldown ends). */
  expires: number;
}

const OK: SpendResult = Object.freeze({ state: 'ok', retryAfterMs: 0 });

/**
 * The in-process store: one entry per client, bounded by `maxKeys` (least recently used
 * evicted) and dropped once neither a hit in the window nor a cooldown remains. No timers.
 */
export class MemoryStore implements GuardStore {
  readonly maxKeys: number;
  /** Insertion order = recency order. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      throw new RangeError(`MemoryStore: maxKeys must be a positive integer, got ${maxKeys}`);
    this.maxKeys = maxKeys;
  }

  cooldownMs(key: string, now: number): number {
    const e = this.#entries.get(key);
    return e !== undefined && e.cooldownUntil > now ? e.cooldownUntil - now : 0;
  }

  spend(key: string, now: number, budget: AlertBudget): SpendResult {
    if (budget.max <= 0) return OK;
    const entries = this.#entries;
    let e = entries.get(key);
    if (e !== undefined) entries.delete(key);
    else e = { hits: [], cooldownUntil: Number.NEGATIVE_INFINITY, expires: 0 };
    this.#evict(now, this.maxKeys - 1);
    entries.set(key, e);
    if (e.cooldownUntil > now) return { state: 'cooling', retryAfterMs: e.cooldownUntil - now };
    const hits = e.hits;
    while (hits.length > 0 && hits[0]! <= now - budget.windowMs) hits.shift();
    if (hits.length >= budget.max) {
      e.cooldownUntil = now + budget.cooldownMs;
      e.expires = Math.max(e.expires, e.cooldownUntil);
      return { state: 'exhausted', retryAfterMs: budget.cooldownMs };
    }
    hits.push(now);
    e.expires = Math.max(now + budget.windowMs, e.cooldownUntil);
    return OK;
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Clients held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries from the least recent end, and the least recent ones past `room`. */
  #evict(now: number, room: number): void {
    const entries = this.#entries;
    for (const [key, e] of entries) {
      if (entries.size <= room && e.expires > now) break;
      entries.delete(key);
    }
  }
}
