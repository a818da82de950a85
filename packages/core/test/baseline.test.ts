import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AnomalyVerdict,
  BaselineLearner,
  isSyscanError,
  learnBaseline,
  mergeBaselines,
  parseSyscallEvents,
  resolveDetectorConfig,
  SyscallAnomalyDetector,
} from '../src/index.js';
import { ev, many } from './detector-helpers.js';
import { corpusDir, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'syscan-baseline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Traces `argv` with the real strace (`-f -tt`), returning the trace text. */
function trace(name: string, argv: string[]): string {
  const out = join(tmp, `${name}.strace`);
  const r = spawnSync('strace', ['-f', '-tt', '-o', out, '--', ...argv], {
    stdio: 'ignore',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`strace ${argv.join(' ')} exited with ${r.status}`);
  return readFileSync(out, 'utf8');
}

const messages = (v: AnomalyVerdict): string[] => (v.kind === 'alert' ? v.alerts.map((a) => a.message) : []);

describe('learnBaseline', () => {
  it('gives a valid detector config: sorted syscalls, limits above the busiest window, what was learned', () => {
    const events = [
      ...many(30, 'read', { time: 0 }),
      ...many(10, 'openat', { time: 1_000, denied: true }),
      ...many(50, 'write', { time: 90_000 }),
      ev('close', { time: 91_000, source: 'audit' }),
    ];
    const b = learnBaseline(events);
    expect(b).toEqual({
      description:
        'Baseline learned from 91 syscall events: 4 syscalls, 1 allowed denials; limits are the busiest minute seen (51 events, 10 denied) × 1.5.',
      baselineSyscalls: ['close', 'openat', 'read', 'write'],
      maxTotalEventsPerMinute: 77, // ceil(51 × 1.5): the 50 + 1 events at 1:30, not the 40 at 0:00
      maxDeniedEventsPerMinute: 15,
      allowedDenials: [{ syscall: 'openat' }],
      ratesWithoutTimestamps: false,
      learned: {
        events: 91,
        deniedEvents: 10,
        peakEventsPerWindow: 51,
        peakDeniedPerWindow: 10,
        windowMs: 60_000,
        headroom: 1.5,
        sources: ['audit', 'strace'],
        droppedSyscalls: 0,
        firstTime: 0,
        lastTime: 91_000,
        timed: true,
      },
    });
    expect(() => resolveDetectorConfig(JSON.parse(JSON.stringify(b)))).not.toThrow();
  });

  it('sets a floor on the total limit, the default denied limit when nothing was denied, and a $schema on request', () => {
    const b = learnBaseline(many(3, 'read', { time: 5 }), {
      now: () => 0,
      $schema: './syscan-config.schema.json',
      headroom: 2,
    });
    expect(Object.keys(b)[0]).toBe('$schema');
    expect(b.maxTotalEventsPerMinute).toBe(20);
    expect(b.maxDeniedEventsPerMinute).toBe(5);
    expect(
      learnBaseline(many(3, 'read', { time: 5 }), { minTotalEventsPerMinute: 1, headroom: 2 })
        .maxTotalEventsPerMinute,
    ).toBe(6);
  });

  it('learns no rate limit from an untimed run: its size is not a rate', () => {
    const b = learnBaseline(many(1554, 'read'));
    expect(b.maxTotalEventsPerMinute).toBe(0);
    expect(b.maxDeniedEventsPerMinute).toBe(0);
    expect(b.learned.timed).toBe(false);
    expect(b.description).toContain('no rate limits (the events carried no timestamps)');
    // A bigger untimed re-run stays clean under it, whatever the library default says about clocks.
    const d = new SyscallAnomalyDetector({ ...b, maxAlertsPerMinute: 0 });
    expect(d.observe(many(10_000, 'read')).kind).toBe('clean');
  });

  it('allows the denials the normal runs made, and only those', () => {
    const denied = (path: string) => ev('openat', { denied: true, errno: 'EACCES', paths: [path] });
    const b = learnBaseline([ev('openat'), denied('/home/u/.config/git/config')]);
    expect(b.allowedDenials).toEqual([
      { syscall: 'openat', errno: 'EACCES', path: '/home/u/.config/git/config' },
    ]);
    const d = new SyscallAnomalyDetector(JSON.parse(JSON.stringify(b)));
    expect(d.observe(denied('/home/u/.config/git/config')).kind).toBe('clean');
    expect(d.observe(denied('/etc/shadow')).kind).toBe('alert');
    expect(d.stats().allowedDenials).toBe(1);
  });

  it('keeps a custom window in the config', () => {
    const b = learnBaseline(many(3, 'read'), { windowMs: 10_000 });
    expect(b.windowMs).toBe(10_000);
    expect(resolveDetectorConfig(b).windowMs).toBe(10_000);
  });

  it('refuses bad options in one error', () => {
    try {
      learnBaseline([], { headroom: 0.5, minTotalEventsPerMinute: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isSyscanError(error)).toBe(true);
      expect((error as Error).message).toBe(
        'invalid baseline options: headroom must be a number >= 1, got 0.5; minTotalEventsPerMinute must be a positive integer, got 0',
      );
    }
  });

  it('bounds the syscall names it keeps', () => {
    const learner = new BaselineLearner({ maxSyscalls: 10, now: () => 0 });
    for (let i = 0; i < 5_000; i++) learner.observe(ev(`s${i}`));
    const b = learner.toBaseline();
    expect(b.baselineSyscalls).toHaveLength(10);
    expect(b.learned.droppedSyscalls).toBe(4_990);
  });

  it('a learner fed in batches uses the clock per batch, as the detector does', () => {
    let t = 0;
    const learner = new BaselineLearner({ now: () => t });
    learner.observe(many(40, 'read'));
    t = 120_000;
    learner.observe(many(10, 'read'));
    expect(learner.toBaseline().learned.peakEventsPerWindow).toBe(40);
  });
});

describe('a detector with a learned baseline', () => {
  const run = [
    ...many(40, 'read', { time: 0 }),
    ...many(20, 'mmap', { time: 500 }),
    ...many(30, 'write', { time: 30_000 }),
    ...many(10, 'close', { time: 70_000 }),
  ];

  it('finds the same kind of run clean', () => {
    const d = new SyscallAnomalyDetector(learnBaseline(run));
    expect(d.observe(run)).toEqual({ kind: 'clean' });
  });

  it('still alerts on a denial, a new syscall and a burst', () => {
    const baseline = learnBaseline(run);
    const d = new SyscallAnomalyDetector(baseline);
    expect(messages(d.observe([...run, ev('openat', { denied: true, time: 71_000 })]))).toEqual([
      "unknown syscall 'openat' not in baseline",
      'denied syscall: openat',
    ]);
    expect(messages(d.observe(ev('socket', { time: 72_000 })))).toEqual([
      "unknown syscall 'socket' not in baseline",
    ]);
    const burst = many(baseline.maxTotalEventsPerMinute + 1, 'read', { time: 200_000 });
    expect(messages(d.observe(burst))).toEqual([
      `total event rate ${burst.length} exceeds limit ${baseline.maxTotalEventsPerMinute}/min`,
    ]);
  });

  it.skipIf(!hasStrace)(
    'learned from a real strace run, finds a second run of the same command clean',
    () => {
      const argv = ['sh', '-c', 'ls / > /dev/null; cat /etc/hostname > /dev/null'];
      const learnedText = trace('learn', argv);
      const events = parseSyscallEvents(learnedText);
      expect(events.length).toBeGreaterThan(50);
      expect(events.every((e) => !e.denied)).toBe(true);
      const baseline = learnBaseline(events);
      expect(baseline.baselineSyscalls).toEqual(
        expect.arrayContaining(['execve', 'openat', 'read', 'close']),
      );

      const d = new SyscallAnomalyDetector(baseline);
      expect(d.analyze(trace('again', argv))).toEqual({ kind: 'clean' });
      // Another command makes other syscalls.
      const other = d.analyze(
        trace('other', ['sh', '-c', 'sleep 0 & wait; mkdir -p /tmp/syscan-x; rmdir /tmp/syscan-x']),
      );
      expect(other.kind).toBe('alert');
    },
  );

  it.skipIf(!hasCorpus)('learned from a corpus trace, finds the trace itself clean', () => {
    const text = readFileSync(join(corpusDir, 'strace', 'git-status-f-tt.log'), 'utf8');
    const events = parseSyscallEvents(text).filter((e) => !e.denied);
    const d = new SyscallAnomalyDetector(learnBaseline(events));
    expect(d.observe(events)).toEqual({ kind: 'clean' });
  });
  if (!hasCorpus) it.skip(corpusSkipReason, () => {});
});

describe('mergeBaselines', () => {
  it('takes the union of syscalls and the highest limits', () => {
    const a = learnBaseline(many(100, 'read', { time: 0 }));
    const b = learnBaseline([
      ...many(10, 'write', { time: 0 }),
      ...many(4, 'openat', { time: 1, denied: true }),
    ]);
    const m = mergeBaselines(a, b);
    expect(m).toMatchObject({
      baselineSyscalls: ['openat', 'read', 'write'],
      maxTotalEventsPerMinute: 150,
      maxDeniedEventsPerMinute: 6,
      learned: { events: 114, deniedEvents: 4, peakEventsPerWindow: 100, merged: 2, sources: ['strace'] },
    });
    expect(mergeBaselines(m, learnBaseline(many(1, 'close'))).learned.merged).toBe(3);
    expect(() => resolveDetectorConfig(m)).not.toThrow();
  });

  it('refuses invalid baselines and different windows', () => {
    const a = learnBaseline(many(3, 'read'));
    expect(() => mergeBaselines(a, { ...a, maxTotalEventsPerMinute: -1 })).toThrow(
      'baseline 2: invalid detector config: maxTotalEventsPerMinute must be a positive integer, got -1',
    );
    expect(() => mergeBaselines(a, learnBaseline(many(3, 'read'), { windowMs: 1_000 }))).toThrow(
      /learned over a 1000 ms window/,
    );
    expect(() => mergeBaselines()).toThrow(/at least one/);
  });
});
