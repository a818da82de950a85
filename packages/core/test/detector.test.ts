import { describe, expect, it } from 'vitest';
import { type AnomalyVerdict, SyscallAnomalyDetector, type SyscallEvent } from '../src/index.js';
import { ev, manualClock, many } from './detector-helpers.js';

const alertsOf = (v: AnomalyVerdict) => {
  if (v.kind !== 'alert') throw new Error(`expected an alert verdict, got ${JSON.stringify(v)}`);
  return v.alerts;
};
const withoutTimes = (v: AnomalyVerdict): AnomalyVerdict =>
  v.kind === 'alert' ? { kind: 'alert', alerts: v.alerts.map(({ time: _t, ...a }) => a) } : v;
const typesOf = (v: AnomalyVerdict): string[] => (v.kind === 'alert' ? v.alerts.map((a) => a.type) : []);

describe('alerts', () => {
  it('carry type, severity, seed wording and the facts of the first event concerned', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    const v = d.observe([
      ev('read'),
      ev('connect', { line: 7, pid: 42, time: 1_000, raw: 'connect(3, {sa_family=AF_INET}, 16) = 0' }),
      ev('openat', { denied: true, line: 9, pid: 42 }),
    ]);
    expect(alertsOf(v)).toEqual([
      {
        type: 'unknown_syscall',
        severity: 'medium',
        message: "unknown syscall 'connect' not in baseline",
        syscall: 'connect',
        count: 1,
        sample: 'connect(3, {sa_family=AF_INET}, 16) = 0',
        line: 7,
        pid: 42,
        time: 1_000,
      },
      {
        type: 'denied_syscall',
        severity: 'high',
        message: 'denied syscall: openat',
        syscall: 'openat',
        count: 1,
        sample: 'openat(3) = -1 EACCES (Permission denied)',
        line: 9,
        pid: 42,
      },
    ]);
  });

  it('an unknown syscall from the dangerous list is critical; forbidden ones alert even in the baseline', () => {
    const d = new SyscallAnomalyDetector({ forbiddenSyscalls: ['execve'], now: () => 0 });
    const alerts = alertsOf(d.observe([ev('bpf'), ev('execve'), ev('socket')]));
    expect(alerts.map((a) => [a.type, a.severity, a.message])).toEqual([
      ['unknown_syscall', 'critical', "unknown syscall 'bpf' not in baseline"],
      ['forbidden_syscall', 'critical', 'forbidden syscall: execve'],
      ['unknown_syscall', 'medium', "unknown syscall 'socket' not in baseline"],
    ]);
  });

  it('severities can be overridden per alert type', () => {
    const d = new SyscallAnomalyDetector({ severity: { unknown_syscall: 'low' }, now: () => 0 });
    expect(alertsOf(d.observe(ev('socket')))[0]!.severity).toBe('low');
    expect(alertsOf(d.observe(ev('ptrace')))[0]!.severity).toBe('critical');
  });

  it('rate alerts give the peak count, the limit and the event that crossed it', () => {
    const d = new SyscallAnomalyDetector({ maxTotalEventsPerMinute: 3, now: () => 0 });
    const events = [ev('read'), ev('read'), ev('read'), ev('write', { line: 4 }), ev('read')];
    expect(alertsOf(d.observe(events))).toEqual([
      {
        type: 'total_rate',
        severity: 'medium',
        message: 'total event rate 5 exceeds limit 3/min',
        count: 5,
        limit: 3,
        sample: 'write(3) = 0',
        line: 4,
      },
    ]);
  });

  it('a window other than 60 s is named in the messages', () => {
    const d = new SyscallAnomalyDetector({ maxDeniedEventsPerMinute: 1, windowMs: 10_000, now: () => 0 });
    const messages = alertsOf(d.observe(many(2, 'openat', { denied: true }))).map((a) => a.message);
    expect(messages).toContain('denied event rate 2 exceeds limit 1/10s');
  });

  it('cuts samples to about 240 characters, never inside a surrogate pair', () => {
    const raw = `openat(AT_FDCWD, "${'a'.repeat(220)}😀😀😀😀😀😀😀😀😀😀", O_RDONLY) = -1 EACCES`;
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    const sample = alertsOf(d.observe(ev('openat', { denied: true, raw })))[0]!.sample!;
    expect(sample.length).toBeLessThanOrEqual(241);
    expect(sample.endsWith('…')).toBe(true);
    const body = sample.slice(0, -1);
    expect(raw.startsWith(body)).toBe(true);
    // The last kept unit is not a lone high surrogate.
    const last = body.charCodeAt(body.length - 1);
    expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
  });
});

