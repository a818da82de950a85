/**
 * Streaming scoring: each process's calls go through its program's model as they arrive;
 * its score (higher = more anomalous) is the peak of the combined score over checkpoints
 * (every `window` calls and at its end) in decades of rarity among normal processes (2 =
 * rarer than 99 % of them; see `ProgramModel.rarity`), compared with the threshold
 * calibrated at learn time for the chosen false-alarm rate. The call that first takes a
 * process over its threshold carries the explanation.
 */
import type { ProcessInfo } from '../context/types.js';
import type { SyscallEvent } from '../types.js';
import { callTarget, RecentTargets, TargetCopies } from './call-targets.js';
import { explainProcess, type SequenceExplanation } from './explain.js';
import { MAX_UNNAMED_PREFIX } from './learn.js';
import { loadProgram, type SequenceModel, sequenceModelProblem } from './model.js';
import { ProcessState } from './process-state.js';
import type { ProgramModel } from './program-model.js';
import { UNSEEN } from './vocabulary.js';

export interface SequenceScorerOptions {
  /** Share of normal processes allowed over the threshold. Defaults to the model's `falseAlarmRate` (1 %). */
  falseAlarmRate?: number | undefined;
  /** Program name for events whose process is unknown. Defaults to `'default'`. */
  program?: string | undefined;
  /**
   * Processes scored at once (a few KiB each); past it the least recently active one is
   * ended (scored as finished, alerting if over its threshold) and reported by the next
   * `end()` (or `takeEnded()`), which keeps at most as many results. Defaults to `4096` open
   * processes and `8192` results (a result is a few hundred bytes, a process's state a few
   * KiB). On a 200 MB audit log of 10 758 pids, 4096 split one more process than 8192 did,
   * and a 1 GB log peaked 36 MB lower.
   */
  maxProcesses?: number | undefined;
}

/** Processes a scorer scores at once unless told otherwise (`maxProcesses`). */
export const DEFAULT_MAX_PROCESSES = 4096;

/** Buffers of ended process states a scorer keeps per program for the next processes. */
const MAX_SPARE_BUFFERS = 16;

/** A model ready to score: built once, shared by any number of scorers. */
export class LoadedSequenceModel {
  readonly model: SequenceModel;
  readonly programs = new Map<string, ProgramModel>();

  /** Throws RangeError saying what is wrong with a model this version cannot read. */
  constructor(model: SequenceModel) {
    const problem = sequenceModelProblem(model);
    if (problem !== undefined) throw new RangeError(`sequence model: ${problem}`);
    this.model = model;
    for (const [name, stored] of Object.entries(model.programs)) {
      try {
        this.programs.set(name, loadProgram(stored, model.order, model.window, model.version));
      } catch (error) {
        throw new RangeError(`sequence model: program '${name}': ${(error as Error).message}`);
      }
    }
  }
}

/** Models built once per stored model object (a guard makes a session per request). */
const loadedModels = new WeakMap<object, LoadedSequenceModel>();

/**
 * The {@link LoadedSequenceModel} of a stored model, built on first use and shared after, so
 * validating a config and scoring with it read the model once. Throws RangeError as the
 * constructor does.
 */
export function loadSequenceModel(model: SequenceModel | LoadedSequenceModel): LoadedSequenceModel {
  if (isLoaded(model)) return model;
  let ready = loadedModels.get(model);
  if (ready === undefined) {
    ready = new LoadedSequenceModel(model);
    loadedModels.set(model, ready);
  }
  return ready;
}

/** The score of one process so far (or at its end). */
export interface ProcessSequenceScore {
  pid: number;
  program: string;
  calls: number;
  /** Peak combined score in decades of rarity among normal processes (2 = rarer than 99 % of them); +∞ for a program the model never learned. */
  score: number;
  threshold: number;
  overThreshold: boolean;
  /**
   * Whether an observation already carried this process's alert (the call that took it over):
   * a caller that raised it then raises nothing more for it here.
   */
  announced: boolean;
  /** Present when the process is over its threshold. */
  explanation?: SequenceExplanation | undefined;
  /**
   * Who made the process's last call and that call's trace line, as the scorer saw them: an
   * alert raised at the end (an exec, an exit, end of input) has no call of its own to say so.
   */
  process?: ProcessInfo | undefined;
  line?: number | undefined;
}

