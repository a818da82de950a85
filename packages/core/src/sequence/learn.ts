/**
 * Learns a sequence model from normal runs: per program, a process's calls in order (pids
 * of one trace kept apart, traces kept apart from each other). Counts go into the model as
 * each process ends; processes are also kept (up to a call budget) to calibrate: k-fold over
 * processes, each fold scored by a model learned from the others, so the threshold reflects
 * normal processes the model did not see, as it will meet them.
 */
import type { SyscallEvent } from '../types.js';
import { calibrate, keptMixCounts } from './calibrate.js';
import { inCanonicalOrder } from './canonical.js';
import { ExemplarCollector, type ProcessSets, setsOf } from './exemplars.js';
import { MAX_ORDER } from './gram-key.js';
import { addCounts } from './kneser-ney.js';
import { MAX_MIX_EXEMPLARS, MixProfiles } from './mix.js';
import { SEQUENCE_MODEL_FORMAT, SEQUENCE_MODEL_VERSION, type SequenceModel, storeProgram } from './model.js';
import { CHANNELS, type ChannelName } from './program-model.js';
import { programOf } from './program-name.js';
import { Vocabulary } from './vocabulary.js';

export interface SequenceLearnerOptions {
  /** n-gram order (1…6). Defaults to `6`. */
  order?: number | undefined;
  /** Calls per window (the window channel, explanations, checkpoints). Defaults to `16`. */
  window?: number | undefined;
  /** Folds for out-of-fold calibration. Defaults to `5`. */
  folds?: number | undefined;
  /** False-alarm rate scorers default to. Defaults to `0.01`. */
  falseAlarmRate?: number | undefined;
  /** Channel weights of the combined score (scale each channel's rarity; 0 leaves it out); unnamed channels keep their defaults. */
  weights?: Partial<Record<ChannelName, number>> | undefined;
  /** Program name for events whose process is unknown. Defaults to `'default'`. */
  program?: string | undefined;
  /** Distinct normal-process sets kept per program. Defaults to `2000`. */
  maxExemplars?: number | undefined;
  /** Calls kept for calibration over all programs (1 byte each). Defaults to `32_000_000`. */
  maxCalibrationCalls?: number | undefined;
  /** Processes open at once (live pids); past it the oldest is ended. Defaults to `65_536`. */
  maxOpenProcesses?: number | undefined;
  /** Programs learned; calls of programs past it are not learned (they will score as unknown). Defaults to `10_000`. */
  maxPrograms?: number | undefined;
}

/**
 * Weights of the combined score unless told otherwise: each channel's rarity (decades) is
 * multiplied by its weight and they add up; 0 leaves a channel out (it is still measured and
 * explained: the costliest window is what an explanation shows). Chosen on five benches:
 * bench/sequence-adfa-ld.mjs (a 233-normal, 186-attack sample of ADFA-LD, the set issue 13's
 * target is stated in), bench/sequence-server-traces.mjs (an ADFA-LD-like set of real
 * sshd/vsftpd/web server traces, with and without verbatim repeats of training processes),
 * bench/sequence-eval.mjs (UNM) and bench/sequence-own-traces.mjs (everyday tools).
 *
 * The call-set cosine leads: on ADFA-LD's held-out traces (none repeats a training one) it is
 * the one channel well past stide (AUC 0.79 alone, stide 0.71; every other channel 0.45–0.71),
 * and on the server traces without repeats it is level with the best. The others break its
 * ties and catch what a set cannot: the mismatch rate (order), the mix (proportions) and the
 * set difference, which is what ranks verbatim repeats of normal processes lowest (server
 * traces with repeats 0.882 → 0.905). The previous default (pair-set distance 1, mismatch
 * rate 1, mix 1, set difference 2) scored 0.586 on the ADFA-LD sample, 0.905 / 0.653 on the
 * server traces with / without repeats, UNM 0.896 pooled / 0.753 per set, everyday tools
 * 0.964; these weights 0.779, 0.905 / 0.690, 0.891 / 0.752 and 0.964. The mean cost and the
 * pair-set distance add nothing once these count (ADFA-LD 0.78 → 0.77 with either). Programs
 * of fewer than 50 normal processes have {@link DEFAULT_FEW_PROCESS_WEIGHTS} instead.
 */
export const DEFAULT_CHANNEL_WEIGHTS: Readonly<Record<ChannelName, number>> = Object.freeze({
  meanCost: 0,
  windowCost: 0,
  novelty: 0,
  callSetDistance: 0,
  pairSetDistance: 0,
  mismatchRate: 0.5,
  mixDistance: 0.5,
  setDifference: 0.5,
  callSetCosine: 6,
});

/**
 * The default weights of a program learned from fewer than 50 normal processes, which the
 * nearest-neighbour channels (call set, mix, set difference) and the mean cost do not suit
 * (see `calibrate.ts`): the pair-set distance and the mismatch rate, as before the call set.
 * A new pair (read→socket in an exfiltrating loop) is what tells there: scored by the
 * mismatch rate alone, the runner's kill test (test/sequence-kill.test.ts) saw the loop
 * killed before its socket, or with the socket outside the explained window, one run in two.
 */
