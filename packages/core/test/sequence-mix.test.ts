import { describe, expect, it } from 'vitest';
import { createSequenceScorer, SequenceLearner, type SequenceModel } from '../src/index.js';
import { MixProfiles } from '../src/sequence/mix.js';
import { rng } from './helpers/rng.js';

const PLAIN = ['accept', 'read', 'write', 'close'];
const WITH_FILE = ['accept', 'read', 'openat', 'fstat', 'read', 'close', 'write', 'close'];

/** A server run: 4–6 requests that read a file and 4–6 that do not, in any order (a stable mix). */
function normalRun(random: () => number): string[] {
  const requests = [
    ...Array.from({ length: 4 + Math.floor(random() * 3) }, () => PLAIN),
    ...Array.from({ length: 4 + Math.floor(random() * 3) }, () => WITH_FILE),
  ].sort(() => random() - 0.5);
  return ['execve', 'brk', 'mmap', 'close', ...requests.flat(), 'exit_group'];
}

/**
 * The same server made to read file after file (exfiltration, a directory walk): every call,
 * pair and 6-gram is one normal runs make; only the mix is not.
 */
function fileAfterFile(requests = 30): string[] {
  const calls = ['execve', 'brk', 'mmap', 'close'];
  for (let r = 0; r < requests; r++) calls.push(...WITH_FILE);
  return [...calls, 'exit_group'];
}

function learn(runs: string[][]): SequenceModel {
  const learner = new SequenceLearner({ program: 'server' });
  runs.forEach((calls, i) => {
    for (const call of calls) learner.observeCall(i + 1, 'server', call);
    learner.endTrace();
  });
  return learner.toModel();
}

function score(model: SequenceModel, calls: string[]) {
  const scorer = createSequenceScorer(model, { program: 'server' });
  for (const call of calls) scorer.observeCall(7, 'server', call);
  const observed = scorer.end()[0];
  if (observed === undefined) throw new Error('no process scored');
  return observed;
}

describe('sequence model: the call mix', () => {
  const random = rng(3);
  const normal = Array.from({ length: 80 }, () => normalRun(random));
  const model = learn(normal.slice(0, 60));
  const held = normal.slice(60);

  it('ranks a run of only known calls, pairs and n-grams in an unknown mix above every held-out normal run', () => {
    const attack = fileAfterFile();
    const attackScore = score(model, attack).score;
    for (const run of held) expect(score(model, run).score).toBeLessThan(attackScore);
  });

  it('explains the mix: the calls whose share differs from the nearest normal run, at its end', () => {
    const scorer = createSequenceScorer(model, { program: 'server', falseAlarmRate: 0.2 });
    for (const call of fileAfterFile(60)) scorer.observeCall(7, 'server', call);
    const [result] = scorer.end();
    const mix = result?.explanation?.mix;
    expect(result?.overThreshold).toBe(true);
    expect(mix?.at).toBe('end');
    expect(mix?.distance).toBeGreaterThan(0);
    const openat = mix?.calls.find((c) => c.syscall === 'openat');
    expect(openat).toBeDefined();
    expect(openat!.share).toBeGreaterThan(openat!.normalShare);
  });

  it('leaves the mix out of the score for programs learned from fewer than 50 distinct runs', () => {
    const few = learn(normal.slice(0, 20));
    const c = few.programs.server!.calibration!;
    expect(c.weights[6]).toBe(0);
    expect(model.programs.server!.calibration!.weights[6]).toBe(0.5);
  });

  it('stores profiles compactly and reads back the same distances; refuses bytes it did not write', () => {
    const tokens = (calls: string[]) => Uint8Array.from(calls, (c) => 2 + (c.length % 7));
    const profiles = MixProfiles.fromProcesses(normal.map(tokens));
    const copy = MixProfiles.decode(profiles.encode(), profiles.count);
    const counts = new Uint32Array(256);
    for (const t of tokens(fileAfterFile())) counts[t] = (counts[t] as number) + 1;
    for (const level of [0, 2, 12])
      expect(copy.nearest(level, counts, 244)).toEqual(profiles.nearest(level, counts, 244));
    expect(() => MixProfiles.decode(profiles.encode(), profiles.count + 1)).toThrow(RangeError);
    const bytes = profiles.encode().slice();
    bytes[1] = 250; // a profile of more than 256 calls
    expect(() => MixProfiles.decode(bytes, profiles.count)).toThrow(RangeError);
  });
});
