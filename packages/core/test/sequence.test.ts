import { describe, expect, it } from 'vitest';
import {
  createSequenceScorer,
  LoadedSequenceModel,
  learnSequenceModel,
  parseSyscallEvents,
  SEQUENCE_MODEL_VERSION,
  SequenceLearner,
  type SequenceModel,
  type SyscallEvent,
  sequenceAlert,
} from '../src/index.js';
import { ByteReader, ByteWriter, fromBase64, toBase64 } from '../src/sequence/codec.js';
import { rng } from './helpers/rng.js';

/** A "server" process: open/read…/close loops with some variation, then exit. */
function normalRun(random: () => number): string[] {
  const calls = ['execve', 'brk', 'mmap', 'openat', 'fstat', 'mmap', 'close'];
  const requests = 3 + Math.floor(random() * 6);
  for (let r = 0; r < requests; r++) {
    calls.push('accept', 'read');
    if (random() < 0.5) calls.push('openat', 'fstat', 'read', 'close');
    calls.push('write', 'close');
  }
  calls.push('exit_group');
  return calls;
}

/** The same server, exploited: after a request it spawns a shell-like sequence. */
function attackRun(random: () => number): string[] {
  const calls = normalRun(random);
  calls.splice(
    calls.length - 1,
    0,
    'read',
    'dup2',
    'dup2',
    'dup2',
    'execve',
    'socket',
    'connect',
    'write',
    'read',
  );
  return calls;
}

function events(pid: number, calls: string[], firstLine = 1, exe?: string): SyscallEvent[] {
  return calls.map((syscall, i) => ({
    kind: 'syscall',
    syscall,
    denied: false,
    raw: `${pid} ${syscall}() = 0`,
    source: 'strace',
    pid,
    line: firstLine + i,
    ...(exe === undefined ? {} : { process: { pid, exe } }),
  }));
}

function learnNormal(n: number, seed = 1): SequenceModel {
  const random = rng(seed);
  const learner = new SequenceLearner({ program: 'server' });
  for (let i = 0; i < n; i++) {
    for (const call of normalRun(random)) learner.observeCall(100 + i, 'server', call);
    learner.endTrace();
  }
  return learner.toModel();
}

function scoreCalls(model: SequenceModel | LoadedSequenceModel, calls: string[]) {
  const scorer = createSequenceScorer(model, { program: 'server' });
  for (const call of calls) scorer.observeCall(7, 'server', call);
  const [result] = scorer.end();
  if (result === undefined) throw new Error('no process scored');
  return result;
}