export const DEFAULT_FEW_PROCESS_WEIGHTS: Readonly<Record<ChannelName, number>> = Object.freeze({
  meanCost: 0,
  windowCost: 0,
  novelty: 0,
  callSetDistance: 0,
  pairSetDistance: 1,
  mismatchRate: 1,
  mixDistance: 0,
  setDifference: 0,
  callSetCosine: 0,
});

/** What the learner keeps of one program. */
export interface ProgramLearning {
  vocabulary: Vocabulary;
  counts: Map<number, number>;
  exemplars: ExemplarCollector;
  calls: Uint32Array;
  pairs: Set<number>;
  processes: number;
  totalCalls: number;
  /** Token sequences kept for calibration, and their sets. */
  kept: Uint8Array[];
  keptSets: ProcessSets[];
  /** Processes learned but not kept (budget spent): their counts stay in every fold. */
  unkept: number;
}

/** Calls a process may make before the trace names its program that are moved to that program. */
export const MAX_UNNAMED_PREFIX = 8;

interface OpenProcess {
  program: ProgramLearning;
  tokens: Uint8Array;
  length: number;
}

export class SequenceLearner {
  readonly order: number;
  readonly window: number;
  readonly #options: SequenceLearnerOptions;
  readonly #programs = new Map<string, ProgramLearning>();
  readonly #open = new Map<number, OpenProcess>();
  /** Pids ended past `maxOpenProcesses` that have not exited, oldest first, as many as `#open` holds. */
  readonly #pushedOut = new Map<number, ProgramLearning>();
  readonly #defaultProgram: string;
  readonly #maxOpen: number;
  #budget: number;

  constructor(options: SequenceLearnerOptions = {}) {
    this.order = options.order ?? 6;
    this.window = options.window ?? 16;
    if (!Number.isInteger(this.order) || this.order < 1 || this.order > MAX_ORDER)
      throw new RangeError(`order must be an integer from 1 to ${MAX_ORDER}`);
    if (!Number.isInteger(this.window) || this.window < 1 || this.window > 4096)
      throw new RangeError('window must be an integer from 1 to 4096');
    const weights = Object.values(options.weights ?? {});
    if (weights.some((w) => !(typeof w === 'number' && w >= 0 && Number.isFinite(w))))
      throw new RangeError('channel weights must be non-negative numbers');
    if (!CHANNELS.some((c) => (options.weights?.[c] ?? DEFAULT_CHANNEL_WEIGHTS[c]) > 0))
      throw new RangeError('at least one channel weight must be positive');
    this.#options = options;
    this.#defaultProgram = options.program ?? 'default';
    this.#budget = options.maxCalibrationCalls ?? 32_000_000;
    this.#maxOpen = options.maxOpenProcesses ?? 65_536;
  }

