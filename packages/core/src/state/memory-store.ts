/**
 * The in-process {@link DetectorStore}: the default, and the reference the shared stores
 * are tested against. Its windows are the detector's own {@link RollingCounter}s, so a
 * sequence of verdicts gives the same sums as one detector would.
 *
 * Bounded like `DetectorRegistry`: at most `maxKeys` keys (least recently used evicted) and
 * none idle for longer than `idleMs` unless it is cooling down (forgetting it would lift the
 * cooldown early). No timers: idle keys are dropped as the store is used, by the times the
 * calls carry.
 */

import { RollingCounter } from '../detect/window.js';
import { SyscanError } from '../errors.js';
import {
  type DetectorStore,
  emptyCounts,
  type StateCounts,
  type StateReply,
  type StateSnapshot,
  type StateUpdate,
} from './store.js';

export interface MemoryDetectorStoreOptions {
  /** Most keys kept; the least recently used goes first. Defaults to `10_000`. */
  maxKeys?: number | undefined;
  /** A key unused for this long (ms, by the times of the calls) is dropped unless cooling down. Defaults to `600_000`; 0 = never. */
  idleMs?: number | undefined;
}

interface KeyState {
  readonly total: RollingCounter;
  readonly denied: RollingCounter;
  readonly budget: RollingCounter;
  cooldownUntil: number;
  readonly counts: StateCounts;
  lastUsed: number;
}

/** How many cooling-down idle keys one call steps over before it stops looking (keeps calls O(1) amortised). */
const MAX_SKIPPED = 8;

export class MemoryDetectorStore implements DetectorStore {
  readonly maxKeys: number;
  readonly idleMs: number;
  /** Insertion order = recency order: a used key is deleted and re-inserted at the end. */
  readonly #keys = new Map<string, KeyState>();

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` for bad limits. */
  constructor(options: MemoryDetectorStoreOptions = {}) {
    const problems: string[] = [];
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      problems.push(`maxKeys must be a positive integer, got ${maxKeys}`);
    const idleMs = options.idleMs ?? 600_000;
    if (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs < 0)
      problems.push(`idleMs must be a number of ms >= 0, got ${idleMs}`);
    if (problems.length > 0)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `invalid memory store options: ${problems.join('; ')}`);
    this.maxKeys = maxKeys;
    this.idleMs = idleMs;
  }

  update(key: string, u: StateUpdate): Promise<StateReply> {
    return Promise.resolve(this.updateNow(key, u));
  }

  /** {@link update} without the promise, for callers in the same process. */
  updateNow(key: string, u: StateUpdate): StateReply {
    if (u.steps.length === 0)
      throw new SyscanError('ERR_SYSCAN_USAGE', 'MemoryDetectorStore: an update needs at least one step');
    const s = this.#use(key, u.now);
    const before: Array<readonly [number, number]> = [];
    let peakTotal = 0;
    let peakDenied = 0;
    for (const step of u.steps) {
      s.total.advance(step.bucket);
      s.denied.advance(step.bucket);
      s.budget.advance(step.bucket);
      before.push([s.total.sum, s.denied.sum]);
      if (step.total > 0) {
        s.total.add(step.total);
        if (s.total.sum > peakTotal) peakTotal = s.total.sum;
      }
      if (step.denied > 0) {
        s.denied.add(step.denied);
        if (s.denied.sum > peakDenied) peakDenied = s.denied.sum;
      }
      s.counts.events += step.total;
      s.counts.deniedEvents += step.denied;
    }
    const rateAlert =
      (u.deniedLimit > 0 && peakDenied > u.deniedLimit) || (u.totalLimit > 0 && peakTotal > u.totalLimit);
    let outcome: StateReply['outcome'];
    if (u.now < s.cooldownUntil) outcome = 'cooling';
    else if (u.alerts === 0 && !rateAlert) outcome = 'clean';
    else if (u.budget > 0 && s.budget.sum >= u.budget) {
      s.cooldownUntil = u.now + u.cooldownMs;
      outcome = 'exhausted';
    } else {
      if (u.budget > 0) s.budget.add(1);
      outcome = 'alert';
    }
    if (outcome === 'clean') s.counts.cleanVerdicts++;
    else if (outcome === 'alert') s.counts.alertVerdicts++;
    else s.counts.suppressedVerdicts++;
    return { before, outcome, cooldownUntil: s.cooldownUntil };
  }

  cooldownMs(key: string, now: number): Promise<number> {
    return Promise.resolve(this.cooldownMsNow(key, now));
  }

  /** {@link cooldownMs} without the promise. */
  cooldownMsNow(key: string, now: number): number {
    const s = this.#peek(key, now);
    return s !== undefined && s.cooldownUntil > now ? s.cooldownUntil - now : 0;
  }

  get(key: string, now: number): Promise<StateSnapshot | undefined> {
    const s = this.#peek(key, now);
    if (s === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      total: s.total.sum,
      denied: s.denied.sum,
      alerts: s.budget.sum,
      cooldownMs: s.cooldownUntil > now ? s.cooldownUntil - now : 0,
      counts: { ...s.counts },
    });
  }

  reset(key: string): Promise<void> {
    this.#keys.delete(key);
    return Promise.resolve();
  }

  /** Keys held (idle ones may still count until the next update). */
  get size(): number {
    return this.#keys.size;
  }

  clear(): void {
    this.#keys.clear();
  }

  /** The state of `key`, created on first use, marked most recently used. */
  #use(key: string, now: number): KeyState {
    this.#expire(now);
    const keys = this.#keys;
    let s = keys.get(key);
    if (s !== undefined) keys.delete(key);
    else {
      s = {
        total: new RollingCounter(),
        denied: new RollingCounter(),
        budget: new RollingCounter(),
        cooldownUntil: Number.NEGATIVE_INFINITY,
        counts: emptyCounts(),
        lastUsed: now,
      };
      while (keys.size >= this.maxKeys) {
        const oldest = keys.keys().next();
        if (oldest.done) break;
        keys.delete(oldest.value);
      }
    }
    if (now > s.lastUsed) s.lastUsed = now;
    keys.set(key, s);
    return s;
  }

  #peek(key: string, now: number): KeyState | undefined {
    const s = this.#keys.get(key);
    if (s === undefined) return undefined;
    if (this.#idle(s, now)) {
      this.#keys.delete(key);
      return undefined;
    }
    return s;
  }

  #idle(s: KeyState, now: number): boolean {
    return this.idleMs > 0 && now - s.lastUsed >= this.idleMs && s.cooldownUntil <= now;
  }

  /** Drops idle keys from the least recent end; stops at the first recent one. */
  #expire(now: number): void {
    if (this.idleMs === 0) return;
    let skipped = 0;
    for (const [key, s] of this.#keys) {
      if (now - s.lastUsed < this.idleMs) return;
      if (s.cooldownUntil > now) {
        if (++skipped >= MAX_SKIPPED) return;
        continue;
      }
      this.#keys.delete(key);
    }
  }
}
