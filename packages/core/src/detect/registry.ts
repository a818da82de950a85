/**
 * Detectors keyed by client, session or command, so one noisy client's budget and cooldown
 * are its own. Bounded two ways: at most `maxKeys` detectors (least recently used evicted)
 * and none idle for longer than `idleMs`. No timers: idle entries are dropped as the
 * registry is used, by the injected clock, so it never keeps a process alive.
 */
import { SyscanError } from '../errors.js';
import { type DetectorConfig, type ResolvedDetectorConfig, resolveDetectorConfig } from './config.js';
import { SyscallAnomalyDetector } from './detector.js';

export interface DetectorRegistryOptions {
  /** Config of every detector the registry creates (validated once, here). */
  config?: DetectorConfig | undefined;
  /** Most detectors kept; the least recently used goes first. Defaults to `10_000`. */
  maxKeys?: number | undefined;
  /** A detector unused for this long (ms) is dropped. Defaults to `600_000` (10 min). 0 = never. */
  idleMs?: number | undefined;
  /** Clock in ms for idle expiry; also the detectors' clock unless `config.now` is given. Defaults to `Date.now`. */
  now?: (() => number) | undefined;
}

interface Slot {
  detector: SyscallAnomalyDetector;
  lastUsed: number;
}

export class DetectorRegistry {
  readonly config: ResolvedDetectorConfig;
  readonly maxKeys: number;
  readonly idleMs: number;
  readonly #now: () => number;
  /** Insertion order = recency order: a used key is deleted and re-inserted at the end. */
  readonly #slots = new Map<string, Slot>();

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` for a bad config or bad limits. */
  constructor(options: DetectorRegistryOptions = {}) {
    const problems: string[] = [];
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      problems.push(`maxKeys must be a positive integer, got ${maxKeys}`);
    const idleMs = options.idleMs ?? 600_000;
    if (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs < 0)
      problems.push(`idleMs must be a number of ms >= 0, got ${idleMs}`);
    if (options.now !== undefined && typeof options.now !== 'function')
      problems.push('now must be a function returning ms');
    if (problems.length > 0) {
      throw new SyscanError('ERR_SYSCAN_CONFIG', `invalid detector registry options: ${problems.join('; ')}`);
    }
    this.#now = options.now ?? (() => Date.now());
    const given = options.config ?? {};
    // Detectors share the registry's clock unless their config brings its own.
    const hasNow = typeof given === 'object' && given !== null && 'now' in given && given.now !== undefined;
    this.config = resolveDetectorConfig(
      hasNow || options.now === undefined ? given : { ...given, now: this.#now },
    );
    this.maxKeys = maxKeys;
    this.idleMs = idleMs;
  }

  /** The detector of `key`, created on first use; marks it most recently used. */
  get(key: string): SyscallAnomalyDetector {
    const now = this.#now();
    this.#expire(now);
    const slots = this.#slots;
    let slot = slots.get(key);
    if (slot !== undefined) {
      slots.delete(key);
      slot.lastUsed = now;
    } else {
      slot = { detector: new SyscallAnomalyDetector(this.config), lastUsed: now };
      while (slots.size >= this.maxKeys) {
        const oldest = slots.keys().next();
        if (oldest.done) break;
        slots.delete(oldest.value);
      }
    }
    slots.set(key, slot);
    return slot.detector;
  }

  /** The detector of `key` if there is one (not expired), without creating it or marking it used. */
  peek(key: string): SyscallAnomalyDetector | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (this.#idle(slot, this.#now())) {
      this.#slots.delete(key);
      return undefined;
    }
    return slot.detector;
  }

  /** Forgets `key`. True when it was there. */
  delete(key: string): boolean {
    return this.#slots.delete(key);
  }

  clear(): void {
    this.#slots.clear();
  }

  /** Detectors held (idle ones may still count until the next `get`). */
  get size(): number {
    return this.#slots.size;
  }

  /** Keys held, least recently used first. */
  keys(): IterableIterator<string> {
    return this.#slots.keys();
  }

  #idle(slot: Slot, now: number): boolean {
    if (this.idleMs === 0 || now - slot.lastUsed < this.idleMs) return false;
    // A key cooling down stays: forgetting it would lift its cooldown early.
    return slot.detector.cooldownRemainingMs() === 0;
  }

  /**
   * Drops idle detectors. They sit at the front (least recent first), so the scan stops at the
   * first recent one; cooling-down ones are stepped over, a few at most per call.
   */
  #expire(now: number): void {
    if (this.idleMs === 0) return;
    let skipped = 0;
    for (const [key, slot] of this.#slots) {
      if (now - slot.lastUsed < this.idleMs) return;
      if (slot.detector.cooldownRemainingMs() > 0) {
        if (++skipped >= 8) return;
        continue;
      }
      this.#slots.delete(key);
    }
  }
}