describe('merging identical alerts (seed defect 7)', () => {
  // Seed: `alerts.dedup()` drops only *adjacent* duplicates, so ptrace, read, ptrace gave two
  // "unknown syscall 'ptrace'" alerts (with `read` unknown in between they are not adjacent).
  it('merges identical alerts anywhere in one verdict, with their count', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    const alerts = alertsOf(
      d.observe([ev('ptrace'), ev('socket'), ev('ptrace'), ev('openat', { denied: true }), ev('ptrace')]),
    );
    expect(alerts.map((a) => [a.message, a.count])).toEqual([
      ["unknown syscall 'ptrace' not in baseline", 3],
      ["unknown syscall 'socket' not in baseline", 1],
      ['denied syscall: openat', 1],
    ]);
  });

  it('keeps every alert in strictMode', () => {
    const d = new SyscallAnomalyDetector({ strictMode: true, now: () => 0 });
    const alerts = alertsOf(d.observe([ev('ptrace'), ev('socket'), ev('ptrace')]));
    expect(alerts.map((a) => [a.syscall, a.count])).toEqual([
      ['ptrace', 1],
      ['socket', 1],
      ['ptrace', 1],
    ]);
  });

  it('does not merge across verdicts', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    expect(alertsOf(d.observe([ev('socket'), ev('socket')]))[0]!.count).toBe(2);
    expect(alertsOf(d.observe(ev('socket')))[0]!.count).toBe(1);
  });
});

describe('rolling window (seed defect 5)', () => {
  // Seed: counters reset every 60 s from the first call, so 3 denials at 0:50 and 3 at 1:10
  // are 3 + 3 in two different "minutes" and a limit of 5 is never passed.
  it('sees a burst of denials across the minute boundary', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ now: clock.now });
    expect(d.observe(ev('read')).kind).toBe('clean');
    clock.set(50_000);
    d.observe(many(3, 'openat', { denied: true }));
    clock.set(70_000);
    const alerts = alertsOf(d.observe(many(3, 'openat', { denied: true })));
    expect(alerts.map((a) => a.message)).toContain('denied event rate 6 exceeds limit 5/min');
  });

  it('sees a burst of events across the minute boundary', () => {
    // Seed: 100 events at 0:59 and 100 at 1:01 → 100 and 100, under the 120/min limit.
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ now: clock.now });
    d.observe(ev('read')); // at 0:00, out of the window by 1:01
    clock.set(59_000);
    expect(d.observe(many(100, 'read')).kind).toBe('clean');
    clock.set(61_000);
    expect(alertsOf(d.observe(many(100, 'read'))).map((a) => a.message)).toEqual([
      'total event rate 200 exceeds limit 120/min',
    ]);
  });

  it('forgets events once they are a window old', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ now: clock.now });
    d.observe(many(5, 'openat', { denied: true }));
    clock.set(61_000);
    expect(typesOf(d.observe(ev('openat', { denied: true })))).toEqual(['denied_syscall']);
    clock.set(200_000);
    expect(d.observe(many(120, 'read')).kind).toBe('clean');
  });

  it('spends the alert budget over a rolling window too', () => {
    // Seed: alerts at 0:50 and 0:55 fill a budget of 2, but the window resets at 1:00, so the
    // alert at 1:05 is delivered. Over a rolling minute it is the third: budget exhausted.
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 2, now: clock.now });
    d.observe(ev('read'));
    clock.set(50_000);
    expect(d.observe(ev('socket')).kind).toBe('alert');
    clock.set(55_000);
    expect(d.observe(ev('socket')).kind).toBe('alert');
    clock.set(65_000);
    expect(d.observe(ev('socket'))).toMatchObject({
      kind: 'suppressed',
      reason: 'alert budget exhausted (2/min), cooldown 20s',
    });
  });
});

