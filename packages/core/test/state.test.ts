// Detector state in a store: the per-payload detector plus the store's windows, budget and
// cooldown must give exactly the verdicts of today's DetectorRegistry for the same sequence.
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  createSession,
  type DetectorConfig,
  DetectorRegistry,
  MemoryDetectorStore,
  SharedDetector,
  type SyscallEvent,
} from '../src/index.js';
import { ev, manualClock, many } from './detector-helpers.js';

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['read', 'write', 'openat', 'close', 'ptrace', 'socket', 'mount', 'bpf', 'execve'];

const CONFIG: DetectorConfig = {
  baselineSyscalls: ['read', 'write', 'openat', 'close', 'execve'],
  forbiddenSyscalls: ['bpf'],
  maxDeniedEventsPerMinute: 3,
  maxTotalEventsPerMinute: 12,
  maxAlertsPerMinute: 3,
  alertCooldownSecs: 4,
  windowMs: 10_000,
  allowedDenials: [{ syscall: 'openat', errno: 'ENOENT' }],
};

interface Batch {
  key: string;
  advance: number;
  events: SyscallEvent[];
  extra: Alert[] | undefined;
}

/** Random batches: a few keys, bursts and quiet spells, denials (some allowed), extras, timestamps. */
function sequence(seed: number, n: number, timed: boolean): Batch[] {
  const rnd = prng(seed);
  const out: Batch[] = [];
  let eventTime = 1_700_000_000_000;
  let line = 1;
  for (let i = 0; i < n; i++) {
    const events: SyscallEvent[] = [];
    const count = Math.floor(rnd() * 8);
    for (let j = 0; j < count; j++) {
      const name = NAMES[Math.floor(rnd() * (rnd() < 0.7 ? 5 : NAMES.length))]!;
      const denied = rnd() < 0.25;
      eventTime += Math.floor(rnd() * 900);
      events.push(
        ev(name, {
          denied,
          errno: denied ? (rnd() < 0.3 ? 'ENOENT' : 'EACCES') : undefined,
          line: line++,
          pid: 100 + Math.floor(rnd() * 3),
          ...(timed ? { time: eventTime } : {}),
          ...(rnd() < 0.3 ? { paths: [`/tmp/f${Math.floor(rnd() * 4)}`] } : {}),
        }),
      );
    }
    const extra: Alert[] | undefined =
      rnd() < 0.1 ? [{ type: 'rule', severity: 'high', message: 'rule fired', count: 1 }] : undefined;
    out.push({ key: `k${Math.floor(rnd() * 3)}`, advance: Math.floor(rnd() * 3000), events, extra });
  }
  return out;
}

async function compare(config: DetectorConfig, batches: Batch[]): Promise<Record<string, number>> {
  const a = manualClock(50_000);
  const b = manualClock(50_000);
  const registry = new DetectorRegistry({ config, now: a.now });
  const shared = new SharedDetector({ config, now: b.now });
  const kinds: Record<string, number> = {};
  for (const [i, batch] of batches.entries()) {
    a.advance(batch.advance);
    b.advance(batch.advance);
    const expected = registry.get(batch.key).observe(batch.events, batch.extra);
    const detector = shared.detector(batch.key);
    detector.observe(batch.events, batch.extra);
    const got = await detector.settle();
    expect(got, `batch ${i} of key ${batch.key}`).toEqual(expected);
    kinds[got.kind] = (kinds[got.kind] ?? 0) + 1;
    // Rate alerts carry the event that went over the limit, like the detector's.
    if (got.kind === 'alert') for (const alert of got.alerts) expect(alert.message).toBeTruthy();
  }
  return kinds;
}

