import { describe, expect, it } from 'vitest';
import {
  createSequenceScorer,
  LoadedSequenceModel,
  SEQUENCE_CHANNELS,
  SequenceLearner,
  type SequenceModel,
} from '../src/index.js';
import { explainProcess } from '../src/sequence/explain.js';
import { MixProfiles } from '../src/sequence/mix.js';
import { CALL_SET_FIRST_CALLS, ProcessState } from '../src/sequence/process-state.js';
import { rng } from './helpers/rng.js';

/** A daemon's normal run: setup, then requests that open, read, stat and write files, log, and wait. */
function normalRun(random: () => number, requests = 6 + Math.floor(random() * 6)): string[] {
  const calls = [
    'execve',
    'brk',
    'mmap',
    'openat',
    'fstat',
    'close',
    'rt_sigaction',
    'socket',
    'bind',
    'listen',
  ];
  for (let r = 0; r < requests; r++) {
    calls.push('poll', 'accept', 'read', 'openat', 'fstat', 'read', 'close', 'write');
    if (random() < 0.5) calls.push('sendto', 'clock_gettime');
    calls.push('close');
  }
  return [...calls, 'exit_group'];
}

/**
 * A stager in the daemon's clothes: after the same start it only polls, reads and writes
 * (a command loop). Each call is one the daemon makes.
 */
function commandLoop(rounds: number): string[] {
  const calls = ['execve', 'brk', 'mmap'];
  for (let r = 0; r < rounds; r++) calls.push('poll', 'read', 'write', 'clock_gettime');
  return calls;
}

function learn(runs: string[][], weights?: Record<string, number>): SequenceModel {
  const learner = new SequenceLearner({ program: 'daemon', ...(weights ? { weights } : {}) });
  runs.forEach((calls, i) => {
    for (const call of calls) learner.observeCall(i + 1, 'daemon', call);
    learner.endTrace();
  });
  return learner.toModel();
}

/** Every channel out of the score but the call set. */
const ONLY_CALL_SET = Object.fromEntries(SEQUENCE_CHANNELS.map((c) => [c, c === 'callSetCosine' ? 1 : 0]));