describe('cooldown (seed defect 6)', () => {
  const exhaust = (d: SyscallAnomalyDetector): void => {
    for (let i = 0; i < 3; i++) d.observe(ev('socket'));
  };

  // Seed: during cooldown `analyze` returns Suppressed before parsing: the events are neither
  // counted per syscall nor in the windows, and nothing says what was held back.
  it('still counts input during cooldown and says how many alerts it held back', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 2, alertCooldownSecs: 10, now: clock.now });
    exhaust(d);
    expect(d.cooldownRemainingMs()).toBe(10_000);
    clock.set(4_000);
    const v = d.observe([ev('ptrace'), ev('openat', { denied: true }), ev('ptrace'), ev('read')]);
    expect(v).toEqual({
      kind: 'suppressed',
      reason: 'alert cooldown active',
      heldBack: 2,
      retryAfterMs: 6_000,
    });
    expect(d.syscallCounts()).toEqual(
      new Map([
        ['socket', 3],
        ['ptrace', 2],
        ['openat', 1],
        ['read', 1],
      ]),
    );
    expect(d.stats()).toMatchObject({ events: 7, deniedEvents: 1, heldBackAlerts: 3, suppressedVerdicts: 2 });
  });

  it('counts denials seen during cooldown in the rate after it', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 2, alertCooldownSecs: 10, now: clock.now });
    exhaust(d);
    clock.set(5_000);
    expect(d.observe(many(5, 'openat', { denied: true })).kind).toBe('suppressed');
    clock.set(61_000);
    const messages = alertsOf(d.observe(ev('openat', { denied: true }))).map((a) => a.message);
    expect(messages).toContain('denied event rate 6 exceeds limit 5/min');
  });

  it('answers clean input during cooldown with suppressed, holding back nothing (as the seed)', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 1, now: clock.now });
    d.observe(ev('socket'));
    d.observe(ev('socket'));
    clock.set(1_000);
    expect(d.observe(ev('read'))).toEqual({
      kind: 'suppressed',
      reason: 'alert cooldown active',
      heldBack: 0,
      retryAfterMs: 19_000,
    });
    expect(d.observe([])).toMatchObject({ kind: 'suppressed', heldBack: 0 });
  });

  it('honours a cooldown of any length (no 60 s cap)', () => {
    const clock = manualClock(0);
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 1, alertCooldownSecs: 3_600, now: clock.now });
    d.observe(ev('socket'));
    expect(d.observe(ev('socket'))).toMatchObject({
      reason: 'alert budget exhausted (1/min), cooldown 3600s',
    });
    clock.set(59 * 60_000);
    expect(d.observe(ev('socket'))).toMatchObject({ kind: 'suppressed', retryAfterMs: 60_000 });
    expect(d.cooldownRemainingMs()).toBe(60_000);
    clock.set(60 * 60_000);
    expect(d.cooldownRemainingMs()).toBe(0);
    expect(d.observe(ev('socket')).kind).toBe('alert');
  });

  it('a budget of 0 never cools down', () => {
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 0, now: () => 0 });
    for (let i = 0; i < 100; i++) expect(d.observe(ev('socket')).kind).toBe('alert');
  });
});

describe('bounded state', () => {
  it('keeps at most maxTrackedSyscalls names when fed 200 000 distinct ones', () => {
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 0, maxTotalEventsPerMinute: 0, now: () => 0 });
    let batch: SyscallEvent[] = [];
    for (let i = 0; i < 200_000; i++) {
      batch.push(ev(`sys_${i}`));
      if (batch.length === 1000) {
        d.observe(batch);
        batch = [];
      }
    }
    const counts = d.syscallCounts();
    expect(counts.size).toBeLessThanOrEqual(1024);
    expect(counts.get('(other)')).toBe(200_000 - 1023);
    let sum = 0;
    for (const n of counts.values()) sum += n;
    expect(sum).toBe(200_000);
  });

  it('still alerts (merged) on names past the cap', () => {
    const d = new SyscallAnomalyDetector({ maxTrackedSyscalls: 2, now: () => 0 });
    d.observe(ev('a'));
    const alerts = alertsOf(d.observe([ev('b'), ev('ptrace'), ev('ptrace'), ev('openat', { denied: true })]));
    expect(alerts.map((a) => [a.message, a.count, a.severity])).toEqual([
      ["unknown syscall 'b' not in baseline", 1, 'medium'],
      ["unknown syscall 'ptrace' not in baseline", 2, 'critical'],
      ['denied syscall: openat', 1, 'high'],
    ]);
    expect(d.syscallCounts()).toEqual(
      new Map([
        ['a', 1],
        ['(other)', 4],
      ]),
    );
  });
});

