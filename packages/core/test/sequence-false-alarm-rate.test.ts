import { describe, expect, it } from 'vitest';
import {
  createSequenceScorer,
  SequenceLearner,
  type SequenceModel,
  sequenceCalibration,
} from '../src/index.js';
import { rng } from './helpers/rng.js';

/** `runs` normal runs of a small worker: the same calls, a varying number of read/write rounds. */
function learn(runs: number, falseAlarmRate?: number): SequenceModel {
  const random = rng(11);
  const learner = new SequenceLearner({ program: 'worker', falseAlarmRate });
  for (let r = 0; r < runs; r++) {
    const calls = ['execve', 'brk', 'openat', 'fstat', 'mmap', 'close'];
    for (let i = 0, n = 3 + Math.floor(random() * 20); i < n; i++) calls.push('read', 'write');
    calls.push('exit_group');
    for (const call of calls) learner.observeCall(r + 1, 'worker', call);
    learner.endTrace();
  }
  return learner.toModel();
}

describe('sequence model: the false-alarm rate a threshold can hold', () => {
  it('says a program of 20 normal runs cannot hold 1 %: about 1 in 21 new normal runs passes its threshold', () => {
    const [worker] = sequenceCalibration(learn(20));
    expect(worker).toMatchObject({
      program: 'worker',
      processes: 20,
      scored: true,
      falseAlarmRate: 0.01,
      rateHeld: false,
    });
    expect(worker?.heldOutScores).toBe(20);
    expect(worker?.expectedFalseAlarmRate).toBeCloseTo(1 / 21, 10);
  });

  it('holds the rate with enough runs, and is asked at any rate', () => {
    const model = learn(300);
    const [at1] = sequenceCalibration(model);
    expect(at1?.rateHeld).toBe(true);
    expect(at1?.expectedFalseAlarmRate).toBeLessThan(0.015);
    expect(sequenceCalibration(model, 0.001)[0]?.rateHeld).toBe(false);
    expect(sequenceCalibration(learn(20), 0.1)[0]?.rateHeld).toBe(true);
  });

  it('does not score a program of too few runs, and says so', () => {
    const [worker] = sequenceCalibration(learn(2));
    expect(worker).toMatchObject({ scored: false, heldOutScores: 0, rateHeld: false });
    expect(worker?.expectedFalseAlarmRate).toBeNaN();
  });

  it('puts it in the alert: the explanation carries the rates, and the summary says what the threshold is worth', () => {
    const scorer = createSequenceScorer(learn(20), { program: 'worker' });
    for (const call of ['execve', 'brk', 'socket', 'connect', 'sendto', 'sendto', 'exit_group'])
      scorer.observeCall(99, 'worker', call);
    const [result] = scorer.end();
    expect(result?.overThreshold).toBe(true);
    const f = result?.explanation?.falseAlarms;
    expect(f).toEqual({ rate: 0.01, expected: 0.0476, heldOutScores: 20, held: false });
    expect(result?.explanation?.summary).toContain(
      'a threshold from 20 normal runs, which about 1 in 21 normal runs passes',
    );
  });

  it('says nothing of the threshold in the summary when it holds its rate', () => {
    const scorer = createSequenceScorer(learn(300), { program: 'worker' });
    for (const call of ['execve', 'brk', 'socket', 'connect', 'sendto', 'sendto', 'exit_group'])
      scorer.observeCall(99, 'worker', call);
    const [result] = scorer.end();
    expect(result?.explanation?.falseAlarms?.held).toBe(true);
    expect(result?.explanation?.summary).not.toContain('normal runs passes');
  });
});
