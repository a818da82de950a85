/**
 * Baselines learned from known-good runs. A baseline is a detector config (JSON the CLI's
 * `--baseline`/`--config` read as is): the syscalls seen, and rate limits set above the
 * busiest window seen, measured with the detector's own rolling window and time rules so a
 * run like the learned one stays clean under it.
 */
import {
  type AllowedDenial,
  DEFAULT_DETECTOR_CONFIG,
  resolveDetectorConfig,
  type TimeSource,
} from '../detect/config.js';
import { configPrograms } from '../detect/programs.js';
import { RollingCounter, RollingWindow, Timeline } from '../detect/window.js';
import { SyscanError } from '../errors.js';
import type { SyscallEvent } from '../types.js';
import {
  compareDenials,
  denialKey,
  type LearnedProgram,
  type ProgramFacts,
  ProgramLearner,
  ProgramMerger,
} from './program-learning.js';

export type { LearnedProgram, ProgramFacts } from './program-learning.js';

/** What a learner saw; kept in the baseline for people and for merging (the detector ignores it). */
export interface LearnedFacts {
  events: number;
  deniedEvents: number;
  /** Most events in one rolling window. */
  peakEventsPerWindow: number;
  /** Most denied events in one rolling window. */
  peakDeniedPerWindow: number;
  windowMs: number;
  /** Factor the limits were set at over the peaks. */
  headroom: number;
  /** Telemetry sources seen (`strace`, `audit`). */
  sources: string[];
  /** Distinct syscalls seen past the learner's cap, not in `baselineSyscalls` (0 normally). */
  droppedSyscalls: number;
  /** Event time span seen (ms), when events carried timestamps. */
  firstTime?: number;
  lastTime?: number;
  /** Number of baselines merged into this one (absent for a single run). */
  merged?: number;
  /** True when the events carried timestamps: only then are rate limits learned. */
  timed?: boolean;
  /** Distinct processes (pids) seen; summed over merged baselines. */
  processes?: number;
  /** How much of each program of `programs` was seen. */
  programs?: Record<string, ProgramFacts>;
  /** Programs past the learner's cap, not in `programs` (judged by the top-level union). */
  droppedPrograms?: number;
  /** Events of no named process (no execve or exe/comm in the input): learned into the top-level union only. */
  unnamedEvents?: number;
  /** Inputs (files, stdin) learned from; set by the CLI. */
  inputs?: number;
  /**
   * The sequence model learned alongside (set by the CLI): its programs, how many have a
   * calibrated threshold, and those whose threshold cannot hold the model's false-alarm rate
   * (too few normal runs: see `sequenceCalibration`), each with the share of normal runs
   * expected over it.
   */
  sequence?: {
    programs: number;
    calibrated: number;
    minCalibrationProcesses: number;
    falseAlarmRate?: number;
    rateNotHeld?: Array<{ program: string; heldOutScores: number; expectedFalseAlarmRate: number }>;
  };
}

/** A learned baseline: a valid detector config plus what was learned. */
export interface Baseline {
  $schema?: string;
  description: string;
  /** Syscalls seen, sorted. */
  baselineSyscalls: string[];
  maxTotalEventsPerMinute: number;
  maxDeniedEventsPerMinute: number;
  /** Present when learned over a window other than the default 60 000 ms. */
  windowMs?: number;
  /** Denials the normal runs made (syscall, errno, path): a re-run making them stays clean. */
  allowedDenials?: AllowedDenial[];
  /** Per program (exe, else comm): its own syscalls and denials; the detector judges its events by them. */
  programs?: Record<string, LearnedProgram>;
  /** Always false: a learned limit is per window of event time, never of how fast a file is read. */
  ratesWithoutTimestamps: false;
  learned: LearnedFacts;
}

export interface BaselineLearnerOptions {
  /** Rolling window (ms); must match the detector's. Defaults to `60_000`. */
  windowMs?: number | undefined;
  /** As the detector's `timeSource`. Defaults to `'auto'`. */
  timeSource?: TimeSource | undefined;
  /** Clock in ms. Defaults to `Date.now`. */
  now?: (() => number) | undefined;
  /** Most distinct syscall names kept. Defaults to `4096` (every arch has fewer than 1000). */
  maxSyscalls?: number | undefined;
}

export interface ToBaselineOptions {
  /** Limits = ceil(peak × headroom). Defaults to `1.5`. */
  headroom?: number | undefined;
  /** Lowest `maxTotalEventsPerMinute` set, however quiet the run was. Defaults to `20`. */
  minTotalEventsPerMinute?: number | undefined;
  /** Overrides the generated description. */
  description?: string | undefined;
  /** A `$schema` URL or path to put in the file (for editors). */
  $schema?: string | undefined;
}