describe('time', () => {
  /** Events over ~6 minutes with bursts, denials and unknown syscalls, in uneven batches. */
  function timedTrace(): SyscallEvent[][] {
    const batches: SyscallEvent[][] = [];
    let t = 1_700_000_000_000;
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const names = ['read', 'write', 'openat', 'close', 'mmap', 'socket', 'connect', 'ptrace'];
    for (let b = 0; b < 120; b++) {
      const batch: SyscallEvent[] = [];
      const n = Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) {
        t += Math.floor(rnd() * (b % 30 < 3 ? 50 : 900));
        batch.push(ev(names[Math.floor(rnd() * (rnd() < 0.9 ? 5 : 8))]!, { time: t, denied: rnd() < 0.08 }));
      }
      batches.push(batch);
    }
    return batches;
  }

  it('replaying a timestamped trace twice gives identical verdicts, whatever the wall clock', () => {
    const trace = timedTrace();
    const run = (now: () => number): AnomalyVerdict[] => {
      const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 5, alertCooldownSecs: 30, now });
      return trace.map((batch) => d.observe(batch));
    };
    const first = run(() => 0);
    const second = run(() => Date.now());
    expect(second).toEqual(first);
    // The trace does exercise every path.
    const kinds = new Set(first.map((v) => v.kind));
    expect(kinds).toEqual(new Set(['clean', 'alert', 'suppressed']));
  });

  it('replaying a trace gives the verdicts it gave live', () => {
    // Live: each batch arrives when its events happen (clock = event time, events untimed).
    // Replay: the same events, timestamped, read long after (clock frozen elsewhere).
    const batches: Array<[number, SyscallEvent[]]> = [];
    for (let i = 0; i < 200; i++) {
      const time = i * 7_000;
      const n = i % 9 === 0 ? 30 : 4;
      batches.push([
        time,
        Array.from({ length: n }, (_, j) =>
          ev(j % 5 === 4 ? 'socket' : 'read', { time, denied: (i + j) % 11 === 0 }),
        ),
      ]);
    }
    const config = { maxAlertsPerMinute: 3, alertCooldownSecs: 45, maxTotalEventsPerMinute: 60 };
    const clock = manualClock();
    const live = new SyscallAnomalyDetector({ ...config, timeSource: 'clock', now: clock.now });
    const replay = new SyscallAnomalyDetector({ ...config, now: () => 42 });
    for (const [time, events] of batches) {
      clock.set(time);
      const untimed = events.map(({ time: _t, ...rest }) => rest);
      // Alerts of the replay also carry the events' times; the rest is identical.
      expect(withoutTimes(replay.observe(events))).toEqual(live.observe(untimed));
    }
  });

  it('timeSource clock ignores event times', () => {
    const d = new SyscallAnomalyDetector({ timeSource: 'clock', now: () => 0 });
    d.observe(many(3, 'openat', { denied: true, time: 0 }));
    const v = d.observe(many(3, 'openat', { denied: true, time: 3_600_000 }));
    expect(alertsOf(v).map((a) => a.message)).toContain('denied event rate 6 exceeds limit 5/min');
  });

  it('auto switches from the clock to event time at the first timestamp, continuing the windows', () => {
    const clock = manualClock(5_000_000);
    const d = new SyscallAnomalyDetector({ now: clock.now });
    d.observe(many(3, 'openat', { denied: true }));
    // Event times are on another scale entirely (ms since midnight): the counts carry over.
    const v = d.observe(many(3, 'openat', { denied: true, time: 1_000 }));
    expect(alertsOf(v).map((a) => a.message)).toContain('denied event rate 6 exceeds limit 5/min');
    // From now on the clock no longer matters.
    clock.set(1e13);
    expect(typesOf(d.observe(ev('openat', { denied: true, time: 2_000 })))).toContain('denied_rate');
    expect(typesOf(d.observe(ev('openat', { denied: true, time: 70_000 })))).toEqual(['denied_syscall']);
  });

  it('slightly out-of-order events count at the current time; a jump back of over a window starts a new time base', () => {
    const d = new SyscallAnomalyDetector({ timeSource: 'event', maxDeniedEventsPerMinute: 3 });
    d.observe(many(2, 'openat', { denied: true, time: 100_000 }));
    // 500 ms back: same window.
    expect(typesOf(d.observe(many(2, 'openat', { denied: true, time: 99_500 })))).toContain('denied_rate');
    // An hour back (a second log appended): time continues, the window still holds the last 4.
    expect(typesOf(d.observe(ev('openat', { denied: true, time: 0 })))).toContain('denied_rate');
    // And moves forward from the new base.
    expect(typesOf(d.observe(ev('openat', { denied: true, time: 61_000 })))).toEqual(['denied_syscall']);
  });

  it('cooldown follows event time', () => {
    const d = new SyscallAnomalyDetector({
      maxAlertsPerMinute: 1,
      alertCooldownSecs: 10,
      timeSource: 'event',
    });
    d.observe(ev('socket', { time: 0 }));
    expect(d.observe(ev('socket', { time: 1_000 }))).toMatchObject({
      kind: 'suppressed',
      retryAfterMs: 10_000,
    });
    expect(d.cooldownRemainingMs()).toBe(10_000);
    expect(d.observe(ev('socket', { time: 9_000 }))).toMatchObject({
      kind: 'suppressed',
      retryAfterMs: 2_000,
    });
    // Budget window still holds the alert from t=0 until t=60 s.
    expect(d.observe(ev('socket', { time: 61_000 })).kind).toBe('alert');
  });
});

