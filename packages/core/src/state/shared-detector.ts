/**
 * Judging split in two, so that many processes can judge one client as one detector would:
 * - the per-payload part runs where the payload is, in the session's detector with the
 *   event-rate limits and the alert budget taken out: unknown, denied and forbidden
 *   syscalls, rules, integrity checks (a {@link PayloadDetector});
 * - the shared part is the key's windows, budget and cooldown in a {@link DetectorStore}:
 *   one atomic update per verdict, from which this module makes the `denied_rate` and
 *   `total_rate` alerts (the detector's wording) and the `suppressed` verdicts.
 * With a {@link MemoryDetectorStore} the verdicts are those of a `DetectorRegistry` for the
 * same sequence; with a shared store, those of one detector seeing every instance's traffic.
 */
import type { Alert } from '../detect/alert.js';
import {
  type DetectorConfig,
  mergeConfigs,
  type ResolvedDetectorConfig,
  resolveDetectorConfig,
} from '../detect/config.js';
import { type AnomalyVerdict, SyscallAnomalyDetector } from '../detect/detector.js';
import { describeEvent, newAlert, suppressed, windowLabel } from '../detect/verdict.js';
import { BUCKETS, Timeline } from '../detect/window.js';
import { SyscanError } from '../errors.js';
import { globToRegExp } from '../rules/matchers.js';
import type { SyscallEvent } from '../types.js';
import { MemoryDetectorStore } from './memory-store.js';
import {
  type DetectorStore,
  isDetectorStore,
  type StateReply,
  type StateStep,
  type StateUpdate,
} from './store.js';

export interface SharedDetectorOptions {
  /** The policy every key is judged by (validated once, here). */
  config?: DetectorConfig | ResolvedDetectorConfig | undefined;
  /** Where each key's windows, budget and cooldown live. Defaults to a {@link MemoryDetectorStore} with `maxKeys` and `idleMs`. */
  store?: DetectorStore | undefined;
  /** Most keys whose timeline this process keeps (and the default store's bound). Defaults to `10_000`. */
  maxKeys?: number | undefined;
  /** A key's timeline unused this long (ms) is dropped. Defaults to `600_000`; 0 = never. */
  idleMs?: number | undefined;
  /** Clock in ms; also the config's clock unless it brings its own. Defaults to `Date.now`. */
  now?: (() => number) | undefined;
}

const CLEAN: AnomalyVerdict = Object.freeze({ kind: 'clean' });

/**
 * Per-key judging over a store.
 *
 * @example
 * const shared = new SharedDetector({ config, store });
 * const detector = shared.detector(clientKey);
 * createSession({ detector }).analyze(trace); // per-payload checks, synchronous
 * const verdict = await detector.settle();    // the client's windows, budget and cooldown
 */
