/**
 * One process's calls as they stream in, reduced to the channels a program model scores
 * (see CHANNELS in `program-model.ts`) plus what an explanation needs: the costliest window
 * of calls seen so far (tokens, trace lines, costs, the n-gram context before each) and the
 * first calls and pairs no normal process made, and the call counts as they were at the latest
 * comparison with normal runs. Memory is fixed per process: a window-sized ring, a pair bitset
 * over the program's vocabulary, two counters per call it knows, one overlap counter per
 * exemplar, all views of one buffer (see {@link ProcessState}).
 */
import { pushToken } from './gram-key.js';
import { MIX_FINAL, MIX_FIRST_LEVEL, MIX_LEVELS } from './mix.js';
import { CHANNELS, type ProgramModel } from './program-model.js';
import { UNSEEN } from './vocabulary.js';

/**
 * Calls before a running process's set of calls is compared with normal prefixes (then at
 * every mix level after, and at its end). Earlier, which calls a process has made says more
 * about where it is in its run than about what it does: on the ADFA-LD sample, comparing from
 * 16 calls on took the channel's AUC from 0.775 to 0.730 and its detection at 10 % false
 * alarms from 55 % to 27 %; from 512 on it is as good as comparing whole processes only, and
 * a long-running process is still judged as it runs.
 */
