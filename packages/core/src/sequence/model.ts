/**
 * The sequence model as stored: plain JSON (the `sequenceModel` key of a baseline file),
 * versioned, compact. Per program it keeps the syscall names, the distinct highest-order
 * n-grams with their counts (delta-coded varints, base64), the calls and pairs any normal
 * process made, the distinct sets of normal processes, and the calibration. The scorer
 * rebuilds its lookup tables from this in milliseconds, so nothing derived is stored twice.
 */
import { programChecksum } from './checksum.js';
import { ByteReader, ByteWriter, fromBase64, toBase64 } from './codec.js';
import type { ExemplarSets } from './exemplars.js';
import { MAX_ORDER } from './gram-key.js';
import { MixProfiles } from './mix.js';
import {
  type Calibration,
  CHANNELS,
  CHANNELS_BEFORE_MIX,
  CHANNELS_BEFORE_SET_COSINE,
  CHANNELS_BEFORE_SET_DIFFERENCE,
  ProgramModel,
} from './program-model.js';
import { Vocabulary } from './vocabulary.js';

export const SEQUENCE_MODEL_FORMAT = 'syscan-sequence-model';
/**
 * 5: a ninth channel, the cosine distance of the call set to the nearest normal process (from
 * the mix's profiles; nothing new is stored). 4: an eighth channel, the set difference to normal processes at a process's end, and each
 * exemplar's count of normal processes (a varint after its pair list). 3: a seventh channel, the call mix against normal processes (`mix` per program), and
 * channel rarities that add up. 2: calibrations carry each channel's out-of-fold peaks
 * (`channelScores`) and combine channels by their highest rarity. Version 1 and 2 models are
 * still read and scored as they were learned (version 3 too).
 */
export const SEQUENCE_MODEL_VERSION = 5;
/** Versions this syscan reads. */
export const READABLE_SEQUENCE_MODEL_VERSIONS: readonly number[] = [1, 2, 3, 4, SEQUENCE_MODEL_VERSION];

/** The channels a model of `version` has (its calibration arrays have one entry per each). */
export function channelsOf(version: number): readonly string[] {
  if (version >= 5) return CHANNELS;
  if (version === 4) return CHANNELS_BEFORE_SET_COSINE;
  return version === 3 ? CHANNELS_BEFORE_SET_DIFFERENCE : CHANNELS_BEFORE_MIX;
}

/** One program's part of a stored model. */
export interface StoredProgramModel {
  /** Syscall names by token id from 2 (0 is the process start, 1 a call never made). */
  syscalls: string[];
  /** Distinct names past the 253rd, learned as one shared token (0 normally). */
  overflowSyscalls: number;
  /** Processes and calls learned. */
  processes: number;
  calls: number;
  /** Distinct `order`-grams and their counts: varints (key delta, count), base64. */
  ngrams: string;
  distinctNgrams: number;
  /** Calls any normal process made: 32-byte bitset, base64. */
  callSet: string;
  /** Pairs any normal process made: varint deltas of `first·256 + second`, base64. */
  pairSet: string;
  /** Distinct (call set, pair set) of normal processes: count, then per exemplar 8 varint words, a pair list and (version 4) its count of processes. */
  exemplars: { count: number; dropped: number; data: string };
  /** Call counts of distinct normal processes at 16, 32, … calls and at their end (version 3; see `mix.ts`): varints, base64. */
  mix?: { count: number; data: string } | undefined;
  calibration?: Calibration | undefined;
  /** `crc32:…` over the other fields (see `checksum.ts`); models learned before it have none. */
  checksum?: string | undefined;
}

/** A learned sequence model (JSON-ready; `JSON.parse(JSON.stringify(m))` scores the same). */
export interface SequenceModel {
  format: typeof SEQUENCE_MODEL_FORMAT;
  /** {@link SEQUENCE_MODEL_VERSION} when learned by this syscan; 1 to 4 for older models (still read). */
  version: 1 | 2 | 3 | 4 | typeof SEQUENCE_MODEL_VERSION;
  /** n-gram order of the language model (2…6). */
  order: number;
  /** Calls per window of the window channel and of explanations. */
  window: number;
  /** The false-alarm rate scorers use unless told otherwise. */
  falseAlarmRate: number;
  /** Channel names in the order calibration arrays use. */
  channels: string[];
  programs: Record<string, StoredProgramModel>;
}

/** Everything needed to build one program's model (learner side). */
export interface ProgramModelInput {
  vocabulary: Vocabulary;
  counts: Map<number, number>;
  exemplars: ExemplarSets;
  exemplarsDropped: number;
  calls: Uint32Array;
  pairs: Set<number>;
  processes: number;
  totalCalls: number;
  mix: MixProfiles;
  calibration?: Calibration | undefined;
}