/** What one call did to its process's score. The object is reused: copy what you keep. */
export interface SequenceObservation {
  pid: number;
  program: string;
  calls: number;
  processScore: number;
  threshold: number;
  overThreshold: boolean;
  /** Set only on the call that first takes the process over its threshold. */
  explanation?: SequenceExplanation | undefined;
}

interface Tracked {
  program: string;
  /** Undefined for a program the model never learned (every call is then anomalous). */
  state: ProcessState | undefined;
  threshold: number;
  calls: number;
  /** Made a call since the eviction sweep last passed it (see `evictOne`). */
  active: boolean;
  alerted: boolean;
  explanation: SequenceExplanation | undefined;
  /** The first calls (name, line) of a process under the fallback name, in case the trace names it later. */
  prefix: Array<[string, number | undefined]> | undefined;
  /** Raw peak of the state and its rarity (the reported score), cached. */
  peak: number;
  score: number;
  /** Who made the last call (the event's process, before any exec renames the pid) and its line. */
  process: ProcessInfo | undefined;
  line: number | undefined;
  /** Files and peers of its latest calls that named one (events with process context only). */
  targets: RecentTargets | undefined;
}

export interface SequenceScorer {
  /** One call. */
  observe(event: SyscallEvent): SequenceObservation;
  /** One call by name, for plain call sequences; `line` is the trace line when known. */
  observeCall(pid: number, program: string, syscall: string, line?: number): SequenceObservation;
  /** The process ended (exit record): its final score, or undefined when it made no call. */
  endProcess(pid: number): ProcessSequenceScore | undefined;
  /** End of input: every process still open is ended; returns them and those ended since the last `end()` in order. */
  end(): ProcessSequenceScore[];
  /**
   * The processes pushed out past `maxProcesses` (scored as finished) since the last call or
   * `end()`, in order; they are then no longer returned by `end()`. A caller that never ends
   * (a followed audit log) reads them as it goes, so a pushed-out process over its threshold
   * alerts then and not only at the end.
   */
  takeEnded(): ProcessSequenceScore[];
  /** How many results `takeEnded()` would return now (cheap to test per record). */
  readonly endedCount: number;
  /**
   * Processes cut in two so far: pushed out past `maxProcesses` while still running, they made
   * a call again, and that call began a new process to the scorer (cheap to test per record).
   */
  readonly splitCount: number;
  /** The first such process, at the call it came back with. */
  readonly firstSplit: SequenceSplit | undefined;
}

/**
 * A process the scorer cut in two: its calls up to `calls` were scored as one process (ended
 * when it was pushed out), those from `line` on as another, so the order across the cut is not
 * judged. A program that keeps more processes running at once than the scorer holds can make
 * this happen on purpose, which is why a session reports it (`trace_lost`).
 */
export interface SequenceSplit {
  pid: number;
  program: string;
  /** Calls scored before the cut. */
  calls: number;
  /** Trace line of the call it came back with, when known. */
  line?: number | undefined;
}

/**
 * Creates a streaming scorer.
 *
 * @example
 * const scorer = createSequenceScorer(baseline.sequenceModel, { falseAlarmRate: 0.01 });
 * for (const event of events) {
 *   const o = scorer.observe(event);
 *   if (o.explanation) console.log(o.explanation.summary);
 * }
 * const processes = scorer.end();
 */