export type LearnBaselineOptions = BaselineLearnerOptions & ToBaselineOptions;

/** Learns a baseline from events fed in batches as they arrive (one batch = one clock reading, as in the detector). */
export class BaselineLearner {
  readonly windowMs: number;
  readonly #maxSyscalls: number;
  readonly #timeline: Timeline;
  readonly #total = new RollingCounter();
  readonly #denied = new RollingCounter();
  readonly #window: RollingWindow;
  readonly #syscalls = new Set<string>();
  readonly #dropped = new Set<string>();
  #droppedCount = 0;
  readonly #sources = new Set<string>();
  #events = 0;
  #deniedEvents = 0;
  #peak = 0;
  #peakDenied = 0;
  #firstTime: number | undefined;
  #lastTime: number | undefined;
  /** Denials seen, by `syscall errno path` (capped: a run denied everything is no baseline). */
  readonly #denials = new Map<string, AllowedDenial>();
  readonly #programs = new ProgramLearner();

  /** @throws SyscanError `ERR_SYSCAN_CONFIG` for bad options. */
  constructor(options: BaselineLearnerOptions = {}) {
    // The detector's validation, so the two never disagree on what a window is.
    const cfg = resolveDetectorConfig({
      windowMs: options.windowMs,
      timeSource: options.timeSource,
      now: options.now,
    });
    const max = options.maxSyscalls ?? 4096;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new SyscanError('ERR_SYSCAN_CONFIG', `maxSyscalls must be a positive integer, got ${max}`);
    }
    this.windowMs = cfg.windowMs;
    this.#maxSyscalls = max;
    this.#window = new RollingWindow(cfg.windowMs, [this.#total, this.#denied]);
    this.#timeline = new Timeline(cfg.timeSource, cfg.now, cfg.windowMs);
  }

  /** Takes one event or a batch of them into account. Non-syscall records are skipped. */
  observe(events: SyscallEvent | Iterable<SyscallEvent>): void {
    this.#window.advance(this.#timeline.tick());
    if (typeof (events as SyscallEvent).syscall === 'string') this.#one(events as SyscallEvent);
    else for (const e of events as Iterable<SyscallEvent>) this.#one(e);
  }

  /** Events seen so far. */
  get events(): number {
    return this.#events;
  }

  /** The allowedDenials entry of a denied call, remembered (capped: a run denied everything is no baseline). */
  #denial(e: SyscallEvent): AllowedDenial {
    const path = e.paths?.[0];
    const denial: AllowedDenial = {
      syscall: e.syscall,
      ...(e.errno !== undefined ? { errno: e.errno } : {}),
      ...(path !== undefined ? { path: globEscape(path) } : {}),
    };
    const key = denialKey(denial);
    if (!this.#denials.has(key) && this.#denials.size < MAX_ALLOWED_DENIALS) this.#denials.set(key, denial);
    return denial;
  }

  /** The baseline so far (the learner can keep learning afterwards). */
  toBaseline(options: ToBaselineOptions = {}): Baseline {
    const headroom = options.headroom ?? 1.5;
    const floor = options.minTotalEventsPerMinute ?? 20;
    const problems: string[] = [];
    if (typeof headroom !== 'number' || !Number.isFinite(headroom) || headroom < 1)
      problems.push(`headroom must be a number >= 1, got ${headroom}`);
    if (!Number.isSafeInteger(floor) || floor < 1)
      problems.push(`minTotalEventsPerMinute must be a positive integer, got ${floor}`);
    if (problems.length > 0)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `invalid baseline options: ${problems.join('; ')}`);

    const learned: LearnedFacts = {
      events: this.#events,
      deniedEvents: this.#deniedEvents,
      peakEventsPerWindow: this.#peak,
      peakDeniedPerWindow: this.#peakDenied,
      windowMs: this.windowMs,
      headroom,
      sources: [...this.#sources].sort(),
      droppedSyscalls: this.#droppedCount,
    };
    if (this.#firstTime !== undefined) learned.firstTime = this.#firstTime;
    if (this.#lastTime !== undefined) learned.lastTime = this.#lastTime;
    learned.timed = this.#firstTime !== undefined;
    // Per-program facts when the events named their programs (the context tracker ran).
    const programs = this.#programs.toPrograms();
    if (Object.keys(programs).length > 0 || this.#programs.droppedPrograms > 0) {
      learned.processes = this.#programs.processes;
      learned.programs = this.#programs.facts();
      if (this.#programs.droppedPrograms > 0) learned.droppedPrograms = this.#programs.droppedPrograms;
      if (this.#programs.unnamedEvents > 0) learned.unnamedEvents = this.#programs.unnamedEvents;
    }
    const allowed = [...this.#denials.values()].sort(compareDenials);
    return build([...this.#syscalls], learned, floor, options, allowed, programs);
  }

  #one(e: SyscallEvent): void {
    const kind = (e as { kind?: string }).kind;
    if (kind !== 'syscall' && kind !== undefined) return;
    const time = e.time;
    if (time !== undefined && this.#timeline.readsEvents && Number.isFinite(time)) {
      this.#window.advance(this.#timeline.event(time));
      if (this.#firstTime === undefined || time < this.#firstTime) this.#firstTime = time;
      if (this.#lastTime === undefined || time > this.#lastTime) this.#lastTime = time;
    }
    this.#events++;
    const name = e.syscall;
    if (!this.#syscalls.has(name)) {
      if (this.#syscalls.size < this.#maxSyscalls) this.#syscalls.add(name);
      else if (!this.#dropped.has(name)) {
        this.#droppedCount++;
        // Remember a few, to count distinct names without growing without bound.
        if (this.#dropped.size < 1024) this.#dropped.add(name);
      }
    }
    if (e.source !== undefined && !this.#sources.has(e.source)) this.#sources.add(e.source);
    this.#total.add(1);
    if (this.#total.sum > this.#peak) this.#peak = this.#total.sum;
    let denial: AllowedDenial | undefined;
    if (e.denied === true) {
      this.#deniedEvents++;
      denial = this.#denial(e);
      this.#denied.add(1);
      if (this.#denied.sum > this.#peakDenied) this.#peakDenied = this.#denied.sum;
    }
    this.#programs.observe(e, denial);
  }
}

/** Most distinct denials a baseline allows. */
const MAX_ALLOWED_DENIALS = 256;

/** Learns a baseline from one batch of events (e.g. `parseSyscallEvents(trace)` of a known-good run). */
export function learnBaseline(events: Iterable<SyscallEvent>, options: LearnBaselineOptions = {}): Baseline {
  const learner = new BaselineLearner(options);
  learner.observe(events);
  return learner.toBaseline(options);
}

/**
 * Combines baselines of several known-good runs: the union of their syscalls and the highest
 * of each limit. All must share one window length.
 *
 * @throws SyscanError `ERR_SYSCAN_CONFIG` when one is not a valid baseline or windows differ.
 */
export function mergeBaselines(...baselines: Baseline[]): Baseline {
  if (baselines.length === 0)
    throw new SyscanError('ERR_SYSCAN_CONFIG', 'mergeBaselines needs at least one baseline');
  const syscalls = new Set<string>();
  const sources = new Set<string>();
  const denials = new Map<string, AllowedDenial>();
  const programs = new ProgramMerger();
  let total = 0;
  let denied = 0;
  let windowMs: number | undefined;
  const learned: LearnedFacts = {
    events: 0,
    deniedEvents: 0,
    peakEventsPerWindow: 0,
    peakDeniedPerWindow: 0,
    windowMs: DEFAULT_DETECTOR_CONFIG.windowMs,
    headroom: 1,
    sources: [],
    droppedSyscalls: 0,
    merged: 0,
  };
  let processes = 0;
  let droppedPrograms = 0;
  let unnamedEvents = 0;
  baselines.forEach((b, i) => {
    let cfg: ReturnType<typeof resolveDetectorConfig>;
    try {
      cfg = resolveDetectorConfig(b);
    } catch (error) {
      throw new SyscanError('ERR_SYSCAN_CONFIG', `baseline ${i + 1}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (windowMs !== undefined && cfg.windowMs !== windowMs) {
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `baseline ${i + 1} was learned over a ${cfg.windowMs} ms window, the others over ${windowMs} ms: limits cannot be merged`,
      );
    }
    windowMs = cfg.windowMs;
    for (const s of cfg.baselineSyscalls) syscalls.add(s);
    for (const a of cfg.allowedDenials) {
      if (denials.size < MAX_ALLOWED_DENIALS) denials.set(denialKey(a), a);
    }
    total = Math.max(total, cfg.maxTotalEventsPerMinute);
    denied = Math.max(denied, cfg.maxDeniedEventsPerMinute);
    const l = (b as Partial<Baseline>).learned;
    learned.merged! += l?.merged ?? 1;
    programs.add(configPrograms(cfg), l?.programs);
    if (l === undefined || typeof l !== 'object') return;
    processes += num(l.processes);
    droppedPrograms += num(l.droppedPrograms);
    // A baseline without per-program facts learned every event into the union only.
    unnamedEvents += l.programs === undefined ? num(l.events) : num(l.unnamedEvents);
    learned.events += num(l.events);
    learned.deniedEvents += num(l.deniedEvents);
    learned.peakEventsPerWindow = Math.max(learned.peakEventsPerWindow, num(l.peakEventsPerWindow));
    learned.peakDeniedPerWindow = Math.max(learned.peakDeniedPerWindow, num(l.peakDeniedPerWindow));
    learned.headroom = Math.max(learned.headroom, num(l.headroom));
    learned.droppedSyscalls += num(l.droppedSyscalls);
    if (Array.isArray(l.sources)) for (const s of l.sources) if (typeof s === 'string') sources.add(s);
    // Timed when any run was: the limits then come from those runs (an untimed run's are 0, none).
    if (l.timed === true || (l.timed === undefined && typeof l.firstTime === 'number')) learned.timed = true;
    else learned.timed ??= false;
    if (typeof l.firstTime === 'number')
      learned.firstTime = Math.min(learned.firstTime ?? Number.POSITIVE_INFINITY, l.firstTime);
    if (typeof l.lastTime === 'number')
      learned.lastTime = Math.max(learned.lastTime ?? Number.NEGATIVE_INFINITY, l.lastTime);
  });
  learned.windowMs = windowMs ?? DEFAULT_DETECTOR_CONFIG.windowMs;
  learned.sources = [...sources].sort();
  const allowed = [...denials.values()].sort(compareDenials);
  const merged = programs.toPrograms();
  droppedPrograms += programs.droppedPrograms;
  if (Object.keys(merged).length > 0 || droppedPrograms > 0) {
    learned.processes = processes;
    learned.programs = programs.facts();
    if (droppedPrograms > 0) learned.droppedPrograms = droppedPrograms;
    if (unnamedEvents > 0) learned.unnamedEvents = unnamedEvents;
  }
  const out: Baseline = {
    description: `Baseline merged from ${learned.merged} runs: ${syscalls.size} syscalls${ofPrograms(merged)}, ${allowed.length} allowed denials, ${learned.events} events.`,
    baselineSyscalls: [...syscalls].sort(),
    maxTotalEventsPerMinute: total,
    maxDeniedEventsPerMinute: denied,
    ...(allowed.length > 0 ? { allowedDenials: allowed } : {}),
    ...(Object.keys(merged).length > 0 ? { programs: merged } : {}),
    ratesWithoutTimestamps: false,
    learned,
  };
  if (learned.windowMs !== DEFAULT_DETECTOR_CONFIG.windowMs) out.windowMs = learned.windowMs;
  return out;
}

function build(
  syscalls: string[],
  learned: LearnedFacts,
  floor: number,
  options: ToBaselineOptions,
  allowed: AllowedDenial[],
  programs: Record<string, LearnedProgram>,
): Baseline {
  const headroom = learned.headroom;
  const per = learned.windowMs === 60_000 ? 'minute' : `${learned.windowMs} ms`;
  // Without timestamps a run has no rate: its size is not a limit (0 = none).
  const timed = learned.timed !== false;
  const total = timed ? Math.max(floor, Math.ceil(learned.peakEventsPerWindow * headroom)) : 0;
  const denied = !timed
    ? 0
    : learned.peakDeniedPerWindow > 0
      ? Math.ceil(learned.peakDeniedPerWindow * headroom)
      : DEFAULT_DETECTOR_CONFIG.maxDeniedEventsPerMinute;
  const limits = timed
    ? `limits are the busiest ${per} seen (${learned.peakEventsPerWindow} events, ${learned.peakDeniedPerWindow} denied) × ${headroom}`
    : 'no rate limits (the events carried no timestamps)';
  const out: Baseline = {
    description:
      options.description ??
      `Baseline learned from ${learned.events} syscall events: ${syscalls.length} syscalls${ofPrograms(programs)}, ` +
        `${allowed.length} allowed denials; ${limits}.`,
    baselineSyscalls: syscalls.sort(),
    maxTotalEventsPerMinute: total,
    maxDeniedEventsPerMinute: denied,
    ...(allowed.length > 0 ? { allowedDenials: allowed } : {}),
    ...(Object.keys(programs).length > 0 ? { programs } : {}),
    ratesWithoutTimestamps: false,
    learned,
  };
  if (options.$schema !== undefined) {
    // Key order of the file: $schema first.
    return {
      $schema: options.$schema,
      ...out,
      ...(learned.windowMs !== 60_000 ? { windowMs: learned.windowMs } : {}),
    };
  }
  if (learned.windowMs !== 60_000) out.windowMs = learned.windowMs;
  return out;
}

/** ` of 3 programs` when the baseline has per-program entries. */
function ofPrograms(programs: Record<string, LearnedProgram>): string {
  const n = Object.keys(programs).length;
  return n === 0 ? '' : ` of ${n} program${n === 1 ? '' : 's'}`;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** A literal path as a glob that matches only it (`*`, `?` and `[` escaped as classes). */
function globEscape(path: string): string {
  return path.replace(/[*?[]/g, (c) => `[${c}]`);
}
