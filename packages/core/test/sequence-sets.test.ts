import { describe, expect, it } from 'vitest';
import {
  createSequenceScorer,
  LoadedSequenceModel,
  SequenceLearner,
  type SequenceModel,
} from '../src/index.js';
import { Exemplars, setsOf } from '../src/sequence/exemplars.js';
import { rng } from './helpers/rng.js';

/** The sets of a token run, as a process state holds them: call bits, pair overlaps with each exemplar. */
function processSets(exemplars: Exemplars, tokens: number[]) {
  const sets = setsOf(Uint8Array.from(tokens));
  const overlaps = new Int32Array(exemplars.count);
  for (const pair of sets.pairs)
    for (const e of exemplars.holders(pair) ?? []) overlaps[e] = (overlaps[e] as number) + 1;
  let calls = 0;
  for (const word of sets.unigrams) calls += word.toString(2).replace(/0/g, '').length;
  return exemplars.difference(sets.unigrams, calls, overlaps, sets.pairs.length);
}

describe('sequence model: the set difference', () => {
  const common = [2, 3, 4, 5, 2, 3];
  const rare = [2, 3, 6, 7];
  const exemplars = new Exemplars({
    unigrams: [setsOf(Uint8Array.from(common)).unigrams, setsOf(Uint8Array.from(rare)).unigrams],
    pairs: [setsOf(Uint8Array.from(common)).pairs, setsOf(Uint8Array.from(rare)).pairs],
    weights: [99, 1],
  });

  it('counts what the process lacks as well as what it adds, to the nearest normal set', () => {
    expect(processSets(exemplars, common).nearest).toBe(0);
    // A prefix of both normal runs: nothing it has is new, but it lacks 2 calls and 2 pairs of
    // the rare run (its nearest) and 2 calls and 3 pairs of the common one.
    expect(processSets(exemplars, [2, 3]).nearest).toBe(4);
    // One call more than the common run: the call and its pair.
    expect(processSets(exemplars, [...common, 8]).nearest).toBe(2);
  });

  it('puts a set many normal runs share nearer than one a single run had', () => {
    const asCommon = processSets(exemplars, common).value;
    const asRare = processSets(exemplars, rare).value;
    expect(asRare).toBeGreaterThan(asCommon);
    // e^-d weighting, the two sets 9 apart: the common run is −ln((99 + e^−9)/100) from normal.
    expect(asCommon).toBeCloseTo(-Math.log((99 + Math.exp(-9)) / 100), 9);
    expect(asRare).toBeCloseTo(-Math.log((1 + 99 * Math.exp(-9)) / 100), 9);
  });

  const PLAIN = ['accept', 'read', 'write', 'close'];
  const WITH_FILE = ['accept', 'read', 'openat', 'fstat', 'read', 'close', 'write', 'close'];
  const random = rng(11);
  /** A server run: 1–3 plain requests and 1–3 that read a file (few distinct sets, most shared by many runs). */
  const normalRun = () => [
    'execve',
    'brk',
    ...Array.from({ length: 1 + Math.floor(random() * 3) }, () => PLAIN).flat(),
    ...Array.from({ length: 1 + Math.floor(random() * 3) }, () => WITH_FILE).flat(),
    'exit_group',
  ];
  const learn = (runs: string[][]): SequenceModel => {
    const learner = new SequenceLearner({ program: 'server' });
    runs.forEach((calls, i) => {
      for (const call of calls) learner.observeCall(i + 1, 'server', call);
      learner.endTrace();
    });
    return learner.toModel();
  };
  const runs = Array.from({ length: 80 }, normalRun);
  const model = learn(runs);

  it('stores how many normal runs had each distinct set, and weighs the channel from 50 runs on', () => {
    const stored = model.programs.server!;
    expect(stored.exemplars.count).toBeLessThan(80);
    const copy = new LoadedSequenceModel(JSON.parse(JSON.stringify(model)) as SequenceModel);
    const weights = (copy.programs.get('server')!.exemplars.sets.weights ?? []) as number[];
    expect(weights.reduce((a, b) => a + b, 0)).toBe(80);
    expect(stored.calibration!.weights[7]).toBe(0.5);
    expect(learn(runs.slice(0, 20)).programs.server!.calibration!.weights[7]).toBe(0);
  });

  it("counts the language model's mean cost, when asked for, only from 50 runs on (noise over a few short runs)", () => {
    const meanCostWeight = (n: number, weights: Record<string, number>): number | undefined => {
      const learner = new SequenceLearner({ program: 'server', weights });
      runs.slice(0, n).forEach((calls, i) => {
        for (const call of calls) learner.observeCall(i + 1, 'server', call);
        learner.endTrace();
      });
      return learner.toModel().programs.server!.calibration!.weights[0];
    };
    expect(meanCostWeight(80, { meanCost: 1 })).toBe(1);
    expect(meanCostWeight(20, { meanCost: 1 })).toBe(0);
    // Unless nothing else is weighted: then it is all there is.
    const alone = { meanCost: 1, pairSetDistance: 0, mismatchRate: 0, mixDistance: 0, setDifference: 0 };
    expect(meanCostWeight(20, alone)).toBe(1);
  });

  it('scores a run that skips the work every normal run does (only known calls and pairs) at its end, and says so', () => {
    // A stager: starts like the server, then reads and writes without ever serving a file.
    const stager = ['execve', 'brk', 'accept', 'read', 'write', 'close', 'exit_group'];
    const scorer = createSequenceScorer(model, { program: 'server', falseAlarmRate: 0.05 });
    for (const call of stager) scorer.observeCall(7, 'server', call);
    const [result] = scorer.end();
    expect(result?.explanation?.channels.setDifference?.value).toBeGreaterThan(0);
    expect(result?.overThreshold).toBe(true);
    expect(result?.explanation?.summary).toMatch(
      /\d+ distinct call\(s\)\/pair\(s\) differ from the nearest normal run's \(it lacks fstat, openat\)/,
    );
    // What the nearest normal run made and this one did not: the file it serves.
    const sets = result?.explanation?.sets;
    expect(sets?.missing.calls).toEqual(['fstat', 'openat']);
    expect(sets?.missing.pairs).toContainEqual(['openat', 'fstat']);
    expect(sets?.added.calls).toEqual([]);
  });
});
