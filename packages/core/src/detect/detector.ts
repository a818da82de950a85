/**
 * The seed's syscall anomaly detector, with its verdicts and wording, without its blind
 * spots: rolling windows instead of fixed minutes, input still counted during cooldown,
 * identical alerts merged wherever they occur in a verdict, bounded per-syscall counts, and
 * time taken from event timestamps (or an injected clock) so a replay gives the live verdicts.
 */
import { parseSyscallEvents } from '../parse/index.js';
import type { SyscallEvent } from '../types.js';
import type { Alert } from './alert.js';
import { type Compiled, compile } from './compiled.js';
import { type DetectorConfig, type ResolvedDetectorConfig, resolveDetectorConfig } from './config.js';
import { type CompiledProgram, matchesAllowed, ProgramAlerts, ProgramLookup } from './programs.js';
import { countTarget, describeEvent, emptyStats, newAlert, rateAlert, suppressed } from './verdict.js';
import { RollingCounter, RollingWindow, Timeline } from './window.js';

export type { Alert, AlertType } from './alert.js';
export { cutSample, SAMPLE_LENGTH } from './verdict.js';

export type AnomalyVerdict =
  | { kind: 'clean' }
  | { kind: 'alert'; alerts: Alert[] }
  | {
      kind: 'suppressed';
      /** `alert budget exhausted (30/min), cooldown 20s` or `alert cooldown active`. */
      reason: string;
      /** Alerts this verdict would have carried. The events behind them were still counted. */
      heldBack: number;
      /** Cooldown left, in ms of the detector's time. */
      retryAfterMs: number;
    };

/** Lifetime counters of a detector (since construction or {@link SyscallAnomalyDetector.reset}). */
export interface DetectorStats {
  events: number;
  deniedEvents: number;
  cleanVerdicts: number;
  alertVerdicts: number;
  suppressedVerdicts: number;
  /** Alerts delivered in `alert` verdicts. */
  alerts: number;
  /** Alerts held back by `suppressed` verdicts. */
  heldBackAlerts: number;
  /** Event times ignored as implausible (not finite, negative, far future, a jump of over a year). */
  rejectedTimes: number;
  /** Denied events the config's allowedDenials allow (not alerted, not in denied_rate). */
  allowedDenials: number;
}

/** Count key shared by the syscall names past `maxTrackedSyscalls`. */
export const OVERFLOW_SYSCALL_KEY = '(other)';

const CLEAN: AnomalyVerdict = Object.freeze({ kind: 'clean' });

/** Per-name state: its count, its class under the config, and this verdict's alerts for it. */
interface Tracked {
  count: number;
  readonly known: boolean;
  readonly dangerous: boolean;
  readonly forbidden: boolean;
  /** Verdict number the alert slots below belong to. */
  gen: number;
  unknownAlert: Alert | undefined;
  deniedAlert: Alert | undefined;
  forbiddenAlert: Alert | undefined;
}

/**
 * Judges syscall events against a baseline and rate limits.
 *
 * One `analyze`/`observe` call gives one verdict. Every event counts (totals, per-syscall
 * counts, windows), also while the detector cools down. A verdict with alerts spends one
 * unit of the alert budget (`maxAlertsPerMinute` per window); the verdict that finds the
 * budget spent is `suppressed` and starts the cooldown, during which alerting verdicts are
 * `suppressed` too, each saying how many alerts it held back.
 *
 * @example
 * const detector = new SyscallAnomalyDetector({ baselineSyscalls: ['read', 'write', 'close'] });
 * const verdict = detector.analyze('ptrace(PTRACE_ATTACH, 1234) = 0');
 * if (verdict.kind === 'alert') for (const a of verdict.alerts) console.log(a.severity, a.message);
 */
export class SyscallAnomalyDetector {
  readonly config: ResolvedDetectorConfig;
  readonly #compiled: Compiled;
  readonly #timeline: Timeline;
  readonly #total = new RollingCounter();
  readonly #denied = new RollingCounter();
  readonly #budget = new RollingCounter();
  readonly #window: RollingWindow;
  #cooldownUntil = Number.NEGATIVE_INFINITY;
  readonly #names = new Map<string, Tracked>();
  #overflowCount = 0;
  #stats: DetectorStats = emptyStats();
  readonly #programAlerts = new ProgramAlerts();
  readonly #programOf: ProgramLookup;