describe('sequence model: learning', () => {
  it('learns per program, keeps pids of one trace apart and counts processes and calls', () => {
    const trace = [
      ...events(1, ['openat', 'read', 'close'], 1, '/bin/cat'),
      ...events(2, ['socket', 'connect'], 4, '/usr/bin/curl'),
    ];
    // Interleave the two pids as strace -f does.
    const interleaved = [trace[0], trace[3], trace[1], trace[4], trace[2]] as SyscallEvent[];
    const model = learnSequenceModel([interleaved, events(1, ['openat', 'close'], 1, '/bin/cat')]);
    expect(model.version).toBe(SEQUENCE_MODEL_VERSION);
    expect(Object.keys(model.programs).sort()).toEqual(['/bin/cat', '/usr/bin/curl']);
    const cat = model.programs['/bin/cat'];
    expect(cat?.processes).toBe(2); // pid 1 of trace 1 and pid 1 of trace 2 are two processes
    expect(cat?.calls).toBe(5);
    expect(cat?.syscalls).toEqual(['close', 'openat', 'read']); // ids by name, not by first use
    expect(model.programs['/usr/bin/curl']?.calls).toBe(2);
  });

  it('falls back to comm, then to the caller-given program name', () => {
    const learner = new SequenceLearner({ program: 'fallback' });
    learner.observe({ ...events(1, ['read'])[0]!, process: { pid: 1, comm: 'nginx' } });
    learner.observe(events(2, ['write'])[0]!);
    expect(Object.keys(learner.toModel().programs).sort()).toEqual(['fallback', 'nginx']);
  });

  it('starts a new sequence when a pid execs another program', () => {
    const learner = new SequenceLearner();
    for (const e of events(5, ['clone', 'execve'], 1, '/bin/sh')) learner.observe(e);
    for (const e of events(5, ['brk', 'openat'], 3, '/bin/ls')) learner.observe(e);
    const model = learner.toModel();
    expect(model.programs['/bin/sh']?.calls).toBe(2);
    expect(model.programs['/bin/ls']?.calls).toBe(2);
  });

  it('calibrates out of fold: thresholds exist and rise as the false-alarm rate falls', () => {
    const model = learnNormal(60);
    const calibration = model.programs.server?.calibration;
    expect(calibration?.method).toBe('out-of-fold');
    const loaded = new LoadedSequenceModel(model);
    const program = loaded.programs.get('server')!;
    expect(program.threshold(0.01)).toBeGreaterThanOrEqual(program.threshold(0.1));
    expect(Number.isFinite(program.threshold(0.01))).toBe(true);
  });

  it('learns bare calls (`name() = N`, `PID name() = N`) exactly as events', () => {
    const random = rng(3);
    const runs = Array.from({ length: 12 }, () => normalRun(random));
    const text = runs.map((calls, i) => calls.map((c) => `${200 + i} ${c}() = 0`).join('\n')).join('\n');
    const viaText = new SequenceLearner({ program: 'server' });
    for (const e of parseSyscallEvents(text)) viaText.observe(e);
    const viaCalls = new SequenceLearner({ program: 'server' });
    runs.forEach((calls, i) => {
      for (const c of calls) viaCalls.observeCall(200 + i, 'server', c);
    });
    expect(viaText.toModel()).toEqual(viaCalls.toModel());
    // One process per file, no pid at all: `open() = 3`.
    const single = parseSyscallEvents('open() = 3\nread() = 10\nclose() = 0\n');
    const model = learnSequenceModel([single], { program: 'server' });
    expect(model.programs.server?.syscalls).toEqual(['close', 'open', 'read']);
  });

  it('learns the same model, byte for byte, from the same runs in any order', () => {
    // Two programs, enough distinct runs for five folds and the nearest-normal channels.
    const random = rng(11);
    const runs = Array.from({ length: 80 }, (_, i) => ({
      program: i % 3 === 0 ? 'worker' : 'server',
      calls: i % 3 === 0 ? normalRun(random).reverse() : normalRun(random),
    }));
    const learn = (order: number[]) => {
      const learner = new SequenceLearner();
      for (const i of order) {
        for (const call of runs[i]!.calls) learner.observeCall(1000 + i, runs[i]!.program, call);
        learner.endTrace();
      }
      return learner.toModel();
    };
    const forward = runs.map((_, i) => i);
    const shuffled = [...forward];
    const pick = rng(12);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(pick() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const a = learn(forward);
    const b = learn(shuffled);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(learn([...forward].reverse()))).toBe(JSON.stringify(a));
    // And the order did matter to what came first: the thresholds are calibrated, not empty.
    expect(a.programs.server?.calibration?.method).toBe('out-of-fold');
    const attack = attackRun(rng(5));
    expect(scoreCalls(b, attack).score).toBe(scoreCalls(a, attack).score);
  });
});