describe('SharedDetector over a MemoryDetectorStore', () => {
  it('gives the registry’s verdicts, clock time', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const kinds = await compare({ ...CONFIG, timeSource: 'clock' }, sequence(seed, 400, false));
      // The sequence exercises every branch: alerts, budget exhaustion and cooldown, clean.
      expect(kinds.alert).toBeGreaterThan(10);
      expect(kinds.suppressed).toBeGreaterThan(10);
      expect(kinds.clean).toBeGreaterThan(10);
    }
  });

  it('gives the registry’s verdicts with event timestamps (auto and event) and strict mode', async () => {
    for (const seed of [5, 6]) {
      await compare({ ...CONFIG, timeSource: 'auto' }, sequence(seed, 300, true));
      await compare({ ...CONFIG, timeSource: 'event', strictMode: true }, sequence(seed, 300, true));
      // Untimed under auto: no rates unless ratesWithoutTimestamps (the seed's way, default on).
      await compare({ ...CONFIG, ratesWithoutTimestamps: false }, sequence(seed, 200, false));
    }
  });

  it('gives the seed’s rate wording and facts, and a suppressed verdict with Retry-After', async () => {
    const clock = manualClock(0);
    const shared = new SharedDetector({
      config: { maxDeniedEventsPerMinute: 2, maxAlertsPerMinute: 1, alertCooldownSecs: 20 },
      now: clock.now,
    });
    const d = shared.detector('c');
    d.observe(many(3, 'read', { denied: true, errno: 'EACCES' }));
    const v = await d.settle();
    expect(v.kind).toBe('alert');
    const rate = v.kind === 'alert' ? v.alerts.find((x) => x.type === 'denied_rate') : undefined;
    expect(rate?.message).toBe('denied event rate 3 exceeds limit 2/min');
    expect(rate).toMatchObject({ count: 3, limit: 2, errno: 'EACCES' });
    const again = shared.detector('c');
    again.observe(ev('ptrace'));
    expect(await again.settle()).toEqual({
      kind: 'suppressed',
      reason: 'alert budget exhausted (1/min), cooldown 20s',
      heldBack: 1,
      retryAfterMs: 20_000,
    });
    clock.advance(5_000);
    expect(await shared.cooldownMs('c')).toBe(15_000);
    expect(await shared.store.get('c', clock.now())).toMatchObject({
      alerts: 1,
      cooldownMs: 15_000,
      counts: { events: 4, deniedEvents: 3, alertVerdicts: 1, suppressedVerdicts: 1, cleanVerdicts: 0 },
    });
  });

  it('is the session’s detector: rules and checks are per payload, rates and budget shared', async () => {
    const store = new MemoryDetectorStore();
    const clock = manualClock(0);
    // Two "instances": two SharedDetectors over one store.
    const one = new SharedDetector({ config: { maxTotalEventsPerMinute: 5 }, store, now: clock.now });
    const two = new SharedDetector({ config: { maxTotalEventsPerMinute: 5 }, store, now: clock.now });
    const first = one.detector('c');
    createSession({ detector: first }).analyze('read(3, "", 1) = 1\n'.repeat(4));
    expect(await first.settle()).toEqual({ kind: 'clean' });
    const second = two.detector('c');
    createSession({ detector: second }).analyze('read(3, "", 1) = 1\n'.repeat(2));
    const v = await second.settle();
    expect(v.kind).toBe('alert');
    expect(v.kind === 'alert' && v.alerts.map((a) => a.message)).toEqual([
      'total event rate 6 exceeds limit 5/min',
    ]);
  });

  it('refuses a store that is not one, and judges nothing when the config is disabled', async () => {
    expect(() => new SharedDetector({ store: {} as never, maxKeys: 0 })).toThrow(
      /maxKeys must be a positive integer, got 0; store must be a DetectorStore/,
    );
    const store = new MemoryDetectorStore();
    const d = new SharedDetector({ config: { enabled: false }, store }).detector('k');
    expect(d.observe(ev('ptrace'))).toEqual({ kind: 'clean' });
    expect(await d.settle()).toEqual({ kind: 'clean' });
    expect(store.size).toBe(0);
  });

  it('a batch with nothing in it is clean without asking the store', async () => {
    const store = new MemoryDetectorStore();
    const shared = new SharedDetector({ store });
    expect(await shared.detector('x').settle()).toEqual({ kind: 'clean' });
    expect(store.size).toBe(0);
    const d = shared.detector('x');
    await d.settle();
    expect(() => d.observe(ev('read'))).toThrow(/after settle/);
  });
});

describe('MemoryDetectorStore', () => {
  const update = (now: number, bucket: number) => ({
    now,
    windowMs: 60_000,
    steps: [{ bucket, total: 1, denied: 0 }],
    alerts: 1,
    deniedLimit: 0,
    totalLimit: 0,
    budget: 1,
    cooldownMs: 1_000,
  });

  it('holds at most maxKeys keys, least recently used first', async () => {
    const store = new MemoryDetectorStore({ maxKeys: 3 });
    for (let i = 0; i < 100; i++) await store.update(`k${i}`, update(i, i));
    expect(store.size).toBe(3);
    expect(await store.get('k0', 100)).toBeUndefined();
    expect(await store.get('k99', 100)).toBeDefined();
  });

  it('drops idle keys as it is used, but keeps a key that is cooling down', async () => {
    const store = new MemoryDetectorStore({ idleMs: 10_000 });
    await store.update('quiet', update(0, 0));
    await store.update('cooling', update(0, 0));
    expect((await store.update('cooling', { ...update(0, 0), cooldownMs: 60_000 })).outcome).toBe(
      'exhausted',
    );
    await store.update('other', update(20_000, 20));
    expect(await store.get('quiet', 20_000)).toBeUndefined();
    expect(await store.cooldownMs('cooling', 20_000)).toBe(40_000);
    expect(store.size).toBe(2);
  });

  it('counts a step behind the newest bucket in the newest (another instance’s clock ran ahead)', async () => {
    const store = new MemoryDetectorStore();
    await store.update('k', update(5_000, 5));
    const r = await store.update('k', { ...update(4_000, 4), alerts: 0 });
    expect(r.before).toEqual([[1, 0]]);
    expect((await store.get('k', 5_000))?.total).toBe(2);
  });

  it('refuses an update without steps (every batch starts somewhere)', () => {
    expect(() => new MemoryDetectorStore().updateNow('k', { ...update(0, 0), steps: [] })).toThrow(
      /at least one step/,
    );
  });

  it('refuses bad limits with one clear error', () => {
    expect(() => new MemoryDetectorStore({ maxKeys: 0, idleMs: -1 })).toThrow(
      /maxKeys must be a positive integer, got 0; idleMs must be a number of ms >= 0, got -1/,
    );
  });
});