  /** Calls learned so far (ended processes). */
  get calls(): number {
    let n = 0;
    for (const p of this.#programs.values()) n += p.totalCalls;
    return n;
  }

  /** One call of a normal run. A pid whose program changes (execve) starts a new sequence. */
  observe(event: SyscallEvent): void {
    this.observeCall(event.pid ?? 0, programOf(event.process, this.#defaultProgram), event.syscall);
  }

  /** One call by name, for callers that have no events (plain call sequences). */
  observeCall(pid: number, program: string, syscall: string): void {
    const learning = this.#program(program);
    let open = this.#open.get(pid);
    if (open !== undefined && open.program !== learning) {
      const prefix = this.#unnamedPrefix(open);
      if (prefix === undefined) this.endProcess(pid);
      else {
        // The process was the same: its first calls only came before the trace named it.
        this.#open.delete(pid);
        for (const name of prefix) this.observeCall(pid, program, name);
      }
      open = this.#open.get(pid);
    }
    if (learning === undefined) {
      this.droppedCalls++;
      return;
    }
    if (open === undefined) {
      if (this.#open.size >= this.#maxOpen) this.#pushOut();
      if (this.#pushedOut.get(pid) === learning) this.splitProcesses++;
      this.#pushedOut.delete(pid);
      open = { program: learning, tokens: new Uint8Array(64), length: 0 };
      this.#open.set(pid, open);
    }
    if (open.length === open.tokens.length) {
      const grown = new Uint8Array(open.tokens.length * 2);
      grown.set(open.tokens);
      open.tokens = grown;
    }
    open.tokens[open.length++] = open.program.vocabulary.add(syscall);
  }

  /**
   * The calls of `open` when it is a short run under the caller's program name (no process
   * context yet: a child's first call printed before its parent's clone returned), which
   * belong to the program the trace names next; undefined otherwise.
   */
  #unnamedPrefix(open: OpenProcess): string[] | undefined {
    if (open.length > MAX_UNNAMED_PREFIX || open.program !== this.#programs.get(this.#defaultProgram))
      return undefined;
    return Array.from(open.tokens.subarray(0, open.length), (t) => open.program.vocabulary.name(t));
  }

  /** Ends the oldest open process to make room, remembering it in case it was still running. */
  #pushOut(): void {
    const pid = this.#open.keys().next().value as number;
    const program = (this.#open.get(pid) as OpenProcess).program;
    this.endProcess(pid);
    if (this.#pushedOut.size >= this.#maxOpen)
      this.#pushedOut.delete(this.#pushedOut.keys().next().value as number);
    this.#pushedOut.set(pid, program);
  }

  /** A process ended (its exit record, or the end of its trace). */
  endProcess(pid: number): void {
    this.#pushedOut.delete(pid);
    const open = this.#open.get(pid);
    if (open === undefined) return;
    this.#open.delete(pid);
    if (open.length === 0) return;
    const tokens = open.tokens.subarray(0, open.length);
    const p = open.program;
    p.processes++;
    p.totalCalls += tokens.length;
    addCounts(p.counts, tokens, this.order, 1);
    const sets = setsOf(tokens);
    p.exemplars.add(sets);
    let previous = -1;
    for (const token of tokens) {
      p.calls[token >>> 5] = (p.calls[token >>> 5] as number) | (1 << (token & 31));
      if (previous >= 0) p.pairs.add(previous * 256 + token);
      previous = token;
    }
    if (tokens.length <= this.#budget) {
      this.#budget -= tokens.length;
      p.kept.push(tokens.slice());
      p.keptSets.push(sets);
    } else p.unkept++;
  }

  /** The end of one trace: its pids are ended (pids of the next trace are other processes). */
  endTrace(): void {
    for (const pid of [...this.#open.keys()]) this.endProcess(pid);
    this.#pushedOut.clear();
  }

  /** The model of everything learned (open processes are ended first). */
  toModel(): SequenceModel {
    this.endTrace();
    const weights = CHANNELS.map((c) => this.#options.weights?.[c] ?? DEFAULT_CHANNEL_WEIGHTS[c]);
    let fewWeights = CHANNELS.map((c) => this.#options.weights?.[c] ?? DEFAULT_FEW_PROCESS_WEIGHTS[c]);
    // Weights that leave the few-process defaults nothing (pairSetDistance=0,mismatchRate=0) are the caller's for every program.
    if (!fewWeights.some((w) => w > 0)) fewWeights = weights;
    const programs: SequenceModel['programs'] = {};
    for (const [name, learned] of [...this.#programs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (learned.processes === 0) continue;
      // Ids by name and processes by their calls, so the input order does not shape the model.
      const p = inCanonicalOrder(learned, this.order);
      const calibration = calibrate(p, {
        order: this.order,
        window: this.window,
        folds: this.#options.folds ?? 5,
        weights,
        fewWeights,
      });
      programs[name] = storeProgram({
        vocabulary: p.vocabulary,
        counts: p.counts,
        exemplars: { unigrams: p.exemplars.unigrams, pairs: p.exemplars.pairs, weights: p.exemplars.weights },
        exemplarsDropped: p.exemplars.dropped,
        calls: p.calls,
        pairs: p.pairs,
        processes: p.processes,
        totalCalls: p.totalCalls,
        mix: MixProfiles.fromProcesses(p.kept, MAX_MIX_EXEMPLARS, keptMixCounts),
        calibration,
      });
    }
    return {
      format: SEQUENCE_MODEL_FORMAT,
      version: SEQUENCE_MODEL_VERSION,
      order: this.order,
      window: this.window,
      falseAlarmRate: this.#options.falseAlarmRate ?? 0.01,
      channels: [...CHANNELS],
      programs,
    };
  }

  /** Calls not learned because their program came past `maxPrograms`. */
  droppedCalls = 0;

  /**
   * Processes learned in two parts: ended past `maxOpenProcesses` while still running (no exit
   * yet), they made a call again, which began another run of their program.
   */
  splitProcesses = 0;

  /** Processes followed at once (the option, or its default). */
  get maxOpenProcesses(): number {
    return this.#maxOpen;
  }

  #program(name: string): ProgramLearning | undefined {
    let p = this.#programs.get(name);
    if (p === undefined) {
      if (this.#programs.size >= (this.#options.maxPrograms ?? 10_000)) return undefined;
      p = {
        vocabulary: new Vocabulary(),
        counts: new Map(),
        exemplars: new ExemplarCollector(this.#options.maxExemplars ?? 2000),
        calls: new Uint32Array(8),
        pairs: new Set(),
        processes: 0,
        totalCalls: 0,
        kept: [],
        keptSets: [],
        unkept: 0,
      };
      this.#programs.set(name, p);
    }
    return p;
  }
}

/** Learns a model from whole traces of events at once (each inner array one trace). */
export function learnSequenceModel(
  traces: Iterable<Iterable<SyscallEvent>>,
  options: SequenceLearnerOptions = {},
): SequenceModel {
  const learner = new SequenceLearner(options);
  for (const trace of traces) {
    for (const event of trace) learner.observe(event);
    learner.endTrace();
  }
  return learner.toModel();
}
