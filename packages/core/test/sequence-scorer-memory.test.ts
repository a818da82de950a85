import { describe, expect, it } from 'vitest';
import {
  createSequenceScorer,
  LoadedSequenceModel,
  SequenceLearner,
  type SequenceModel,
} from '../src/index.js';
import { ProcessState } from '../src/sequence/process-state.js';

const NORMAL = ['openat', 'read', 'fstat', 'mmap', 'read', 'close', 'write', 'close'];

/** A model of `server` from `n` runs of the normal loop, each a little different. */
function serverModel(n = 30): SequenceModel {
  const learner = new SequenceLearner({ program: 'server' });
  for (let pid = 1; pid <= n; pid++)
    for (let i = 0; i < 40 + pid; i++)
      learner.observeCall(pid, 'server', NORMAL[i % NORMAL.length] as string);
  learner.endTrace();
  return learner.toModel();
}

describe('sequence scorer: open processes past its cap', () => {
  it('pushes out the least recently active process, not the oldest one still making calls', () => {
    const scorer = createSequenceScorer(serverModel(), { program: 'server', maxProcesses: 3 });
    for (const pid of [1, 2, 3]) scorer.observeCall(pid, 'server', 'openat');
    scorer.observeCall(4, 'server', 'openat'); // full: the first sweep clears every mark and ends pid 1
    scorer.observeCall(2, 'server', 'read'); // pid 2 is active again, pid 3 is not
    scorer.observeCall(5, 'server', 'openat');
    const results = scorer.end();
    expect(results.slice(0, 2).map((r) => r.pid)).toEqual([1, 3]);
    // pid 2 stayed one process: both of its calls are in one result.
    expect(results.filter((r) => r.pid === 2)).toMatchObject([{ calls: 2 }]);
  });

  it('scores a pushed-out process as finished, and reports it over its threshold', () => {
    const scorer = createSequenceScorer(serverModel(), { program: 'server', maxProcesses: 2 });
    for (let i = 0; i < 200; i++) scorer.observeCall(1, 'server', i % 2 ? 'connect' : 'sendto');
    for (let pid = 2; pid <= 4; pid++) for (const call of NORMAL) scorer.observeCall(pid, 'server', call);
    const first = scorer.end()[0];
    expect(first).toMatchObject({ pid: 1, calls: 200, overThreshold: true });
    expect(first?.explanation?.summary).toMatch(/^server pid 1:/);
  });

  it('counts a process pushed out while still running that calls again as cut in two', () => {
    const scorer = createSequenceScorer(serverModel(), { program: 'server', maxProcesses: 3 });
    for (const pid of [1, 2, 3]) scorer.observeCall(pid, 'server', 'openat', pid);
    scorer.observeCall(1, 'server', 'read', 4);
    scorer.observeCall(4, 'server', 'openat', 5); // full: pid 1 goes (the first sweep clears every mark)
    expect(scorer.splitCount).toBe(0);
    scorer.observeCall(1, 'server', 'fstat', 6); // pid 1 was still running
    expect(scorer.splitCount).toBe(1);
    expect(scorer.firstSplit).toEqual({ pid: 1, program: 'server', calls: 2, line: 6 });
  });

  it('still counts it when more running processes than it holds were pushed out after it', () => {
    // The way to make it forget: push out a cap's worth of other live processes (they never
    // exit, or are killed without a call) before the cut one comes back.
    const scorer = createSequenceScorer(serverModel(), { program: 'server', maxProcesses: 3 });
    for (let pid = 1; pid <= 3 + 8; pid++) scorer.observeCall(pid, 'server', 'openat', pid);
    scorer.observeCall(1, 'server', 'read', 100);
    expect(scorer.firstSplit).toMatchObject({ pid: 1, line: 100 });
  });

  it('does not count a pushed-out pid that exited, or that came back as another program, as cut in two', () => {
    const scorer = createSequenceScorer(serverModel(), { maxProcesses: 2 });
    for (const pid of [1, 2, 3, 4]) scorer.observeCall(pid, 'server', 'openat');
    // pids 1 and 2 were pushed out: 1 exits, then its pid goes to a new process; 2 runs another program.
    expect(scorer.endProcess(1)).toBeUndefined();
    scorer.observeCall(1, 'server', 'openat');
    scorer.observeCall(2, 'client', 'openat');
    expect(scorer.splitCount).toBe(0);
    expect(scorer.firstSplit).toBeUndefined();
    // Nor, after the end of input, a pid it had pushed out.
    const again = createSequenceScorer(serverModel(), { maxProcesses: 2 });
    for (const pid of [1, 2, 3]) again.observeCall(pid, 'server', 'openat');
    again.end();
    again.observeCall(1, 'server', 'openat');
    expect(again.splitCount).toBe(0);
  });

  it('hands the processes it pushed out to a caller that never ends, once each', () => {
    const scorer = createSequenceScorer(serverModel(), { program: 'server', maxProcesses: 3 });
    for (let pid = 1; pid <= 6; pid++) for (const call of NORMAL) scorer.observeCall(pid, 'server', call);
    expect(scorer.endedCount).toBe(3);
    expect(scorer.takeEnded().map((r) => [r.pid, r.calls])).toEqual([
      [1, 8],
      [2, 8],
      [3, 8],
    ]);
    expect(scorer.endedCount).toBe(0);
    expect(scorer.end().map((r) => r.pid)).toEqual([4, 5, 6]);
  });

  it('past its cap of waiting results, drops those whose alert an observation carried before those no one has seen', () => {
    // Only `server` is learned: a named program it lacks alerts on its first call (announced);
    // a process not yet named waits for its name, so it alerts only when it ends (unannounced).
    const scorer = createSequenceScorer(serverModel(), { maxProcesses: 2 });
    const named = (pid: number) =>
      expect(scorer.observeCall(pid, `/bin/x${pid}`, 'read').explanation).toBeDefined();
    const unnamed = (pid: number) =>
      expect(scorer.observeCall(pid, 'default', 'read').overThreshold).toBe(false);
    named(1);
    unnamed(2);
    for (let pid = 3; pid <= 6; pid++) named(pid);
    const results = scorer.end();
    expect(results.every((r) => r.overThreshold)).toBe(true);
    // Four results had to go for two places: announced ones made room; pid 2's alert is still there.
    expect(results.map((r) => r.pid)).toEqual([2, 4, 5, 6]);
  });
});