describe('sequence model: serialisation', () => {
  /** A copy to edit by hand, as someone editing the JSON would: without the checksums learn wrote. */
  const unsealed = (model: SequenceModel): SequenceModel => {
    const copy = JSON.parse(JSON.stringify(model)) as SequenceModel;
    for (const p of Object.values(copy.programs)) delete p.checksum;
    return copy;
  };

  it('round-trips through JSON and scores the same', () => {
    const model = learnNormal(40);
    const copy = JSON.parse(JSON.stringify(model)) as SequenceModel;
    const calls = attackRun(rng(9));
    expect(scoreCalls(copy, calls).score).toBe(scoreCalls(model, calls).score);
  });

  it('refuses a model changed after learning (a flipped base64 character still decodes) but not one re-written with sorted keys', () => {
    const model = learnNormal(10);
    const flipped = JSON.parse(JSON.stringify(model)) as SequenceModel;
    const grams = flipped.programs.server!.ngrams;
    const at = grams.length >> 1;
    flipped.programs.server!.ngrams =
      `${grams.slice(0, at)}${grams[at] === 'A' ? 'B' : 'A'}${grams.slice(at + 1)}`;
    expect(() => new LoadedSequenceModel(flipped)).toThrow(
      /program 'server': its data does not match its checksum/,
    );
    const cut = JSON.parse(JSON.stringify(model)) as SequenceModel;
    cut.programs.server!.calibration!.channelScores![0]!.pop();
    expect(() => new LoadedSequenceModel(cut)).toThrow(/does not match its checksum/);
    // Another tool's JSON: keys sorted at every level, numbers re-printed, re-indented.
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortKeys)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([k, x]) => [k, sortKeys(x)]),
            )
          : v;
    const rewritten = JSON.parse(JSON.stringify(sortKeys(model), null, 1)) as SequenceModel;
    const calls = attackRun(rng(9));
    expect(scoreCalls(rewritten, calls).score).toBe(scoreCalls(model, calls).score);
  });

  it('refuses another version or a corrupted table with a message saying what is wrong', () => {
    const model = learnNormal(10);
    expect(() => new LoadedSequenceModel({ ...model, version: 99 as 2 })).toThrow(
      /version 99 is not supported/,
    );
    const broken = unsealed(model);
    broken.programs.server!.ngrams = '!!not base64';
    expect(() => new LoadedSequenceModel(broken)).toThrow(/program 'server'.*base64/);
  });

  /** Exemplar data as versions before 4 wrote it: 8 words and a pair list each, no count of processes. */
  const withoutExemplarWeights = (data: string, count: number): string => {
    const reader = new ByteReader(fromBase64(data));
    const writer = new ByteWriter();
    for (let e = 0; e < count; e++) {
      for (let w = 0; w < 8; w++) writer.varint(reader.varint());
      const pairs = reader.varint();
      writer.varint(pairs);
      for (let i = 0; i < pairs; i++) writer.varint(reader.varint());
      reader.varint();
    }
    return toBase64(writer.bytes());
  };

  /**
   * The model as an older syscan wrote it: version 4 has eight channels (no call-set cosine);
   * version 3 seven and sums rarities at one checkpoint; versions 1 and 2 six channels, no mix,
   * no combination (1: no per-channel peaks).
   */
  const asVersion = (model: SequenceModel, version: 1 | 2 | 3 | 4): SequenceModel => {
    const old = unsealed(model);
    const channels = version === 4 ? 8 : version === 3 ? 7 : 6;
    old.version = version;
    old.channels = old.channels.slice(0, channels);
    for (const p of Object.values(old.programs)) {
      if (version < 4) p.exemplars.data = withoutExemplarWeights(p.exemplars.data, p.exemplars.count);
      if (version < 3) delete p.mix;
      const c = p.calibration;
      if (c === undefined) continue;
      if (version === 3) c.combination = 'sum';
      else if (version < 3) delete c.combination;
      c.mean = c.mean.slice(0, channels);
      c.spread = c.spread.slice(0, channels);
      c.weights = c.weights.slice(0, channels);
      if (version === 1) delete c.channelScores;
      else c.channelScores = c.channelScores?.slice(0, channels);
    }
    return old;
  };

  it('reads version 1 (z-score mean), 2 (highest rarity), 3 (sum at a checkpoint) and 4 (no call-set cosine) models and scores them as they were learned; refuses per-channel peaks that are not lists', () => {
    const model = learnNormal(40);
    const calls = attackRun(rng(9));
    for (const version of [1, 2, 3, 4] as const) {
      const old = asVersion(model, version);
      const score = scoreCalls(old, calls).score;
      expect(Number.isFinite(score)).toBe(true);
      expect(scoreCalls(old, normalRun(rng(5))).score).toBeLessThan(score);
    }
    const withPeaks = asVersion(model, 2);
    withPeaks.version = 1;
    expect(() => new LoadedSequenceModel(withPeaks)).toThrow(/version 1 calibrations have no channelScores/);
    const withMix = asVersion(model, 2);
    withMix.programs.server!.mix = model.programs.server!.mix;
    expect(() => new LoadedSequenceModel(withMix)).toThrow(/version 2 models have no mix/);
    const broken = unsealed(model);
    broken.programs.server!.calibration!.channelScores = [[1, 0]];
    expect(() => new LoadedSequenceModel(broken)).toThrow(
      /channelScores must be 9 non-empty ascending lists/,
    );
  });

  it('refuses a calibration it could not score with, and weights that say nothing', () => {
    const broken = unsealed(learnNormal(10));
    broken.programs.server!.calibration!.spread = [1, 2];
    expect(() => new LoadedSequenceModel(broken)).toThrow(
      /calibration mean, spread and weights must be 9 numbers/,
    );
    const zero = {
      meanCost: 0,
      windowCost: 0,
      novelty: 0,
      callSetDistance: 0,
      pairSetDistance: 0,
      mismatchRate: 0,
      mixDistance: 0,
      setDifference: 0,
      callSetCosine: 0,
    };
    expect(() => new SequenceLearner({ weights: zero })).toThrow(/at least one channel weight/);
  });

  it('learns and scores a program with more distinct calls than 8-bit tokens hold', () => {
    const names = Array.from({ length: 300 }, (_, i) => `call${i}`);
    const learner = new SequenceLearner({ program: 'big' });
    for (let p = 0; p < 6; p++) {
      for (const n of names) learner.observeCall(p, 'big', n);
      learner.endTrace();
    }
    const model = learner.toModel();
    expect(model.programs.big?.syscalls).toHaveLength(253);
    expect(model.programs.big?.overflowSyscalls).toBe(47);
    const scorer = createSequenceScorer(JSON.parse(JSON.stringify(model)) as SequenceModel, {
      program: 'big',
    });
    for (const n of names) scorer.observeCall(1, 'big', n);
    expect(Number.isFinite(scorer.end()[0]?.score)).toBe(true);
  });

  it('stays compact: bytes grow with distinct n-grams and distinct normal runs, not with calls', () => {
    const learn = (copies: number) => {
      const learner = new SequenceLearner({ program: 'server' });
      for (let copy = 0; copy < copies; copy++) {
        const random = rng(1); // the same 50 runs again: nothing new to keep
        for (let i = 0; i < 50; i++) {
          for (const call of normalRun(random)) learner.observeCall(100 + i, 'server', call);
          learner.endTrace();
        }
      }
      return JSON.stringify(learner.toModel()).length;
    };
    // Past the calibration's stored quantiles (1000 scores, 200 per channel) nothing grows.
    expect(learn(40)).toBeLessThan(learn(20) * 1.05);
    // Distinct runs add their sets and mixes, up to the caps (2000 each).
    expect(JSON.stringify(learnNormal(500)).length).toBeLessThan(JSON.stringify(learnNormal(50)).length * 12);
  });
});

