/**
 * One process's calls as they stream in, reduced to the channels a program model scores
 * (see CHANNELS in `program-model.ts`) plus what an explanation needs: the costliest window
 * of calls seen so far (tokens, trace lines, costs, the n-gram context before each) and the
 * first calls and pairs no normal process made. Memory is fixed per process: a window-sized
 * ring, a pair bitset over the program's vocabulary, one overlap counter per exemplar.
 */
import { pushToken } from './gram-key.js';
import { MIX_FINAL, MIX_FIRST_LEVEL, MIX_LEVELS } from './mix.js';
import { CHANNELS, type ProgramModel } from './program-model.js';
import { UNSEEN } from './vocabulary.js';

/** Most novel calls or pairs an explanation lists per process (all are counted). */
export const MAX_LISTED_NOVELTIES = 16;

export interface Novelty {
  /** One token (a call) or two (a pair), first to last. */
  tokens: number[];
  /** The name, for a call the program never made at all (its token is UNSEEN). */
  name?: string | undefined;
  line: number | undefined;
}

/** A window of calls, oldest first: token, cost, trace line (-1 unknown), n-gram context before it, name when UNSEEN. */
export interface ExplainedWindow {
  costs: number[];
  tokens: number[];
  lines: number[];
  contexts: number[];
  names: Array<string | undefined>;
}

export class ProcessState {
  readonly model: ProgramModel;
  calls = 0;
  /** Calls whose full n-gram no normal process made. */
  mismatches = 0;
  totalCost = 0;
  /** Highest combined score at any checkpoint (every `window` calls and at the end). */
  peak = Number.NEGATIVE_INFINITY;
  readonly novelties: Novelty[] = [];
  novelCount = 0;

  #key = 0; // BOS-padded: a process starts after order-1 BOS tokens (id 0)
  #previous = -1;
  readonly #window: number;
  readonly #costs: Float64Array;
  readonly #tokens: Uint8Array;
  readonly #lines: Float64Array;
  readonly #contexts: Float64Array;
  /** Names of UNSEEN calls in the ring (undefined elsewhere), so an explanation can name them. */
  readonly #names: Array<string | undefined>;
  #windowSum = 0;
  /** The costliest full window so far: its mean and copies of its ring, oldest call first. */
  bestMean = Number.NEGATIVE_INFINITY;
  readonly bestCosts: Float64Array;
  readonly bestTokens: Uint8Array;
  readonly bestLines: Float64Array;
  readonly bestContexts: Float64Array;
  readonly bestNames: Array<string | undefined>;
  readonly #callBits = new Uint32Array(8);
  #callCount = 0;
  readonly #pairBits: Uint32Array;
  #pairCount = 0;
  readonly #overlaps: Int32Array;
  readonly #unseenNames = new Set<string>();
  #setsChanged = true;
  #callDistance = 1;
  #pairDistance = 1;
  /** Calls per token, for the mix; compared with normal processes at 16, 32, … calls and at the end. */
  readonly counts: Uint32Array;
  #mixLevel = 0;
  #nextMixAt = MIX_FIRST_LEVEL;
  #mixDistance = 0;
  /** Comparison point and nearest normal process of the mix value (for explanations). */
  mixAt = -1;
  mixExemplar = -1;
  readonly values = new Float64Array(CHANNELS.length);

  constructor(model: ProgramModel) {
    this.model = model;
    const w = model.window;
    this.#window = w;
    this.#costs = new Float64Array(w);
    this.#tokens = new Uint8Array(w);
    this.#lines = new Float64Array(w);
    this.#contexts = new Float64Array(w);
    this.bestCosts = new Float64Array(w);
    this.bestTokens = new Uint8Array(w);
    this.bestLines = new Float64Array(w);
    this.bestContexts = new Float64Array(w);
    this.#names = new Array<string | undefined>(w).fill(undefined);
    this.bestNames = new Array<string | undefined>(w).fill(undefined);
    const v = model.vocabulary.size;
    this.#pairBits = new Uint32Array(Math.ceil((v * v) / 32));
    this.#overlaps = new Int32Array(model.exemplars.count);
    // One counter per token id the program uses (not 256): a scorer holds thousands of processes.
    this.counts = new Uint32Array(model.vocabulary.size);
  }