  // State of the verdict being built (fields, not locals, so the per-event path allocates nothing).
  #gen = 0;
  #alerts: Alert[] | undefined;
  #overflowAlerts: Map<string, Alert> | undefined;
  #callEvents = 0;
  #peakTotal = 0;
  #peakDenied = 0;
  #totalOver: SyscallEvent | undefined;
  #deniedOver: SyscallEvent | undefined;

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` listing every problem of `config`. */
  constructor(config: DetectorConfig = {}) {
    this.config = resolveDetectorConfig(config);
    this.#compiled = compile(this.config);
    this.#programOf = new ProgramLookup(this.#compiled.programs);
    this.#window = new RollingWindow(this.config.windowMs, [this.#total, this.#denied, this.#budget]);
    this.#timeline = new Timeline(this.config.timeSource, this.config.now, this.config.windowMs);
  }

  /** The seed's form: parses `text` (strace or audit, auto-detected) and judges its syscall events. */
  analyze(text: string): AnomalyVerdict {
    if (!this.config.enabled) return CLEAN;
    return this.observe(parseSyscallEvents(text));
  }

  /**
   * Judges a batch of events (one event, an array, any iterable) and returns one verdict for
   * it. Records other than syscall events (e.g. straight from `parseRecords`) are skipped.
   * `extra` are alerts other checks found in the same batch (the session's integrity checks,
   * rules, the sequence model): they join this verdict and spend the same alert budget.
   */
  observe(events: SyscallEvent | Iterable<SyscallEvent>, extra?: readonly Alert[]): AnomalyVerdict {
    if (!this.config.enabled) return CLEAN;
    this.#begin();
    if (extra !== undefined) for (const a of extra) this.#push(a);
    if (typeof (events as SyscallEvent).syscall === 'string') {
      this.#one(events as SyscallEvent);
    } else if (Array.isArray(events)) {
      for (let i = 0; i < events.length; i++) this.#one(events[i] as SyscallEvent);
    } else {
      for (const e of events as Iterable<SyscallEvent>) this.#one(e);
    }
    return this.#finish();
  }

  /** Events per syscall name since construction or reset (names past the cap under `(other)`). A copy. */
  syscallCounts(): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    for (const [name, t] of this.#names) out.set(name, t.count);
    if (this.#overflowCount > 0) out.set(OVERFLOW_SYSCALL_KEY, this.#overflowCount);
    return out;
  }

  /** Cooldown left in ms (0 when not cooling down), in the detector's time (see `timeSource`). */
  cooldownRemainingMs(): number {
    const now = this.#timeline.tick();
    return this.#cooldownUntil > now ? this.#cooldownUntil - now : 0;
  }

  /** Lifetime counters (a copy). */
  stats(): DetectorStats {
    return { ...this.#stats, rejectedTimes: this.#timeline.rejectedTimes };
  }

  /** Forgets everything: counts, windows, cooldown, time base, stats. */
  reset(): void {
    this.#window.clear();
    this.#cooldownUntil = Number.NEGATIVE_INFINITY;
    this.#names.clear();
    this.#overflowCount = 0;
    this.#timeline.reset();
    this.#stats = emptyStats();
  }

  #begin(): void {
    this.#gen++;
    this.#alerts = undefined;
    this.#programAlerts.begin();
    if (this.#overflowAlerts !== undefined && this.#overflowAlerts.size > 0) this.#overflowAlerts.clear();
    this.#callEvents = 0;
    this.#peakTotal = 0;
    this.#peakDenied = 0;
    this.#totalOver = undefined;
    this.#deniedOver = undefined;
    this.#window.advance(this.#timeline.tick());
  }

  #one(e: SyscallEvent): void {
    const kind = (e as { kind?: string }).kind;
    if (kind !== 'syscall' && kind !== undefined) return;
    const time = e.time;
    if (time !== undefined && this.#timeline.readsEvents && Number.isFinite(time)) {
      this.#window.advance(this.#timeline.event(time));
    }
    const cfg = this.config;
    this.#callEvents++;
    this.#stats.events++;

    const name = e.syscall;
    let entry = this.#names.get(name);
    if (entry === undefined) entry = this.#track(name);
    let known: boolean;
    let forbidden: boolean;
    if (entry !== undefined) {
      entry.count++;
      known = entry.known;
      forbidden = entry.forbidden;
    } else {
      this.#overflowCount++;
      known = this.#compiled.baseline.has(name);
      forbidden = this.#compiled.forbidden.has(name);
    }
    // A listed program is judged against its own syscalls and denials (see programs.ts).
    const program = this.#programOf.of(e.process);
    if (program !== undefined) known = program.baseline.has(name);

    const total = this.#total;
    total.add(1);
    if (total.sum > this.#peakTotal) {
      this.#peakTotal = total.sum;
      const limit = cfg.maxTotalEventsPerMinute;
      if (limit > 0 && total.sum > limit && this.#totalOver === undefined) this.#totalOver = e;
    }

    if (forbidden) this.#alert('forbidden_syscall', entry, e);
    else if (!known && cfg.alertOnUnknownSyscall) {
      if (program === undefined) this.#alert('unknown_syscall', entry, e);
      else this.#programUnknown(program, entry, e);
    }

    if (e.denied === true && !this.#allowedDenial(e, program)) {
      this.#stats.deniedEvents++;
      const denied = this.#denied;
      denied.add(1);
      if (denied.sum > this.#peakDenied) {
        this.#peakDenied = denied.sum;
        const limit = cfg.maxDeniedEventsPerMinute;
        if (limit > 0 && denied.sum > limit && this.#deniedOver === undefined) this.#deniedOver = e;
      }
      this.#alert('denied_syscall', entry, e);
    }
  }

  /** True when the allowedDenials (the listed program's, else the config's) say normal runs make this denial. */
  #allowedDenial(e: SyscallEvent, program: CompiledProgram | undefined): boolean {
    if (!matchesAllowed(program?.allowed ?? this.#compiled.allowed, e)) return false;
    this.#stats.allowedDenials++;
    return true;
  }

  /** An unknown_syscall of a listed program: merged per (program, syscall), its message names the program. */
  #programUnknown(program: CompiledProgram, entry: Tracked | undefined, e: SyscallEvent): void {
    const dangerous = entry !== undefined ? entry.dangerous : this.#compiled.dangerous.has(e.syscall);
    const severity = dangerous ? 'critical' : this.config.severity.unknown_syscall;
    const alert = this.#programAlerts.unknown(program, e, severity, this.config.strictMode, countTarget);
    if (alert !== undefined) this.#push(alert);
  }

  /** Starts counting a new name, or returns undefined when the cap is reached (overflow). */
  #track(name: string): Tracked | undefined {
    // The overflow key takes one of the cap's slots, so the reported map never exceeds it.
    if (this.#names.size >= this.config.maxTrackedSyscalls - 1) return undefined;
    const c = this.#compiled;
    const entry: Tracked = {
      count: 0,
      known: c.baseline.has(name),
      dangerous: c.dangerous.has(name),
      forbidden: c.forbidden.has(name),
      gen: 0,
      unknownAlert: undefined,
      deniedAlert: undefined,
      forbiddenAlert: undefined,
    };
    this.#names.set(name, entry);
    return entry;
  }

  /** Adds a per-syscall alert to the verdict being built, merging it into an identical one (non-strict). */
  #alert(
    type: 'unknown_syscall' | 'denied_syscall' | 'forbidden_syscall',
    entry: Tracked | undefined,
    e: SyscallEvent,
  ): void {
    const strict = this.config.strictMode;
    if (!strict) {
      let existing: Alert | undefined;
      if (entry !== undefined) {
        if (entry.gen !== this.#gen) {
          entry.gen = this.#gen;
          entry.unknownAlert = undefined;
          entry.deniedAlert = undefined;
          entry.forbiddenAlert = undefined;
        }
        existing =
          type === 'unknown_syscall'
            ? entry.unknownAlert
            : type === 'denied_syscall'
              ? entry.deniedAlert
              : entry.forbiddenAlert;
      } else {
        existing = this.#overflowAlerts?.get(`${type}\0${e.syscall}`);
      }
      if (existing !== undefined) {
        existing.count++;
        countTarget(existing, e);
        return;
      }
    }

    const name = e.syscall;
    const sev = this.config.severity;
    let alert: Alert;
    if (type === 'unknown_syscall') {
      const dangerous = entry !== undefined ? entry.dangerous : this.#compiled.dangerous.has(name);
      alert = newAlert(
        type,
        dangerous ? 'critical' : sev.unknown_syscall,
        `unknown syscall '${name}' not in baseline`,
      );
    } else if (type === 'denied_syscall') {
      alert = newAlert(type, sev.denied_syscall, `denied syscall: ${name}`);
    } else {
      alert = newAlert(type, sev.forbidden_syscall, `forbidden syscall: ${name}`);
    }
    alert.syscall = name;
    describeEvent(alert, e);
    this.#push(alert);

    if (!strict) {
      if (entry === undefined) {
        this.#overflowAlerts ??= new Map();
        this.#overflowAlerts.set(`${type}\0${name}`, alert);
      } else if (type === 'unknown_syscall') entry.unknownAlert = alert;
      else if (type === 'denied_syscall') entry.deniedAlert = alert;
      else entry.forbiddenAlert = alert;
    }
  }

  #push(alert: Alert): void {
    if (this.#alerts === undefined) this.#alerts = [alert];
    else this.#alerts.push(alert);
  }

  #finish(): AnomalyVerdict {
    const cfg = this.config;
    const stats = this.#stats;
    const now = this.#timeline.current;
    const cooling = now < this.#cooldownUntil;
    if (this.#callEvents === 0 && this.#alerts === undefined) {
      // The seed: nothing parsed → clean, unless cooling down.
      if (!cooling) {
        stats.cleanVerdicts++;
        return CLEAN;
      }
      stats.suppressedVerdicts++;
      return suppressed('alert cooldown active', 0, this.#cooldownUntil - now);
    }

    const label = this.#compiled.windowLabel;
    // An untimed trace read under `auto` has no rate: its batches arrive as fast as it is read.
    const rates = cfg.ratesWithoutTimestamps || cfg.timeSource !== 'auto' || this.#timeline.eventDriven;
    const deniedLimit = rates ? cfg.maxDeniedEventsPerMinute : 0;
    if (deniedLimit > 0 && this.#peakDenied > deniedLimit)
      this.#push(
        rateAlert(
          'denied_rate',
          cfg.severity.denied_rate,
          this.#peakDenied,
          deniedLimit,
          label,
          this.#deniedOver,
        ),
      );
    const totalLimit = rates ? cfg.maxTotalEventsPerMinute : 0;
    if (totalLimit > 0 && this.#peakTotal > totalLimit)
      this.#push(
        rateAlert('total_rate', cfg.severity.total_rate, this.#peakTotal, totalLimit, label, this.#totalOver),
      );

    const alerts = this.#alerts;
    this.#alerts = undefined;
    if (alerts === undefined) {
      if (!cooling) {
        stats.cleanVerdicts++;
        return CLEAN;
      }
      stats.suppressedVerdicts++;
      return suppressed('alert cooldown active', 0, this.#cooldownUntil - now);
    }
    if (cooling) {
      stats.suppressedVerdicts++;
      stats.heldBackAlerts += alerts.length;
      return suppressed('alert cooldown active', alerts.length, this.#cooldownUntil - now);
    }
    const budget = cfg.maxAlertsPerMinute;
    if (budget > 0) {
      if (this.#budget.sum >= budget) {
        const cooldownMs = cfg.alertCooldownSecs * 1000;
        this.#cooldownUntil = now + cooldownMs;
        stats.suppressedVerdicts++;
        stats.heldBackAlerts += alerts.length;
        return suppressed(
          `alert budget exhausted (${budget}/${label}), cooldown ${cfg.alertCooldownSecs}s`,
          alerts.length,
          cooldownMs,
        );
      }
      this.#budget.add(1);
    }
    stats.alertVerdicts++;
    stats.alerts += alerts.length;
    return { kind: 'alert', alerts };
  }
}