export class SharedDetector {
  /** The whole policy: rate limits, budget and cooldown are applied from it. */
  readonly config: ResolvedDetectorConfig;
  /** The per-payload part of it: rate limits and budget off. */
  readonly payloadConfig: ResolvedDetectorConfig;
  readonly store: DetectorStore;
  readonly maxKeys: number;
  readonly idleMs: number;
  readonly #now: () => number;
  readonly #allowed: AllowedDenials;
  /** Time of each key as the detector keeps it (event timestamps or the clock); recency order. */
  readonly #timelines = new Map<string, { timeline: Timeline; lastUsed: number }>();

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` for a bad config or bad limits. */
  constructor(options: SharedDetectorOptions = {}) {
    const maxKeys = options.maxKeys ?? 10_000;
    const idleMs = options.idleMs ?? 600_000;
    const problems: string[] = [];
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      problems.push(`maxKeys must be a positive integer, got ${maxKeys}`);
    if (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs < 0)
      problems.push(`idleMs must be a number of ms >= 0, got ${idleMs}`);
    if (options.now !== undefined && typeof options.now !== 'function')
      problems.push('now must be a function returning ms');
    if (options.store !== undefined && !isDetectorStore(options.store))
      problems.push('store must be a DetectorStore (update, cooldownMs, get and reset methods)');
    if (problems.length > 0)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `invalid shared detector options: ${problems.join('; ')}`);
    this.#now = options.now ?? (() => Date.now());
    const given = options.config ?? {};
    const hasNow = typeof given === 'object' && given !== null && 'now' in given && given.now !== undefined;
    this.config = resolveDetectorConfig(
      hasNow || options.now === undefined ? given : { ...given, now: this.#now },
    );
    this.payloadConfig = mergeConfigs(this.config, {
      maxDeniedEventsPerMinute: 0,
      maxTotalEventsPerMinute: 0,
      maxAlertsPerMinute: 0,
    });
    this.maxKeys = maxKeys;
    this.idleMs = idleMs;
    this.store = options.store ?? new MemoryDetectorStore({ maxKeys, idleMs });
    this.#allowed = allowedDenials(this.config);
  }

  /** A detector for one verdict of `key`: give it to a session, then {@link PayloadDetector.settle}. */
  detector(key: string): PayloadDetector {
    return new PayloadDetector(this, key, this.#timeline(key), this.#allowed);
  }

  /** Cooldown left for `key` now (ms; 0 = none), from the store. */
  cooldownMs(key: string): Promise<number> {
    // A key this process has not judged yet has no timeline here: the clock stands in (another
    // process may have started its cooldown).
    const slot = this.#timelines.get(key);
    return this.store.cooldownMs(key, slot !== undefined ? slot.timeline.tick() : this.config.now());
  }

  #timeline(key: string): Timeline {
    const now = this.#now();
    const slots = this.#timelines;
    if (this.idleMs > 0) {
      for (const [k, slot] of slots) {
        if (now - slot.lastUsed < this.idleMs) break;
        slots.delete(k);
      }
    }
    let slot = slots.get(key);
    if (slot !== undefined) slots.delete(key);
    else {
      const c = this.config;
      slot = { timeline: new Timeline(c.timeSource, c.now, c.windowMs), lastUsed: now };
      while (slots.size >= this.maxKeys) {
        const oldest = slots.keys().next();
        if (oldest.done) break;
        slots.delete(oldest.value);
      }
    }
    slot.lastUsed = now;
    slots.set(key, slot);
    return slot.timeline;
  }
}

/** A step of the batch, with where its events start in the batch's lists. */
interface Step extends StateStep {
  total: number;
  denied: number;
  firstEvent: number;
  firstDenied: number;
}

/**
 * The session's detector for one verdict of one key: judges each batch it observes with the
 * per-payload checks (synchronously, as the session expects) and notes what the batch adds
 * to the key's windows; {@link settle} applies that to the store and gives the verdict.
 * Several batches before `settle` become one verdict.
 */
export class PayloadDetector extends SyscallAnomalyDetector {
  readonly key: string;
  readonly #shared: SharedDetector;
  readonly #timeline: Timeline;
  readonly #allowed: AllowedDenials;
  readonly #bucketMs: number;
  readonly #steps: Step[] = [];
  /** Events counted, and denied events counted, in input order (for the rate alerts' facts). */
  readonly #counted: SyscallEvent[] = [];
  readonly #denied: SyscallEvent[] = [];
  readonly #alerts: Alert[] = [];
  #settled = false;

  constructor(shared: SharedDetector, key: string, timeline: Timeline, allowed: AllowedDenials) {
    super(shared.payloadConfig);
    this.#shared = shared;
    this.key = key;
    this.#timeline = timeline;
    this.#allowed = allowed;
    this.#bucketMs = shared.config.windowMs / BUCKETS;
  }

  override observe(events: SyscallEvent | Iterable<SyscallEvent>, extra?: readonly Alert[]): AnomalyVerdict {
    if (!this.config.enabled) return CLEAN;
    if (this.#settled) throw new SyscanError('ERR_SYSCAN_USAGE', 'PayloadDetector: observe() after settle()');
    const list: readonly SyscallEvent[] =
      typeof (events as SyscallEvent).syscall === 'string'
        ? [events as SyscallEvent]
        : Array.isArray(events)
          ? events
          : [...(events as Iterable<SyscallEvent>)];
    this.#note(list);
    const verdict = super.observe(list, extra);
    if (verdict.kind === 'alert') for (const a of verdict.alerts) this.#alerts.push(a);
    return verdict;
  }

  /** Rejects when the store fails; the caller decides what that means (fail closed). */
  async settle(): Promise<AnomalyVerdict> {
    if (this.#settled) throw new SyscanError('ERR_SYSCAN_USAGE', 'PayloadDetector: settle() twice');
    this.#settled = true;
    if (this.#steps.length === 0) return CLEAN;
    const cfg = this.#shared.config;
    // An untimed trace read under `auto` has no rate: its batches arrive as fast as it is read.
    const rates = cfg.ratesWithoutTimestamps || cfg.timeSource !== 'auto' || this.#timeline.eventDriven;
    const now = this.#timeline.current;
    const update: StateUpdate = {
      now,
      windowMs: cfg.windowMs,
      steps: this.#steps.map((s) => ({ bucket: s.bucket, total: s.total, denied: s.denied })),
      alerts: this.#alerts.length,
      deniedLimit: rates ? cfg.maxDeniedEventsPerMinute : 0,
      totalLimit: rates ? cfg.maxTotalEventsPerMinute : 0,
      budget: cfg.maxAlertsPerMinute,
      cooldownMs: cfg.alertCooldownSecs * 1000,
    };
    const reply = await this.#shared.store.update(this.key, update);
    return this.#verdict(update, reply);
  }

  /** Notes the batch's steps like the detector moves its windows: the clock at the start, then event times. */
  #note(list: readonly SyscallEvent[]): void {
    const tl = this.#timeline;
    const bucketMs = this.#bucketMs;
    let step = this.#newStep(Math.floor(tl.tick() / bucketMs));
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const kind = (e as { kind?: string }).kind;
      if (kind !== 'syscall' && kind !== undefined) continue;
      const time = e.time;
      if (time !== undefined && tl.readsEvents && Number.isFinite(time)) {
        const bucket = Math.floor(tl.event(time) / bucketMs);
        if (bucket !== step.bucket) step = this.#newStep(bucket);
      }
      step.total++;
      this.#counted.push(e);
      if (e.denied === true && !this.#allowed(e)) {
        step.denied++;
        this.#denied.push(e);
      }
    }
  }

  #newStep(bucket: number): Step {
    const step: Step = {
      bucket,
      total: 0,
      denied: 0,
      firstEvent: this.#counted.length,
      firstDenied: this.#denied.length,
    };
    this.#steps.push(step);
    return step;
  }

  /** The verdict the store's answer makes, in the detector's words. */
  #verdict(update: StateUpdate, reply: StateReply): AnomalyVerdict {
    const cfg = this.#shared.config;
    const label = windowLabel(cfg.windowMs);
    const alerts = this.#alerts.slice();
    const denied = this.#rate(reply, 1, update.deniedLimit, this.#denied);
    if (denied !== undefined) {
      const a = newAlert(
        'denied_rate',
        cfg.severity.denied_rate,
        `denied event rate ${denied.peak} exceeds limit ${update.deniedLimit}/${label}`,
      );
      a.count = denied.peak;
      a.limit = update.deniedLimit;
      if (denied.over !== undefined) describeEvent(a, denied.over);
      alerts.push(a);
    }
    const total = this.#rate(reply, 0, update.totalLimit, this.#counted);
    if (total !== undefined) {
      const a = newAlert(
        'total_rate',
        cfg.severity.total_rate,
        `total event rate ${total.peak} exceeds limit ${update.totalLimit}/${label}`,
      );
      a.count = total.peak;
      a.limit = update.totalLimit;
      if (total.over !== undefined) describeEvent(a, total.over);
      alerts.push(a);
    }
    switch (reply.outcome) {
      case 'cooling':
        return suppressed('alert cooldown active', alerts.length, reply.cooldownUntil - update.now);
      case 'exhausted':
        return suppressed(
          `alert budget exhausted (${update.budget}/${label}), cooldown ${cfg.alertCooldownSecs}s`,
          alerts.length,
          update.cooldownMs,
        );
      default:
        // A store answering `clean` for a verdict with alerts is wrong: the alerts stand (fail closed).
        return alerts.length > 0 ? { kind: 'alert', alerts } : CLEAN;
    }
  }

  /**
   * The peak of one window over the batch and the first event that took it over `limit`,
   * from the sums the store had before each step; undefined when the peak is within it.
   */
  #rate(
    reply: StateReply,
    which: 0 | 1,
    limit: number,
    events: readonly SyscallEvent[],
  ): { peak: number; over: SyscallEvent | undefined } | undefined {
    if (limit <= 0) return undefined;
    let peak = 0;
    let over: SyscallEvent | undefined;
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const n = which === 0 ? step.total : step.denied;
      if (n === 0) continue;
      const before = reply.before[i]?.[which] ?? 0;
      if (before + n > peak) peak = before + n;
      if (over === undefined && before + n > limit) {
        // The k-th event of the step (0-based) brings the sum to before + k + 1.
        const first = which === 0 ? step.firstEvent : step.firstDenied;
        over = events[first + Math.max(0, limit - before)];
      }
    }
    return peak > limit ? { peak, over } : undefined;
  }
}

/** True for a denial the config's `allowedDenials` say normal runs make (the detector's matching). */
type AllowedDenials = (e: SyscallEvent) => boolean;

function allowedDenials(config: ResolvedDetectorConfig): AllowedDenials {
  if (config.allowedDenials.length === 0) return () => false;
  const bySyscall = new Map<string, Array<{ errno: string | undefined; path: RegExp | undefined }>>();
  for (const a of config.allowedDenials) {
    let list = bySyscall.get(a.syscall);
    if (list === undefined) {
      list = [];
      bySyscall.set(a.syscall, list);
    }
    list.push({ errno: a.errno, path: a.path === undefined ? undefined : globToRegExp(a.path, false) });
  }
  return (e) => {
    const list = bySyscall.get(e.syscall);
    if (list === undefined) return false;
    const path = e.paths?.[0];
    return list.some(
      (a) =>
        (a.errno === undefined || a.errno === e.errno) &&
        (a.path === undefined || (path !== undefined && a.path.test(path))),
    );
  };
}