  /** One call: its token, its trace line (-1 unknown), its name when the token is UNSEEN. Returns the call's cost. */
  observe(token: number, line: number, unseenName?: string): number {
    const model = this.model;
    const context = this.#key;
    const key = pushToken(context, token, model.order);
    this.#key = key;
    const cost = model.language.cost(key);
    if (!model.language.lastSeen) this.mismatches++;
    this.totalCost += cost;
    const slot = this.calls % this.#window;
    this.#windowSum += cost - (this.#costs[slot] as number);
    this.#costs[slot] = cost;
    this.#tokens[slot] = token;
    this.#lines[slot] = line;
    this.#contexts[slot] = context;
    if (unseenName !== undefined || this.#names[slot] !== undefined) this.#names[slot] = unseenName;
    this.counts[token] = (this.counts[token] as number) + 1;
    this.calls++;
    if (this.calls === this.#nextMixAt) this.#compareMix();
    if (this.calls >= this.#window && this.#windowSum > this.bestMean * this.#window) this.#keepWindow();
    this.#sets(token, line, unseenName);
    if (this.calls % this.#window === 0) this.checkpoint();
    return cost;
  }

  /** The process ended: its whole mix is compared with whole normal processes, then a last checkpoint. */
  finish(): number {
    if (this.calls > 0 && this.model.mix.count > 0) this.#setMix(MIX_FINAL);
    return this.checkpoint();
  }

  #compareMix(): void {
    if (this.model.mix.count > 0) this.#setMix(this.#mixLevel);
    this.#mixLevel++;
    this.#nextMixAt = this.#mixLevel < MIX_LEVELS ? this.#nextMixAt * 2 : Number.POSITIVE_INFINITY;
  }

  #setMix(level: number): void {
    const { distance, exemplar } = this.model.mix.nearest(level, this.counts, this.calls);
    this.#mixDistance = distance;
    this.mixAt = level;
    this.mixExemplar = exemplar;
  }

  /** Called with the channel values at every checkpoint (calibration records them). */
  onCheckpoint: ((values: Float64Array) => void) | undefined;

  /** Scores the process as it stands and raises the peak; returns the current score. */
  checkpoint(): number {
    const values = this.channels();
    this.onCheckpoint?.(values);
    const score = this.model.combine(values);
    if (score > this.peak) this.peak = score;
    return score;
  }

  /** Current channel values (CHANNELS order), into `this.values`. */
  channels(): Float64Array {
    const v = this.values;
    const mean = this.calls === 0 ? 0 : this.totalCost / this.calls;
    v[0] = mean;
    v[1] = this.calls >= this.#window ? this.bestMean : mean;
    v[2] = Math.log1p(this.novelCount);
    if (this.#setsChanged) {
      this.#callDistance = this.model.exemplars.unigramDistance(this.#callBits, this.#callCount);
      this.#pairDistance = this.model.exemplars.pairDistance(this.#overlaps, this.#pairCount);
      this.#setsChanged = false;
    }
    v[3] = this.#callDistance;
    v[4] = this.#pairDistance;
    v[5] = this.calls === 0 ? 0 : this.mismatches / this.calls;
    v[6] = this.#mixDistance;
    return v;
  }

  /** Window of the process so far when it is shorter than a full window (for explanations). */
  currentWindow(): ExplainedWindow {
    const n = Math.min(this.calls, this.#window);
    const out: ExplainedWindow = { costs: [], tokens: [], lines: [], contexts: [], names: [] };
    for (let i = this.calls - n; i < this.calls; i++) {
      const slot = i % this.#window;
      out.costs.push(this.#costs[slot] as number);
      out.tokens.push(this.#tokens[slot] as number);
      out.lines.push(this.#lines[slot] as number);
      out.contexts.push(this.#contexts[slot] as number);
      out.names.push(this.#names[slot]);
    }
    return out;
  }

  #keepWindow(): void {
    const w = this.#window;
    this.bestMean = this.#windowSum / w;
    const start = this.calls % w; // the oldest call of the window sits where the next one goes
    for (let i = 0; i < w; i++) {
      const slot = (start + i) % w;
      this.bestCosts[i] = this.#costs[slot] as number;
      this.bestTokens[i] = this.#tokens[slot] as number;
      this.bestLines[i] = this.#lines[slot] as number;
      this.bestContexts[i] = this.#contexts[slot] as number;
      this.bestNames[i] = this.#names[slot];
    }
  }

  /** Distinct calls and pairs of the process: set sizes, overlaps with exemplars, novelties. */
  #sets(token: number, line: number, unseenName: string | undefined): void {
    const model = this.model;
    const word = token >>> 5;
    const bit = 1 << (token & 31);
    if (((this.#callBits[word] as number) & bit) === 0) {
      this.#callBits[word] = (this.#callBits[word] as number) | bit;
      this.#callCount++;
      this.#setsChanged = true;
      if (token !== UNSEEN && ((model.calls[word] as number) & bit) === 0) this.#novel([token], line);
    }
    if (
      token === UNSEEN &&
      unseenName !== undefined &&
      this.#unseenNames.size < 256 &&
      !this.#unseenNames.has(unseenName)
    ) {
      this.#unseenNames.add(unseenName);
      this.#novel([token], line, unseenName);
    }
    const previous = this.#previous;
    this.#previous = token;
    if (previous < 0) return;
    const index = previous * model.vocabulary.size + token;
    const pairWord = index >>> 5;
    const pairBit = 1 << (index & 31);
    if (((this.#pairBits[pairWord] as number) & pairBit) !== 0) return;
    this.#pairBits[pairWord] = (this.#pairBits[pairWord] as number) | pairBit;
    this.#pairCount++;
    this.#setsChanged = true;
    const pair = previous * 256 + token;
    const holders = model.exemplars.holders(pair);
    if (holders !== undefined) for (const e of holders) this.#overlaps[e] = (this.#overlaps[e] as number) + 1;
    if (model.pairMap[pair] === 0 && previous !== UNSEEN && token !== UNSEEN)
      this.#novel([previous, token], line);
  }

  #novel(tokens: number[], line: number, name?: string): void {
    this.novelCount++;
    if (this.novelties.length < MAX_LISTED_NOVELTIES) {
      this.novelties.push({ tokens, name, line: line < 0 ? undefined : line });
    }
  }
}