describe('sequence model: scoring', () => {
  it('scores held-out normal runs below the threshold and attacks above it', () => {
    const loaded = new LoadedSequenceModel(learnNormal(80));
    const random = rng(42);
    const normal = Array.from({ length: 40 }, () => scoreCalls(loaded, normalRun(random)));
    const attacks = Array.from({ length: 20 }, () => scoreCalls(loaded, attackRun(random)));
    const over = normal.filter((r) => r.overThreshold).length;
    expect(over).toBeLessThanOrEqual(4);
    expect(attacks.every((r) => r.overThreshold)).toBe(true);
    const worstNormal = Math.max(...normal.map((r) => r.score));
    expect(Math.min(...attacks.map((r) => r.score))).toBeGreaterThan(worstNormal);
  });

  it('scores as calls stream in: the call that crosses the threshold carries the explanation, once', () => {
    const model = learnNormal(60);
    const scorer = createSequenceScorer(model, { program: 'server' });
    const explained = [];
    let previous = Number.NEGATIVE_INFINITY;
    for (const e of events(9, attackRun(rng(5)))) {
      const o = scorer.observe(e);
      expect(o.processScore).toBeGreaterThanOrEqual(previous); // the score is a running peak
      previous = o.processScore;
      if (o.explanation !== undefined) explained.push({ line: e.line, explanation: o.explanation });
    }
    expect(explained).toHaveLength(1);
    const [result] = scorer.end();
    expect(result?.overThreshold).toBe(true);
  });

  it('takes a comm for the program only where the exe is unknown: a process names itself', () => {
    // A model keyed by comm (learned from traces that never showed an exec), and a normal run.
    const learner = new SequenceLearner({ program: 'worker' });
    for (let i = 0; i < 60; i++) {
      for (const call of normalRun(rng(i + 1))) learner.observeCall(100 + i, 'worker', call);
      learner.endTrace();
    }
    const model = learner.toModel();
    const scoreAs = (process: { exe?: string; comm: string }) => {
      const scorer = createSequenceScorer(model, { program: 'other' });
      for (const e of events(9, normalRun(rng(99))))
        scorer.observe({ ...e, process: { pid: 9, ...process } });
      return scorer.end()[0]!;
    };
    expect(scoreAs({ comm: 'worker' })).toMatchObject({ program: 'worker', overThreshold: false });
    // An executable the model never learned, renamed (prctl PR_SET_NAME) to a learned comm.
    const renamed = scoreAs({ exe: '/tmp/x/payload', comm: 'worker' });
    expect(renamed).toMatchObject({ program: '/tmp/x/payload', overThreshold: true });
    expect(renamed.explanation?.summary).toMatch(/no sequence model for this program/);
  });

  it('treats a program the model never learned as anomalous (fail closed)', () => {
    const scorer = createSequenceScorer(learnNormal(10));
    const o = scorer.observe(events(3, ['read'], 1, '/usr/bin/unknown')[0]!);
    expect(o.overThreshold).toBe(true);
    expect(o.explanation?.summary).toMatch(/no sequence model for this program/);
  });
});