export function storeProgram(input: ProgramModelInput): StoredProgramModel {
  const grams = new ByteWriter();
  let previous = 0;
  for (const key of [...input.counts.keys()].sort((a, b) => a - b)) {
    grams.varint(key - previous);
    grams.varint(input.counts.get(key) as number);
    previous = key;
  }
  const pairs = new ByteWriter();
  writeSortedList(pairs, [...input.pairs]);
  const exemplars = new ByteWriter();
  input.exemplars.unigrams.forEach((bits, i) => {
    for (const word of bits) exemplars.varint(word >>> 0);
    writeSortedList(exemplars, [...(input.exemplars.pairs[i] as Uint16Array)]);
    exemplars.varint(input.exemplars.weights?.[i] ?? 1);
  });
  const stored: StoredProgramModel = {
    syscalls: [...input.vocabulary.names],
    overflowSyscalls: input.vocabulary.overflowNames,
    processes: input.processes,
    calls: input.totalCalls,
    ngrams: toBase64(grams.bytes()),
    distinctNgrams: input.counts.size,
    callSet: toBase64(new Uint8Array(input.calls.buffer.slice(0))),
    pairSet: toBase64(pairs.bytes()),
    exemplars: {
      count: input.exemplars.unigrams.length,
      dropped: input.exemplarsDropped,
      data: toBase64(exemplars.bytes()),
    },
    mix: { count: input.mix.count, data: toBase64(input.mix.encode()) },
  };
  if (input.calibration !== undefined) stored.calibration = input.calibration;
  stored.checksum = programChecksum(stored);
  return stored;
}

/**
 * Rebuilds a program's scoring model. Throws RangeError (with what is wrong) on a model that
 * is not one this version wrote; callers turn that into their own error.
 */
export function loadProgram(
  stored: StoredProgramModel,
  order: number,
  window: number,
  version: number = SEQUENCE_MODEL_VERSION,
): ProgramModel {
  const problem = storedProgramProblem(stored, version);
  if (problem !== undefined) throw new RangeError(problem);
  if (
    stored.checksum !== undefined &&
    (typeof stored.checksum !== 'string' || programChecksum(stored) !== stored.checksum)
  ) {
    throw new RangeError(
      "its data does not match its checksum: the baseline was cut or changed after 'syscan learn' (learn it again)",
    );
  }
  const vocabulary = new Vocabulary(stored.syscalls, stored.overflowSyscalls);
  const counts = new Map<number, number>();
  const grams = new ByteReader(fromBase64(stored.ngrams));
  let key = 0;
  while (!grams.done) {
    key += grams.varint();
    counts.set(key, grams.varint());
  }
  const callBytes = fromBase64(stored.callSet);
  if (callBytes.length !== 32) throw new RangeError('callSet is not a 256-bit set');
  const calls = new Uint32Array(callBytes.slice().buffer);
  const pairs = new Set(readSortedList(new ByteReader(fromBase64(stored.pairSet))));
  const reader = new ByteReader(fromBase64(stored.exemplars.data));
  const weights: number[] = [];
  const exemplars: ExemplarSets = { unigrams: [], pairs: [], weights };
  for (let e = 0; e < stored.exemplars.count; e++) {
    const bits = new Uint32Array(8);
    for (let w = 0; w < 8; w++) bits[w] = reader.varint();
    exemplars.unigrams.push(bits);
    exemplars.pairs.push(Uint16Array.from(readSortedList(reader)));
    weights.push(version >= 4 ? Math.max(1, reader.varint()) : 1);
  }
  const mix =
    stored.mix === undefined
      ? MixProfiles.empty()
      : MixProfiles.decode(fromBase64(stored.mix.data), stored.mix.count);
  return new ProgramModel({
    vocabulary,
    counts,
    order,
    window,
    exemplars,
    calls,
    pairs,
    processes: stored.processes,
    totalCalls: stored.calls,
    mix,
    calibration: stored.calibration,
  });
}

