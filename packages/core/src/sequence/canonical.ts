/**
 * The same normal processes learned in any order make the same program model, byte for byte.
 * While learning, token ids are handed out in the order syscalls first appear and processes
 * are kept in the order they end, so the fold each process is held out in (and with it the
 * calibrated threshold), the exemplar list and the mix profiles followed the order of the
 * input files: `syscan learn a b` and `syscan learn b a` gave different thresholds. Before a
 * program is calibrated and stored, its ids are renumbered by syscall name and its kept
 * processes sorted by their calls, so only what was learned decides the model.
 *
 * What still depends on the order, past caps a normal baseline does not reach: which
 * processes are kept once the calibration budget is spent, which distinct call sets are kept
 * past the exemplar cap, and which names share the overflow id past 253 distinct syscalls.
 */
import { type ExemplarCollector, setsOf } from './exemplars.js';
import { GRAM_POWERS } from './gram-key.js';
import type { ProgramLearning } from './learn.js';
import { Vocabulary } from './vocabulary.js';

/** `p` renumbered by syscall name, its kept processes in order of their calls (a new learning; `p` is left as it was). */
export function inCanonicalOrder(p: ProgramLearning, order: number): ProgramLearning {
  const vocabulary = new Vocabulary(
    [...p.vocabulary.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    p.vocabulary.overflowNames,
  );
  // Old id → new id; BOS, UNSEEN and OVERFLOW keep theirs.
  const idOf = new Uint8Array(256);
  for (let t = 0; t < 256; t++) idOf[t] = t;
  for (const name of p.vocabulary.names) idOf[p.vocabulary.id(name)] = vocabulary.id(name);

  const kept = p.kept.map((tokens) => tokens.map((t) => idOf[t] as number)).sort(compareWords);
  const counts = new Map<number, number>();
  for (const [key, n] of p.counts) counts.set(renumberKey(key, order, idOf), n);
  const pairs = new Set<number>();
  for (const pair of p.pairs) pairs.add(renumberPair(pair, idOf));
  return {
    vocabulary,
    counts,
    exemplars: renumberExemplars(p.exemplars, idOf),
    calls: renumberBits(p.calls, idOf),
    pairs,
    processes: p.processes,
    totalCalls: p.totalCalls,
    kept,
    keptSets: kept.map(setsOf),
    unkept: p.unkept,
  };
}

/** A packed n-gram key (`order` 8-bit tokens, BOS padding included) with each token renumbered. */
function renumberKey(key: number, order: number, idOf: Uint8Array): number {
  let out = 0;
  let rest = key;
  for (let i = 0; i < order; i++) {
    const token = rest % 256;
    rest = (rest - token) / 256;
    out += (idOf[token] as number) * (GRAM_POWERS[i] as number);
  }
  return out;
}

const renumberPair = (pair: number, idOf: Uint8Array): number =>
  (idOf[pair >>> 8] as number) * 256 + (idOf[pair & 255] as number);

/** A 256-bit token set with each member renumbered. */
function renumberBits(bits: Uint32Array, idOf: Uint8Array): Uint32Array {
  const out = new Uint32Array(8);
  for (let t = 0; t < 256; t++) {
    if ((((bits[t >>> 5] as number) >>> (t & 31)) & 1) === 0) continue;
    const u = idOf[t] as number;
    out[u >>> 5] = (out[u >>> 5] as number) | (1 << (u & 31));
  }
  return out;
}

/** The collector's sets renumbered and sorted (by calls, then pairs), weights and drop count kept. */
function renumberExemplars(exemplars: ExemplarCollector, idOf: Uint8Array): ExemplarCollector {
  const sets = exemplars.unigrams.map((bits, i) => ({
    unigrams: renumberBits(bits, idOf),
    pairs: Uint16Array.from(exemplars.pairs[i] as Uint16Array, (pair) => renumberPair(pair, idOf)).sort(),
    weight: exemplars.weights[i] as number,
  }));
  sets.sort((a, b) => compareWords(a.unigrams, b.unigrams) || compareWords(a.pairs, b.pairs));
  return exemplars.withSets(sets);
}

/** Element by element, then length: a total order (on processes: equal ones are the same calls). */
function compareWords(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}