describe('sequence model: explanations', () => {
  it('names the unusual window with its trace lines, what was expected there, and the novel calls and pairs', () => {
    const model = learnNormal(60);
    const scorer = createSequenceScorer(model, { program: 'server' });
    const calls = attackRun(rng(11));
    for (const e of events(9, calls, 100)) scorer.observe(e);
    const [result] = scorer.end();
    const x = result?.explanation;
    expect(x).toBeDefined();
    if (x === undefined) return;
    const names = x.window.calls.map((c) => c.syscall);
    expect(names).toContain('dup2');
    for (const c of x.window.calls) {
      expect(c.line).toBeGreaterThanOrEqual(100);
      // The line points at the same call in the input.
      expect(calls[(c.line as number) - 100]).toBe(c.syscall);
    }
    const dup2 = x.window.calls.find((c) => c.syscall === 'dup2');
    expect(dup2?.expected?.length).toBeGreaterThan(0);
    // Right after a call the program never made, the model has nothing to expect of its own.
    const known = new Set(normalRun(rng(1)));
    const afterUnseen = x.window.calls.filter((c) => !known.has(calls[(c.line as number) - 101] as string));
    expect(afterUnseen.length).toBeGreaterThan(0);
    for (const c of afterUnseen) expect(c.expected).toBeUndefined();
    expect(x.novel.calls.map((c) => c.syscall)).toEqual(
      expect.arrayContaining(['dup2', 'socket', 'connect']),
    );
    expect(x.novel.pairs.map((p) => p.syscalls.join('→'))).toContain('close→read');
    expect(x.summary).toMatch(/^server pid 9: calls unlike normal/);
    const alert = sequenceAlert(result!);
    expect(alert).toMatchObject({
      type: 'sequence_anomaly',
      pid: 9,
      score: result?.score,
      threshold: result?.threshold,
    });
    expect(alert.details).toBe(x);
  });
});