describe('observe', () => {
  it('takes one event, an array, or any iterable; skips records other than syscall events', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    d.observe(ev('read'));
    d.observe([ev('read'), ev('write')]);
    d.observe(
      (function* () {
        yield ev('close');
        yield { kind: 'exit', source: 'strace', raw: '+++ exited with 0 +++', exitCode: 0 } as never;
      })(),
    );
    expect(d.syscallCounts()).toEqual(
      new Map([
        ['read', 2],
        ['write', 1],
        ['close', 1],
      ]),
    );
  });

  it('an empty batch is clean and counts nothing', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    expect(d.observe([])).toEqual({ kind: 'clean' });
    expect(d.stats().events).toBe(0);
  });

  it('disabled: clean, nothing counted', () => {
    const d = new SyscallAnomalyDetector({ enabled: false });
    expect(d.observe(many(500, 'ptrace', { denied: true }))).toEqual({ kind: 'clean' });
    expect(d.syscallCounts().size).toBe(0);
  });

  it('reset forgets counts, windows and cooldown', () => {
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 1, now: () => 0 });
    d.observe(ev('socket'));
    d.observe(ev('socket'));
    expect(d.cooldownRemainingMs()).toBeGreaterThan(0);
    d.reset();
    expect(d.cooldownRemainingMs()).toBe(0);
    expect(d.syscallCounts().size).toBe(0);
    expect(d.observe(ev('socket')).kind).toBe('alert');
  });

  it('rate limits of 0 mean no limit', () => {
    const d = new SyscallAnomalyDetector({
      maxTotalEventsPerMinute: 0,
      maxDeniedEventsPerMinute: 0,
      now: () => 0,
    });
    expect(typesOf(d.observe(many(10_000, 'read')))).toEqual([]);
    expect(typesOf(d.observe(many(100, 'read', { denied: true })))).toEqual(['denied_syscall']);
  });
});

describe('analyze (text, via the parser)', () => {
  it('judges strace text', () => {
    const d = new SyscallAnomalyDetector({ now: () => 0 });
    const v = d.analyze('read(3, "x", 1) = 1\nptrace(PTRACE_ATTACH, 1234) = 0\n');
    expect(alertsOf(v)).toMatchObject([
      { type: 'unknown_syscall', syscall: 'ptrace', sample: 'ptrace(PTRACE_ATTACH, 1234) = 0', line: 2 },
    ]);
  });

  it('parses and counts text during cooldown (seed: dropped unparsed)', () => {
    const d = new SyscallAnomalyDetector({ maxAlertsPerMinute: 1, now: () => 0 });
    d.analyze('socket(AF_INET, SOCK_STREAM, 0) = 3');
    d.analyze('socket(AF_INET, SOCK_STREAM, 0) = 3');
    const v = d.analyze('ptrace(PTRACE_ATTACH, 1234) = 0\nread(3, "x", 1) = 1');
    expect(v).toMatchObject({ kind: 'suppressed', reason: 'alert cooldown active', heldBack: 1 });
    expect(d.syscallCounts().get('ptrace')).toBe(1);
    expect(d.syscallCounts().get('read')).toBe(1);
  });
});