/** Checks the envelope of a stored model; returns what is wrong, or undefined when it can be loaded. */
export function sequenceModelProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const m = value as Partial<SequenceModel>;
  if (m.format !== SEQUENCE_MODEL_FORMAT) return `format is not '${SEQUENCE_MODEL_FORMAT}'`;
  if (!READABLE_SEQUENCE_MODEL_VERSIONS.includes(m.version as number))
    return `version ${String(m.version)} is not supported (this syscan reads versions ${READABLE_SEQUENCE_MODEL_VERSIONS.join(' and ')}; learn the model again with this syscan)`;
  if (!Number.isInteger(m.order) || (m.order as number) < 1 || (m.order as number) > MAX_ORDER)
    return `order must be an integer from 1 to ${MAX_ORDER}`;
  if (!Number.isInteger(m.window) || (m.window as number) < 1 || (m.window as number) > 4096)
    return 'window must be an integer from 1 to 4096';
  if (typeof m.falseAlarmRate !== 'number' || !(m.falseAlarmRate > 0 && m.falseAlarmRate < 1))
    return 'falseAlarmRate must be between 0 and 1';
  const channels = channelsOf(m.version as number);
  if (!Array.isArray(m.channels) || m.channels.join(',') !== channels.join(','))
    return `channels of a version ${m.version} model must be ${channels.join(', ')}`;
  if (typeof m.programs !== 'object' || m.programs === null) return 'programs is missing';
  return undefined;
}

/** What is wrong with the shape of one stored program (before its bytes are decoded), if anything. */
function storedProgramProblem(p: StoredProgramModel, version: number): string | undefined {
  if (typeof p !== 'object' || p === null) return 'not an object';
  if (
    !Array.isArray(p.syscalls) ||
    p.syscalls.length > 253 ||
    !p.syscalls.every((s) => typeof s === 'string')
  )
    return 'syscalls must be a list of at most 253 names';
  for (const key of ['overflowSyscalls', 'processes', 'calls'] as const)
    if (!Number.isSafeInteger(p[key]) || p[key] < 0) return `${key} must be a count`;
  for (const key of ['ngrams', 'callSet', 'pairSet'] as const)
    if (typeof p[key] !== 'string') return `${key} must be base64 text`;
  const e = p.exemplars;
  if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.count) || typeof e.data !== 'string')
    return 'exemplars must hold a count and base64 data';
  const mix = p.mix;
  if (version >= 3) {
    if (
      typeof mix !== 'object' ||
      mix === null ||
      !Number.isSafeInteger(mix.count) ||
      mix.count < 0 ||
      typeof mix.data !== 'string'
    )
      return 'mix must hold a count and base64 data';
  } else if (mix !== undefined) return `version ${version} models have no mix`;
  const c = p.calibration;
  if (c === undefined) return undefined;
  const channelCount = channelsOf(version).length;
  const channelList = (x: unknown) =>
    Array.isArray(x) &&
    x.length === channelCount &&
    x.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (
    typeof c !== 'object' ||
    c === null ||
    !channelList(c.mean) ||
    !channelList(c.spread) ||
    !channelList(c.weights)
  )
    return `calibration mean, spread and weights must be ${channelCount} numbers each`;
  if (c.spread.some((v) => v <= 0) || c.weights.some((v) => v < 0) || !c.weights.some((v) => v > 0))
    return 'calibration spreads must be positive and weights non-negative, one at least positive';
  if (!Array.isArray(c.scores) || !c.scores.every((v) => typeof v === 'number' && Number.isFinite(v)))
    return 'calibration scores must be numbers';
  if (!isAscending(c.scores)) return 'calibration scores must be ascending';
  // Version 1 combined channels by their z-scores and had no per-channel peaks; version 2 needs them.
  if (version === 1)
    return c.channelScores === undefined ? undefined : 'version 1 calibrations have no channelScores';
  if (
    !Array.isArray(c.channelScores) ||
    c.channelScores.length !== channelCount ||
    !c.channelScores.every(
      (list) =>
        Array.isArray(list) &&
        list.length > 0 &&
        list.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
        isAscending(list),
    )
  )
    return `calibration channelScores must be ${channelCount} non-empty ascending lists of numbers`;
  const combination = version >= 4 ? 'sum-of-peaks' : version === 3 ? 'sum' : undefined;
  if (c.combination !== combination)
    return combination !== undefined
      ? `calibration combination must be '${combination}'`
      : `version ${version} calibrations have no combination`;
  return undefined;
}

function isAscending(values: number[]): boolean {
  for (let i = 1; i < values.length; i++) if ((values[i] as number) < (values[i - 1] as number)) return false;
  return true;
}

function writeSortedList(writer: ByteWriter, values: number[]): void {
  values.sort((a, b) => a - b);
  writer.varint(values.length);
  let previous = 0;
  for (const v of values) {
    writer.varint(v - previous);
    previous = v;
  }
}

function readSortedList(reader: ByteReader): number[] {
  const n = reader.varint();
  const out = new Array<number>(n);
  let value = 0;
  for (let i = 0; i < n; i++) {
    value += reader.varint();
    out[i] = value;
  }
  return out;
}