describe('sequence process state: memory', () => {
  it('scores processes whose state reuses the buffer of an ended one exactly as fresh ones', () => {
    const model = new LoadedSequenceModel(serverModel());
    const runs = Array.from({ length: 24 }, (_, pid) =>
      Array.from({ length: 10 + pid * 7 }, (_, i) =>
        pid % 3 === 0 && i % 5 === 4
          ? i % 2
            ? 'ptrace'
            : 'connect'
          : (NORMAL[(i * (pid + 1)) % NORMAL.length] as string),
      ),
    );
    // One scorer for all: each process reuses the buffer of the one before it.
    const scorer = createSequenceScorer(model, { program: 'server' });
    const reused = runs.map((calls, pid) => {
      for (const [i, call] of calls.entries()) scorer.observeCall(pid, 'server', call, i + 1);
      return scorer.endProcess(pid);
    });
    const alone = runs.map((calls, pid) => {
      const fresh = createSequenceScorer(model, { program: 'server' });
      for (const [i, call] of calls.entries()) fresh.observeCall(pid, 'server', call, i + 1);
      return fresh.end()[0];
    });
    expect(reused).toEqual(alone);
    expect(reused.some((r) => r.overThreshold)).toBe(true);
  });

  it('keeps every array of a process in one buffer', () => {
    const model = new LoadedSequenceModel(serverModel()).programs.get('server');
    const state = new ProcessState(model!);
    for (const call of NORMAL) state.observe(model!.vocabulary.id(call), -1);
    const { buffer } = state.counts;
    expect(
      [
        state.values,
        state.bestCosts,
        state.bestTokens,
        state.bestLines,
        state.bestContexts,
        state.mixCounts,
      ].map((a) => a.buffer),
    ).toEqual(Array(6).fill(buffer));
  });

  it('names unseen calls in the costliest window, made after the ring first wrapped', () => {
    const scorer = createSequenceScorer(serverModel(), { program: 'server' });
    for (let i = 0; i < 100; i++) scorer.observeCall(1, 'server', NORMAL[i % NORMAL.length] as string, i + 1);
    for (let i = 0; i < 6; i++)
      scorer.observeCall(1, 'server', i % 2 ? 'ptrace' : 'process_vm_writev', 101 + i);
    const [result] = scorer.end();
    const calls = result?.explanation?.window.calls ?? [];
    expect(calls.map((c) => c.syscall)).toEqual(expect.arrayContaining(['ptrace', 'process_vm_writev']));
    const ptrace = calls.find((c) => c.syscall === 'ptrace');
    expect(ptrace?.line).toBeGreaterThan(100);
    // Calls of the window before the unseen ones keep their own names.
    expect(calls.filter((c) => NORMAL.includes(c.syscall)).length).toBeGreaterThan(0);
  });
});