describe('sequence model: an alert raised at the end of a process', () => {
  it('says where its last call was and who made it, as the crossing alert does of its call', () => {
    // A process judged only at its end (an exec, an exit, the end of the input) has no call
    // that took it over: the alert had no line, no program, no argv.
    const scorer = createSequenceScorer(learnNormal(60), { program: 'server' });
    const calls = attackRun(rng(11)).slice(0, 12);
    const observed = events(9, calls, 100, 'server').map((e) => ({
      ...e,
      process: { pid: 9, exe: 'server', argv: ['server', '--port', '8080'], uid: 33 },
    }));
    for (const e of observed) scorer.observe(e);
    const [result] = scorer.end();
    expect(result?.overThreshold).toBe(true);
    expect(result?.line).toBe(100 + calls.length - 1);
    const alert = sequenceAlert(result!);
    expect(alert.line).toBe(100 + calls.length - 1);
    expect(alert.process).toMatchObject({ exe: 'server', argv: ['server', '--port', '8080'], uid: 33 });
    expect(alert.syscall).toBeUndefined();
  });
});

describe('sequence model: bounded memory', () => {
  it('keeps at most maxProcesses open in a scorer, reporting the ones it ends', () => {
    const scorer = createSequenceScorer(learnNormal(10), { program: 'server', maxProcesses: 1000 });
    for (let pid = 1; pid <= 1500; pid++) scorer.observeCall(pid, 'server', 'read');
    const ended = scorer.end();
    expect(ended).toHaveLength(1500); // 500 ended early to make room, 1000 at the end
    expect(ended.every((r) => r.calls === 1)).toBe(true);
  });

  it('keeps at most maxOpenProcesses open while learning and stops keeping calls for calibration past its budget', () => {
    const learner = new SequenceLearner({ program: 'p', maxOpenProcesses: 4, maxCalibrationCalls: 100 });
    for (let pid = 1; pid <= 50; pid++)
      for (let i = 0; i < 10; i++) learner.observeCall(pid, 'p', i % 2 ? 'read' : 'write');
    const model = learner.toModel();
    expect(model.programs.p?.processes).toBe(50);
    expect(model.programs.p?.calls).toBe(500);
  });

  it('counts a process it ended past maxOpenProcesses that calls again as learned in two parts', () => {
    const learner = new SequenceLearner({ program: 'p', maxOpenProcesses: 2 });
    for (const pid of [1, 2, 3]) learner.observeCall(pid, 'p', 'read'); // pid 1 is ended
    learner.observeCall(1, 'p', 'write'); // …while it still ran
    expect(learner.splitProcesses).toBe(1);
    // An exit clears it: the pid may go to a new process. So does the end of a trace.
    learner.observeCall(4, 'p', 'read'); // pid 2 ended
    learner.endProcess(2);
    learner.observeCall(2, 'p', 'read');
    learner.observeCall(5, 'p', 'read'); // pid 4 ended (pid 1 was, by pid 2's return)
    learner.endTrace();
    learner.observeCall(1, 'p', 'read');
    expect(learner.splitProcesses).toBe(1);
  });

  it('learns at most maxPrograms programs; the calls of the others are counted, and score as unknown', () => {
    const learner = new SequenceLearner({ maxPrograms: 2 });
    for (const [pid, exe] of [
      [1, '/bin/a'],
      [2, '/bin/b'],
      [3, '/bin/c'],
    ] as const)
      for (const e of events(pid, ['read', 'write'], 1, exe)) learner.observe(e);
    const model = learner.toModel();
    expect(Object.keys(model.programs)).toEqual(['/bin/a', '/bin/b']);
    expect(learner.droppedCalls).toBe(2);
    const o = createSequenceScorer(model).observe(events(3, ['read'], 1, '/bin/c')[0]!);
    expect(o.overThreshold).toBe(true);
  });

  it('keeps at most maxProcesses results waiting for end()', () => {
    const scorer = createSequenceScorer(learnNormal(10), { program: 'server', maxProcesses: 4 });
    for (let pid = 1; pid <= 100; pid++) scorer.observeCall(pid, 'server', 'read');
    expect(scorer.end().length).toBeLessThanOrEqual(8);
  });

  it('drops results under their threshold before one over it, whose alert nobody has seen yet', () => {
    const model = learnNormal(40);
    const scorer = createSequenceScorer(model, { program: 'server', maxProcesses: 4 });
    const random = rng(11);
    // pid 1 is an attack ended (evicted) early, then 60 normal processes push results out.
    for (const call of attackRun(random)) scorer.observeCall(1, 'server', call);
    for (let pid = 2; pid <= 60; pid++)
      for (const call of normalRun(random)) scorer.observeCall(pid, 'server', call);
    const results = scorer.end();
    expect(results.find((r) => r.pid === 1)?.overThreshold).toBe(true);
  });

  it('scores a long process without keeping its calls', () => {
    const scorer = createSequenceScorer(learnNormal(20), { program: 'server' });
    const random = rng(2);
    let calls = 0;
    while (calls < 200_000) {
      for (const c of normalRun(random)) {
        scorer.observeCall(1, 'server', c);
        calls++;
      }
    }
    const [result] = scorer.end();
    expect(result?.calls).toBe(calls);
    expect(Number.isFinite(result?.score)).toBe(true);
  });
});