export const CALL_SET_FIRST_CALLS = 512;

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
  /** The longest seen suffix of the last call's n-gram: the next call looks up one longer at most (see `KneserNeyModel.cost`); any at the start. */
  #seenOrder: number;
  #previous = -1;
  readonly #window: number;
  /**
   * The ring of the last `window` calls and the costliest full window so far, by slot:
   * costs at [0, w), trace lines at [w, 2w), n-gram contexts at [2w, 3w), then the same three
   * of the costliest window (oldest call first) at [3w, 6w).
   */
  readonly #ring: Float64Array;
  /** Tokens of the ring at [0, w), of the costliest window at [w, 2w). */
  readonly #ringTokens: Uint8Array;
  /** Names of UNSEEN calls in the ring (undefined elsewhere), so an explanation can name them; made at the first such call. */
  #names: Array<string | undefined> | undefined;
  #bestNames: Array<string | undefined> | undefined;
  #windowSum = 0;
  /** Mean cost of the costliest full window so far (its calls: `bestCosts`, `bestTokens`, …). */
  bestMean = Number.NEGATIVE_INFINITY;
  /** The call bitset (256 bits) at [0, 8), the pair bitset over the vocabulary after it. */
  readonly #bits: Uint32Array;
  #callCount = 0;
  #pairCount = 0;
  readonly #overlaps: Int32Array;
  #unseenNames: Set<string> | undefined;
  #setsChanged = true;
  #callDistance = 1;
  #pairDistance = 1;
  /** Calls per token, for the mix; compared with normal processes at 16, 32, … calls and at the end. */
  readonly counts: Uint32Array;
  #mixLevel = 0;
  #nextMixAt = MIX_FIRST_LEVEL;
  #mixDistance = 0;
  /** Set difference to the normal processes, read when the process ends (0 until then). */
  #setDifference = 0;
  /** Distinct calls and pairs this process and the nearest normal one do not share (at its end; -1 before). */
  setNearest = -1;
  /** That nearest normal process's exemplar (at its end; -1 before). */
  setExemplar = -1;
  /** Comparison point and nearest normal process of the mix value (for explanations). */
  mixAt = -1;
  mixExemplar = -1;
  /**
   * The counts and calls as they were at that comparison (`mixAt`), which the mix and the set
   * were compared by: an explanation describes that one comparison, not calls made since
   * (which, made later than the normal runs' same first calls, would read as shares or calls
   * those runs lacked).
   */
  readonly mixCounts: Uint32Array;
  mixCalls = 0;
  /** Cosine distance of the set of calls made to the nearest normal one at the same comparison point (the channel: 0 until scored). */
  #callSetCosine = 0;
  /**
   * The latest comparison of the set, made with every mix comparison (at `mixAt`, of
   * `mixCounts`; the score weighs it from CALL_SET_FIRST_CALLS calls on): its distance, its
   * nearest normal profile (-1 before the first), the distinct calls the program never made
   * and the novelties listed by then.
   */
  callSetDistance = 0;
  callSetExemplar = -1;
  callSetUnseen = 0;
  callSetNovelties = 0;
  readonly values: Float64Array;
  /** Each channel's highest value so far (what version 4 models combine). */
  readonly peaks: Float64Array;

  /**
   * Every array of the process is a view of one buffer: a scorer holds thousands of processes
   * at once (audit logs have no exit records), and each separate typed array costs about
   * 150 bytes of heap (its object and its ArrayBuffer's) before its first element.
   * `recycled`: the {@link buffer} of an ended process of the same program, reused (zeroed)
   * when its size fits, so that a stream of short processes is not a stream of buffers that
   * only a full GC frees.
   */
  constructor(model: ProgramModel, recycled?: ArrayBuffer) {
    this.model = model;
    this.#seenOrder = model.order;
    const w = model.window;
    this.#window = w;
    const v = model.vocabulary.size;
    const floats = 6 * w + 2 * CHANNELS.length;
    // 8 words of call bits, then the pair bits; then one counter per token id the program
    // uses (not 256); then one overlap per exemplar; bytes last, so every view is aligned.
    const words = 8 + Math.ceil((v * v) / 32);
    const exemplars = model.exemplars.count;
    const bitsAt = 8 * floats;
    const countsAt = bitsAt + 4 * words;
    const mixCountsAt = countsAt + 4 * v;
    const overlapsAt = mixCountsAt + 4 * v;
    const tokensAt = overlapsAt + 4 * exemplars;
    const size = tokensAt + 2 * w;
    let buffer: ArrayBuffer;
    if (recycled?.byteLength === size) {
      new Uint8Array(recycled).fill(0);
      buffer = recycled;
    } else buffer = new ArrayBuffer(size);
    this.#ring = new Float64Array(buffer, 0, 6 * w);
    this.values = new Float64Array(buffer, 8 * 6 * w, CHANNELS.length);
    this.peaks = new Float64Array(buffer, 8 * (6 * w + CHANNELS.length), CHANNELS.length);
    this.peaks.fill(Number.NEGATIVE_INFINITY);
    this.#bits = new Uint32Array(buffer, bitsAt, words);
    this.counts = new Uint32Array(buffer, countsAt, v);
    this.mixCounts = new Uint32Array(buffer, mixCountsAt, v);
    this.#overlaps = new Int32Array(buffer, overlapsAt, exemplars);
    this.#ringTokens = new Uint8Array(buffer, tokensAt, 2 * w);
  }

  /** The one buffer behind every array of the process (to recycle once the process is done with). */
  get buffer(): ArrayBuffer {
    return this.#ring.buffer as ArrayBuffer;
  }

  /** The costliest full window's costs, oldest call first (valid once `calls >= window`). */
  get bestCosts(): Float64Array {
    return this.#ring.subarray(3 * this.#window, 4 * this.#window);
  }

  get bestLines(): Float64Array {
    return this.#ring.subarray(4 * this.#window, 5 * this.#window);
  }

  get bestContexts(): Float64Array {
    return this.#ring.subarray(5 * this.#window, 6 * this.#window);
  }

  get bestTokens(): Uint8Array {
    return this.#ringTokens.subarray(this.#window, 2 * this.#window);
  }

  get bestNames(): Array<string | undefined> {
    return this.#bestNames ?? new Array<string | undefined>(this.#window).fill(undefined);
  }

  /** One call: its token, its trace line (-1 unknown), its name when the token is UNSEEN. Returns the call's cost. */
  observe(token: number, line: number, unseenName?: string): number {
    const model = this.model;
    const context = this.#key;
    const key = pushToken(context, token, model.order);
    this.#key = key;
    const language = model.language;
    const cost = language.cost(key, this.#seenOrder + 1);
    this.#seenOrder = language.lastOrder;
    if (!language.lastSeen) this.mismatches++;
    this.totalCost += cost;
    const w = this.#window;
    const slot = this.calls % w;
    const ring = this.#ring;
    this.#windowSum += cost - (ring[slot] as number);
    ring[slot] = cost;
    ring[w + slot] = line;
    ring[2 * w + slot] = context;
    this.#ringTokens[slot] = token;
    if (unseenName !== undefined) {
      if (this.#names === undefined) this.#names = new Array<string | undefined>(w).fill(undefined);
      this.#names[slot] = unseenName;
    } else if (this.#names !== undefined) this.#names[slot] = undefined;
    this.counts[token] = (this.counts[token] as number) + 1;
    this.calls++;
    if (this.calls >= this.#window && this.#windowSum > this.bestMean * this.#window) this.#keepWindow();
    this.#sets(token, line, unseenName);
    // After the sets: a call the program never made is then counted by name in the call set.
    if (this.calls === this.#nextMixAt) this.#compareMix();
    if (this.calls % this.#window === 0) this.checkpoint();
    return cost;
  }

  /** The process ended: its whole mix and sets are compared with whole normal processes, then a last checkpoint. */
  finish(): number {
    if (this.calls > 0 && this.model.mix.count > 0) this.#setMix(MIX_FINAL);
    if (this.calls > 0) {
      const { value, nearest, exemplar } = this.model.exemplars.difference(
        this.#bits,
        this.#callCount,
        this.#overlaps,
        this.#pairCount,
      );
      this.#setDifference = value;
      this.setNearest = nearest;
      this.setExemplar = exemplar;
    }
    return this.checkpoint();
  }

  #compareMix(): void {
    if (this.model.mix.count > 0) this.#setMix(this.#mixLevel);
    this.#mixLevel++;
    this.#nextMixAt = this.#mixLevel < MIX_LEVELS ? this.#nextMixAt * 2 : Number.POSITIVE_INFINITY;
  }

  #setMix(level: number): void {
    // Calls the program never made share the UNSEEN token; each distinct one counts in the set.
    const nearest = this.model.mix.nearest(level, this.counts, this.calls, Math.max(0, this.unseenCalls - 1));
    this.#mixDistance = nearest.distance;
    this.mixAt = level;
    this.mixExemplar = nearest.exemplar;
    this.callSetDistance = nearest.setDistance;
    this.callSetExemplar = nearest.setExemplar;
    this.mixCounts.set(this.counts);
    this.mixCalls = this.calls;
    this.callSetUnseen = this.unseenCalls;
    this.callSetNovelties = this.novelties.length;
    if (this.callSetScored) this.#callSetCosine = nearest.setDistance;
  }

  /** Whether the score weighs the latest comparison of the set (from CALL_SET_FIRST_CALLS calls on, and at the end). */
  get callSetScored(): boolean {
    return (
      this.mixAt === MIX_FINAL ||
      (this.mixAt >= 0 && MIX_FIRST_LEVEL * 2 ** this.mixAt >= CALL_SET_FIRST_CALLS)
    );
  }

  /** Called with the channel values at every checkpoint (calibration records them). */
  onCheckpoint: ((values: Float64Array) => void) | undefined;

  /** Scores the process as it stands and raises the peak; returns the current score. */
  checkpoint(): number {
    const values = this.channels();
    this.onCheckpoint?.(values);
    const peaks = this.peaks;
    for (let i = 0; i < values.length; i++)
      if ((values[i] as number) > (peaks[i] as number)) peaks[i] = values[i] as number;
    const score = this.model.combine(this.model.calibration?.combination === 'sum-of-peaks' ? peaks : values);
    if (score > this.peak) this.peak = score;
    return score;
  }

  /**
   * Current channel values (CHANNELS order), into `this.values`. The containment distances
   * (call-set and pair-set distance) are a pass over every exemplar each time the process's
   * sets grow; while scoring with a model that does not weigh them they are brought up to date
   * only when `all` is asked for (an explanation): on ADFA-LD's short processes that pass cost
   * a fifth of the scoring time.
   */
  channels(all = false): Float64Array {
    const v = this.values;
    const mean = this.calls === 0 ? 0 : this.totalCost / this.calls;
    v[0] = mean;
    v[1] = this.calls >= this.#window ? this.bestMean : mean;
    v[2] = Math.log1p(this.novelCount);
    if (this.#setsChanged && (all || this.model.weighsContainment)) {
      this.#callDistance = this.model.exemplars.unigramDistance(this.#bits, this.#callCount);
      this.#pairDistance = this.model.exemplars.pairDistance(this.#overlaps, this.#pairCount);
      this.#setsChanged = false;
    }
    v[3] = this.#callDistance;
    v[4] = this.#pairDistance;
    v[5] = this.calls === 0 ? 0 : this.mismatches / this.calls;
    v[6] = this.#mixDistance;
    v[7] = this.#setDifference;
    v[8] = this.#callSetCosine;
    return v;
  }

  /** Distinct calls the program never made (each counts once in the call set; they share the UNSEEN token). */
  get unseenCalls(): number {
    return this.#unseenNames?.size ?? 0;
  }

  /** Whether the process made call `token`. */
  madeCall(token: number): boolean {
    return ((this.#bits[token >>> 5] as number) & (1 << (token & 31))) !== 0;
  }

  /** The process's distinct consecutive pairs as `first·256 + second` ids, ascending (for explanations). */
  distinctPairs(): number[] {
    const v = this.model.vocabulary.size;
    const out: number[] = [];
    const bits = this.#bits;
    for (let w = 8; w < bits.length; w++) {
      let word = bits[w] as number;
      while (word !== 0) {
        const low = word & -word;
        const index = (w - 8) * 32 + (31 - Math.clz32(low));
        out.push(Math.floor(index / v) * 256 + (index % v));
        word ^= low;
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** Window of the process so far when it is shorter than a full window (for explanations). */
  currentWindow(): ExplainedWindow {
    const n = Math.min(this.calls, this.#window);
    const out: ExplainedWindow = { costs: [], tokens: [], lines: [], contexts: [], names: [] };
    const w = this.#window;
    const ring = this.#ring;
    for (let i = this.calls - n; i < this.calls; i++) {
      const slot = i % w;
      out.costs.push(ring[slot] as number);
      out.tokens.push(this.#ringTokens[slot] as number);
      out.lines.push(ring[w + slot] as number);
      out.contexts.push(ring[2 * w + slot] as number);
      out.names.push(this.#names?.[slot]);
    }
    return out;
  }

  #keepWindow(): void {
    const w = this.#window;
    this.bestMean = this.#windowSum / w;
    const start = this.calls % w; // the oldest call of the window sits where the next one goes
    const ring = this.#ring;
    const tokens = this.#ringTokens;
    for (let i = 0; i < w; i++) {
      const slot = (start + i) % w;
      ring[3 * w + i] = ring[slot] as number;
      ring[4 * w + i] = ring[w + slot] as number;
      ring[5 * w + i] = ring[2 * w + slot] as number;
      tokens[w + i] = tokens[slot] as number;
    }
    const names = this.#names;
    if (names !== undefined) {
      if (this.#bestNames === undefined) this.#bestNames = new Array<string | undefined>(w);
      for (let i = 0; i < w; i++) this.#bestNames[i] = names[(start + i) % w];
    } else this.#bestNames?.fill(undefined);
  }

  /** Distinct calls and pairs of the process: set sizes, overlaps with exemplars, novelties. */
  #sets(token: number, line: number, unseenName: string | undefined): void {
    const model = this.model;
    const word = token >>> 5;
    const bit = 1 << (token & 31);
    const bits = this.#bits;
    if (((bits[word] as number) & bit) === 0) {
      bits[word] = (bits[word] as number) | bit;
      this.#callCount++;
      this.#setsChanged = true;
      if (token !== UNSEEN && ((model.calls[word] as number) & bit) === 0) this.#novel([token], line);
    }
    if (token === UNSEEN && unseenName !== undefined) {
      if (this.#unseenNames === undefined) this.#unseenNames = new Set<string>();
      const unseen = this.#unseenNames;
      if (unseen.size < 256 && !unseen.has(unseenName)) {
        unseen.add(unseenName);
        this.#novel([token], line, unseenName);
      }
    }
    const previous = this.#previous;
    this.#previous = token;
    if (previous < 0) return;
    const index = previous * model.vocabulary.size + token;
    const pairWord = 8 + (index >>> 5);
    const pairBit = 1 << (index & 31);
    if (((bits[pairWord] as number) & pairBit) !== 0) return;
    bits[pairWord] = (bits[pairWord] as number) | pairBit;
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