describe('sequence model: the call-set cosine', () => {
  const random = rng(11);
  const normal = Array.from({ length: 90 }, () => normalRun(random));
  const model = learn(normal.slice(0, 70));
  const held = normal.slice(70);

  it('is 0 for a normal set, 1 − √(k/n) for k of a normal run’s n calls, and counts calls the program never made one by one', () => {
    const profiles = MixProfiles.fromProcesses([Uint8Array.from([2, 3, 4, 5, 2, 3, 4, 5])]);
    const counts = (made: number[]) => {
      const c = new Uint32Array(8);
      for (const t of made) c[t] = (c[t] as number) + 1;
      return c;
    };
    const final = 12; // MIX_FINAL
    expect(profiles.nearest(final, counts([5, 4, 3, 2]), 4).setDistance).toBe(0);
    expect(profiles.nearest(final, counts([2, 3]), 2).setDistance).toBeCloseTo(1 - Math.sqrt(2 / 4), 12);
    // Two calls the program never made share one token (1); the second counts as well.
    const withUnseen = profiles.nearest(final, counts([2, 3, 4, 5, 1]), 5, 1).setDistance;
    expect(withUnseen).toBeCloseTo(1 - 4 / Math.sqrt(6 * 4), 12);
  });

  it('ranks a run that makes only a few of its program’s calls above every held-out normal run, and says which calls it lacks', () => {
    const attack = commandLoop(40);
    const scorer = createSequenceScorer(model, { program: 'daemon', falseAlarmRate: 0.05 });
    for (const call of attack) scorer.observeCall(7, 'daemon', call);
    const [result] = scorer.end();
    for (const run of held) {
      const s = createSequenceScorer(model, { program: 'daemon' });
      for (const call of run) s.observeCall(8, 'daemon', call);
      expect(s.end()[0]!.score).toBeLessThan(result!.score);
    }
    expect(result?.overThreshold).toBe(true);
    const set = result?.explanation?.callSet;
    expect(set?.at).toBe('end');
    expect(set?.distinct).toBe(7);
    expect(set?.normalDistinct).toBeGreaterThan(set!.distinct);
    expect(set?.missing).toContain('accept');
    expect(set?.added).toEqual([]);
    expect(set?.rarity).toBeGreaterThanOrEqual(2);
    // Containment, which the default score leaves out (and the scorer skips), is still explained: every call is a normal one.
    expect(result?.explanation?.channels.callSetDistance.value).toBe(0);
    expect(result?.explanation?.summary).toMatch(
      /7 distinct call\(s\) against \d+ of the nearest normal run \(whole run, cosine distance 0\.\d+\), lacking /,
    );
  });

  it(`judges a running process by its calls so far from ${CALL_SET_FIRST_CALLS} calls on, against normal runs at the same point`, () => {
    const only = learn(normal.slice(0, 70), ONLY_CALL_SET);
    const scorer = createSequenceScorer(only, { program: 'daemon', falseAlarmRate: 0.05 });
    let firstOver = -1;
    const calls = commandLoop(300);
    calls.forEach((call, i) => {
      const o = scorer.observeCall(7, 'daemon', call);
      if (o.overThreshold && firstOver < 0) {
        firstOver = i + 1;
        expect(o.explanation?.callSet?.at).toBe(CALL_SET_FIRST_CALLS);
      }
    });
    // Nothing is compared before 512 calls, and the first comparison already tells.
    expect(firstOver).toBeGreaterThanOrEqual(CALL_SET_FIRST_CALLS);
    expect(firstOver).toBeLessThan(2 * CALL_SET_FIRST_CALLS);
  });

  it('explains an alert raised before its first scored comparison by the latest earlier one, unscored, as the set was then', () => {
    // Scored by its mismatch rate alone, a command loop in the daemon's clothes crosses early.
    const onlyMismatches = Object.fromEntries(
      SEQUENCE_CHANNELS.map((c) => [c, c === 'mismatchRate' ? 1 : 0]),
    );
    const mismatches = learn(normal.slice(0, 70), onlyMismatches);
    const scorer = createSequenceScorer(mismatches, { program: 'daemon', falseAlarmRate: 0.05 });
    let explanation: NonNullable<ReturnType<typeof scorer.observeCall>['explanation']> | undefined;
    for (const call of commandLoop(40)) {
      const o = scorer.observeCall(9, 'daemon', call);
      if (o.overThreshold && explanation === undefined) explanation = o.explanation;
    }
    expect(explanation).toBeDefined();
    const set = explanation?.callSet;
    expect(explanation!.calls).toBeLessThan(CALL_SET_FIRST_CALLS);
    expect(set?.scored).toBe(false);
    expect(set?.rarity).toBe(0);
    expect(typeof set?.at === 'number' && set.at <= explanation!.calls).toBe(true);
    // Had made by then: the loop never accepts or opens, which every normal run has by 16 calls.
    expect(set?.missing).toContain('accept');
    expect(set?.distance).toBeGreaterThan(0);
    expect(set?.distinct).toBeLessThanOrEqual(set?.at as number);
  });

  it('describes the comparison it names, not calls made since: a normal run past its comparison adds nothing and has the mix it had', () => {
    // A held-out normal run explained a few calls past its comparison at 16 calls: its later
    // calls, made sooner than the normal runs' same first 16 had, were listed as added.
    const state = new ProcessState(new LoadedSequenceModel(model).programs.get('daemon')!);
    const run = held[0] as string[];
    for (const call of run.slice(0, 24)) state.observe(state.model.vocabulary.id(call), -1);
    const { callSet: set, mix } = explainProcess(state, 'daemon', 5, 1, 0);
    expect(set?.at).toBe(16);
    expect(set?.added).toEqual([]);
    expect(set?.distance).toBe(0);
    expect(set?.distinct).toBe(new Set(run.slice(0, 16)).size);
    // The mix too: its shares are those of the first 16 calls, which a normal run had exactly.
    expect(mix?.distance).toBe(0);
    expect(mix?.calls.every((c) => c.share === c.normalShare)).toBe(true);
  });

  it('does not say a running process lacks the call that ends it, against normal runs that ended sooner', () => {
    // Normal runs end within 128 calls: compared at 128, a longer run still going read
    // "lacks exit_group", a call it cannot have made yet.
    const state = new ProcessState(new LoadedSequenceModel(model).programs.get('daemon')!);
    const longRun = normalRun(rng(3), 16).slice(0, -1);
    expect(longRun.length).toBeGreaterThan(130);
    for (const call of longRun.slice(0, 130)) state.observe(state.model.vocabulary.id(call), -1);
    const set = explainProcess(state, 'daemon', 5, 1, 0).callSet;
    expect(set?.at).toBe(128);
    expect(set?.missing).not.toContain('exit_group');
    // At its end, a process that never exited does lack it.
    state.finish();
    expect(explainProcess(state, 'daemon', 5, 1, 0).callSet?.missing).toContain('exit_group');
  });

  it('weighs it from 50 normal runs on; a program of fewer gets the pair-set distance and the mismatch rate instead', () => {
    const weightsOf = (m: SequenceModel) => m.programs.daemon!.calibration!.weights;
    const few = weightsOf(learn(normal.slice(0, 20)));
    const many = weightsOf(model);
    const at = (name: string) => SEQUENCE_CHANNELS.indexOf(name as (typeof SEQUENCE_CHANNELS)[number]);
    expect(few[at('callSetCosine')]).toBe(0);
    expect([few[at('pairSetDistance')], few[at('mismatchRate')]]).toEqual([1, 1]);
    expect(many[at('callSetCosine')]).toBe(6);
    expect([many[at('pairSetDistance')], many[at('mismatchRate')]]).toEqual([0, 0.5]);
    // Weights that leave a small program nothing of its defaults are used for it as given.
    const own = weightsOf(learn(normal.slice(0, 20), { pairSetDistance: 0, mismatchRate: 0 }));
    expect(own[at('mixDistance')]).toBe(0.5);
    expect(own[at('callSetCosine')]).toBe(6);
  });
});