// One closure rather than a class of small methods: `observeCall` runs for every call, and
// locals captured here cost less than private fields and bound methods on that path.
export function createSequenceScorer(
  model: SequenceModel | LoadedSequenceModel,
  options: SequenceScorerOptions = {},
): SequenceScorer {
  const loaded = loadSequenceModel(model);
  const rate = options.falseAlarmRate ?? loaded.model.falseAlarmRate;
  if (!(rate > 0 && rate < 1)) throw new RangeError('falseAlarmRate must be between 0 and 1');
  const fallback = options.program ?? 'default';
  const onlyFallback = loaded.programs.size === 1 && loaded.programs.has(fallback);
  const maxProcesses = options.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const maxResults = options.maxProcesses ?? 8192;
  const thresholds = new Map<ProgramModel, number>();
  const open = new Map<number, Tracked>();
  // Processes pushed out of `open` and not known to have ended (pid → program and calls), oldest
  // first: a call from one of them is a process cut in two. Eight times as many as `open`
  // holds (32 768 by default, the context tracker's process table): a program that makes the
  // scorer forget one this way runs more live processes than that table holds, which raises
  // trace_lost of its own. Bounded so that a pid the kernel hands out again long after (an
  // audit log of thousands of processes) is not taken for its old owner.
  const pushedOut = new Map<number, { program: string; calls: number }>();
  const maxPushedOut = 8 * maxProcesses;
  let splitCount = 0;
  let firstSplit: SequenceSplit | undefined;
  const ended: ProcessSequenceScore[] = [];
  // Buffers of ended processes' states, per program, for the next ones: on an audit log a
  // process ends (is pushed out) for nearly every one that starts.
  const spare = new Map<ProgramModel, ArrayBuffer[]>();
  const recycle = (state: ProcessState): void => {
    const buffers = spare.get(state.model);
    if (buffers === undefined) spare.set(state.model, [state.buffer]);
    else if (buffers.length < MAX_SPARE_BUFFERS) buffers.push(state.buffer);
  };
  const result: SequenceObservation = {
    pid: 0,
    program: fallback,
    calls: 0,
    processScore: 0,
    threshold: 0,
    overThreshold: false,
  };

  const start = (pid: number, program: string, line: number | undefined): Tracked => {
    if (open.size >= maxProcesses) evictOne();
    const before = pushedOut.get(pid);
    if (before !== undefined) {
      pushedOut.delete(pid);
      if (before.program === program) {
        splitCount++;
        firstSplit ??= { pid, program, calls: before.calls, line };
      }
    }
    const programModel = loaded.programs.get(program);
    let threshold = Number.POSITIVE_INFINITY;
    if (programModel !== undefined) {
      threshold = thresholds.get(programModel) ?? programModel.rarity(programModel.threshold(rate));
      thresholds.set(programModel, threshold);
    }
    const tracked: Tracked = {
      program,
      state:
        programModel === undefined
          ? undefined
          : new ProcessState(programModel, spare.get(programModel)?.pop()),
      threshold,
      calls: 0,
      active: true,
      alerted: false,
      explanation: undefined,
      peak: Number.NEGATIVE_INFINITY,
      score: Number.NEGATIVE_INFINITY,
      prefix: program === fallback ? [] : undefined,
      process: undefined,
      line: undefined,
      targets: undefined,
    };
    open.set(pid, tracked);
    return tracked;
  };

  // The peak moves only at checkpoints: its rarity is recomputed then, not on every call.
  const scoreOf = (t: Tracked): number => {
    if (t.state === undefined) return Number.POSITIVE_INFINITY;
    if (t.state.peak !== t.peak) {
      t.peak = t.state.peak;
      t.score = t.state.model.rarity(t.peak);
    }
    return t.score;
  };

  const explain = (t: Tracked, pid: number, score: number): SequenceExplanation => {
    const explanation =
      t.state === undefined
        ? unknownProgram(t, pid, [...loaded.programs.keys()])
        : explainProcess(t.state, t.program, pid, score, t.threshold, rate);
    t.targets?.annotate(explanation);
    return explanation;
  };
  const copies = new TargetCopies();

  const finish = (pid: number, t: Tracked): ProcessSequenceScore => {
    if (t.state !== undefined) t.state.finish();
    const score = scoreOf(t);
    const over = t.state === undefined || score > t.threshold;
    const out: ProcessSequenceScore = {
      pid,
      program: t.program,
      calls: t.calls,
      score,
      threshold: t.threshold,
      overThreshold: over,
      announced: t.alerted,
    };
    if (over) out.explanation = explain(t, pid, score);
    if (t.process !== undefined) out.process = t.process;
    if (t.line !== undefined) out.line = t.line;
    // The result and its explanation are copies: nothing reads the state again.
    if (t.state !== undefined) recycle(t.state);
    t.state = undefined;
    return out;
  };

  // The process of the latest call: consecutive calls are mostly one process's, and this
  // saves a Map lookup on each. Forgotten whenever a process leaves `open`.
  let lastPid = Number.NaN;
  let lastTracked: Tracked | undefined;
  const close = (pid: number): void => {
    open.delete(pid);
    if (pid === lastPid) lastPid = Number.NaN;
  };

  const endOne = (pid: number): ProcessSequenceScore | undefined => {
    const t = open.get(pid);
    if (t === undefined) return undefined;
    close(pid);
    const out = finish(pid, t);
    // Results wait for end(); a caller that never calls it must not make them pile up. What
    // goes first is the oldest result under its threshold, then the oldest over it whose alert
    // the caller already had from `observe`: any other is an alert not seen yet (fail closed),
    // so it goes only when nothing else is left.
    if (ended.length >= maxResults) {
      let drop = ended.findIndex((r) => !r.overThreshold);
      if (drop < 0) drop = ended.findIndex((r) => r.announced);
      ended.splice(Math.max(drop, 0), 1);
    }
    ended.push(out);
    return out;
  };

  // Second chance (CLOCK) over the open processes in insertion order: the oldest one that
  // made no call since the sweep last passed it is ended; one that did moves to the back with
  // its mark cleared. So a daemon still making calls is not cut in two because it started
  // long ago (audit logs have no exits: every process stays open until pushed out). Ends
  // within one round: a full pass clears every mark.
  const evictOne = (): void => {
    for (const [pid, t] of open) {
      if (!t.active) {
        endOne(pid);
        if (pushedOut.size >= maxPushedOut) pushedOut.delete(pushedOut.keys().next().value as number);
        pushedOut.set(pid, { program: t.program, calls: t.calls });
        return;
      }
      t.active = false;
      open.delete(pid);
      open.set(pid, t);
    }
  };

  const resolve = (event: SyscallEvent): string => {
    const p = event.process;
    if (p?.exe !== undefined && loaded.programs.has(p.exe)) return p.exe;
    // comm only where the exe is unknown: a process names itself (prctl PR_SET_NAME), so an
    // executable the model never learned could take a learned program's comm and be judged
    // as that program instead of as one the model never learned.
    if (p?.exe === undefined && p?.comm !== undefined && loaded.programs.has(p.comm)) return p.comm;
    if (p?.exe === undefined && p?.comm === undefined) return fallback;
    // A model learned without process context knows only the fallback name: everything is it.
    // Otherwise a named program the model never learned is unknown (fail closed).
    return onlyFallback ? fallback : (p?.exe ?? p?.comm ?? fallback);
  };

  /** The process the latest call went to (for `observe` to note who made it). */
  let touched: Tracked | undefined;
  // While a process's first calls are replayed under its name, no observation reaches the
  // caller: one that takes it over its threshold is announced by the call that named it.
  let replaying = false;
  const observeCall = (pid: number, program: string, syscall: string, line?: number): SequenceObservation =>
    observeOne(pid, program, syscall, line, undefined);
  /** One call; `target` is the file or peer it named, when its event says so. */
  const observeOne = (
    pid: number,
    program: string,
    syscall: string,
    line: number | undefined,
    target: string | undefined,
  ): SequenceObservation => {
    let t = pid === lastPid ? lastTracked : open.get(pid);
    if (t !== undefined && t.program !== program) {
      if (t.program === fallback && t.prefix !== undefined && t.prefix.length <= MAX_UNNAMED_PREFIX) {
        // The same process: its first calls only came before the trace named its program
        // (a child's first call printed before its parent's clone returned). Replay them.
        const prefix = t.prefix;
        close(pid);
        replaying = true;
        for (const [name, at] of prefix) observeCall(pid, program, name, at);
        replaying = false;
      } else endOne(pid);
      t = open.get(pid);
    }
    if (t === undefined) t = start(pid, program, line);
    lastPid = pid;
    lastTracked = t;
    if (t.prefix !== undefined) {
      if (t.prefix.length <= MAX_UNNAMED_PREFIX) t.prefix.push([syscall, line]);
      else t.prefix = undefined;
    }
    t.calls++;
    t.active = true;
    t.line = line;
    if (target !== undefined && line !== undefined)
      (t.targets ??= new RecentTargets()).note(line, copies.copy(target));
    touched = t;
    result.pid = pid;
    result.program = program;
    result.calls = t.calls;
    result.threshold = t.threshold;
    result.explanation = undefined;
    const state = t.state;
    if (state !== undefined) {
      const token = state.model.vocabulary.id(syscall);
      state.observe(token, line ?? -1, token === UNSEEN ? syscall : undefined);
    }
    const score = scoreOf(t);
    result.processScore = score;
    // A process not yet named whose fallback the model lacks waits a few calls for its name
    // before it counts as an unknown program (at its end it does, if it never got one).
    const pending = state === undefined && t.prefix !== undefined;
    result.overThreshold = !pending && (state === undefined || score > t.threshold);
    if (result.overThreshold && !t.alerted && !replaying) {
      t.alerted = true;
      t.explanation = explain(t, pid, score);
      result.explanation = t.explanation;
    }
    return result;
  };

  return {
    observe: (event) => {
      const o = observeOne(event.pid ?? 0, resolve(event), event.syscall, event.line, callTarget(event));
      (touched as Tracked).process = event.process;
      return o;
    },
    observeCall,
    endProcess(pid) {
      // A process pushed out earlier ended without another call: not cut in two, and its pid
      // may go to a new process.
      pushedOut.delete(pid);
      const out = endOne(pid);
      if (out !== undefined) ended.pop();
      return out;
    },
    takeEnded() {
      return ended.splice(0, ended.length);
    },
    get endedCount() {
      return ended.length;
    },
    get splitCount() {
      return splitCount;
    },
    get firstSplit() {
      return firstSplit;
    },
    end() {
      // End of input ends the processes pushed out too: none of them can call again.
      pushedOut.clear();
      const out = ended.splice(0, ended.length);
      for (const [pid, t] of [...open]) {
        close(pid);
        out.push(finish(pid, t));
      }
      return out;
    },
  };
}

/** A loaded model from any copy of this package (dual-package hazard: not `instanceof`). */
function isLoaded(model: SequenceModel | LoadedSequenceModel): model is LoadedSequenceModel {
  return model instanceof LoadedSequenceModel || ('programs' in model && model.programs instanceof Map);
}

function unknownProgram(t: Tracked, pid: number, known: string[]): SequenceExplanation {
  const listed = known.slice(0, 5).join(', ') + (known.length > 5 ? ', …' : '');
  return {
    program: t.program,
    pid,
    calls: t.calls,
    score: Number.POSITIVE_INFINITY,
    threshold: t.threshold,
    summary: `${t.program} pid ${pid}: no sequence model for this program (the model knows: ${listed || 'none'})`,
    window: { meanCost: Number.POSITIVE_INFINITY, normalMeanCost: undefined, calls: [] },
    novel: { total: 0, calls: [], pairs: [] },
    channels: {} as SequenceExplanation['channels'],
  };
}