describe('sequence model: processes named late', () => {
  it('moves the first calls of a child printed before its parent named it into its program', () => {
    const learner = new SequenceLearner();
    for (let run = 0; run < 6; run++) {
      // strace -f: the child's first call comes before the parent's clone returns (no context yet).
      learner.observe({ ...events(50 + run, ['set_robust_list'])[0]! });
      for (const e of events(50 + run, ['dup2', 'close', 'execve', 'read', 'exit_group'], 2, '/bin/sh'))
        learner.observe(e);
      learner.endTrace();
    }
    const model = learner.toModel();
    expect(Object.keys(model.programs)).toEqual(['/bin/sh']);
    expect(model.programs['/bin/sh']?.calls).toBe(36);
    const scorer = createSequenceScorer(model);
    const first = scorer.observe(events(9, ['set_robust_list'])[0]!);
    expect(first.overThreshold).toBe(false); // waiting for the trace to name it
    for (const e of events(9, ['dup2', 'close', 'execve', 'read', 'exit_group'], 2, '/bin/sh'))
      scorer.observe(e);
    const results = scorer.end();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ program: '/bin/sh', calls: 6, overThreshold: false });
  });

  it('announces a process its first calls take over the threshold once they are replayed under its name', () => {
    const model = learnSequenceModel([events(1, ['read', 'write'], 1, '/bin/cat')]);
    const scorer = createSequenceScorer(model);
    for (const e of events(9, ['set_robust_list', 'read']))
      expect(scorer.observe(e).explanation).toBeUndefined(); // waiting for its name
    // Named as a program the model never learned: the replayed calls are over the threshold,
    // and the call that named it says so (the replay reaches no caller).
    const [named] = events(9, ['socket'], 3, '/tmp/implant');
    const o = scorer.observe(named!);
    expect(o.explanation?.summary).toMatch(/^\/tmp\/implant pid 9: no sequence model for this program/);
    const [result] = scorer.end();
    expect(result).toMatchObject({ program: '/tmp/implant', calls: 3, overThreshold: true, announced: true });
  });

  it('still fails closed on a process that is never named, when the model knows only named programs', () => {
    const model = learnSequenceModel([events(1, ['read', 'write'], 1, '/bin/cat')]);
    const scorer = createSequenceScorer(model);
    scorer.observe(events(2, ['read'])[0]!);
    const [result] = scorer.end();
    expect(result?.overThreshold).toBe(true);
  });
});
