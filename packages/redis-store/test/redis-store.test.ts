// RedisStore against a real redis-server: the Lua script must answer every update exactly
// as core's MemoryDetectorStore does (the reference), so verdicts over Redis are those of
// one detector; keys carry the prefix and a TTL; bad options fail in one line.
import {
  type DetectorConfig,
  DetectorRegistry,
  MemoryDetectorStore,
  SharedDetector,
  type StateUpdate,
  type SyscallEvent,
} from '@syscan/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { type RunningRedis, redisMissing, startRedis } from './helpers/redis-server.js';

const missing = redisMissing();
if (missing !== undefined) console.warn(missing);

/** mulberry32: deterministic sequences, replayable from their seed. */
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

function ev(syscall: string, denied: boolean, line: number, time?: number): SyscallEvent {
  return {
    kind: 'syscall',
    syscall,
    denied,
    raw: `${syscall}(3) = ${denied ? '-1 EACCES (Permission denied)' : '0'}`,
    source: 'strace',
    line,
    ...(denied ? { errno: 'EACCES' } : {}),
    ...(time !== undefined ? { time } : {}),
  };
}

describe.skipIf(missing !== undefined)('RedisStore', () => {
  let redis: RunningRedis;
  let store: RedisStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisStore({ url: redis.url, prefix: 'test:' });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it('answers every update like the MemoryDetectorStore', async () => {
    const memory = new MemoryDetectorStore({ idleMs: 0 });
    const rnd = prng(7);
    let now = 1_700_000_000_000.25; // fractional ms survive the round trip exactly
    for (let i = 0; i < 600; i++) {
      now += Math.floor(rnd() * 4000);
      const first = Math.floor(now / 1000);
      const steps = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, j) => ({
        bucket: first + j * Math.floor(rnd() * 70) - (rnd() < 0.05 ? 3 : 0),
        total: Math.floor(rnd() * 6),
        denied: Math.floor(rnd() * 2),
      }));
      const u: StateUpdate = {
        now,
        windowMs: 60_000,
        steps,
        alerts: rnd() < 0.3 ? 1 : 0,
        deniedLimit: 3,
        totalLimit: 15,
        budget: 4,
        cooldownMs: 7_000,
      };
      const key = `k${Math.floor(rnd() * 4)}`;
      const want = await memory.update(key, u);
      expect(await store.update(key, u), `update ${i}`).toEqual(want);
      expect(await store.cooldownMs(key, now + 1)).toBe(await memory.cooldownMs(key, now + 1));
    }
    for (const key of ['k0', 'k1', 'k2', 'k3'])
      expect(await store.get(key, now)).toEqual(await memory.get(key, now));
  });

  it('gives the verdicts of a DetectorRegistry through SharedDetector', async () => {
    const config: DetectorConfig = {
      baselineSyscalls: ['read', 'write'],
      maxDeniedEventsPerMinute: 2,
      maxTotalEventsPerMinute: 9,
      maxAlertsPerMinute: 2,
      alertCooldownSecs: 3,
      windowMs: 10_000,
      timeSource: 'auto',
    };
    let t = 0;
    const now = (): number => t;
    const registry = new DetectorRegistry({ config, now });
    const shared = new SharedDetector({
      config,
      now,
      store: new RedisStore({ url: redis.url, prefix: 'eq:' }),
    });
    const rnd = prng(11);
    let line = 1;
    let time = 1_700_000_000_000;
    const kinds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      t += Math.floor(rnd() * 2000);
      const timed = rnd() < 0.5;
      const events = Array.from({ length: Math.floor(rnd() * 6) }, () => {
        time += Math.floor(rnd() * 700);
        return ev(rnd() < 0.7 ? 'read' : 'ptrace', rnd() < 0.3, line++, timed ? time : undefined);
      });
      const key = `c${Math.floor(rnd() * 3)}`;
      const expected = registry.get(key).observe(events);
      const d = shared.detector(key);
      d.observe(events);
      const got = await d.settle();
      expect(got, `batch ${i}`).toEqual(expected);
      kinds.add(got.kind);
    }
    expect([...kinds].sort()).toEqual(['alert', 'clean', 'suppressed']);
    await (shared.store as RedisStore).close();
  });

  it('keeps one hash per key under the prefix, with a TTL of at least its window and cooldown', async () => {
    const client = new Redis(redis.url);
    try {
      const own = new RedisStore({ client, prefix: 'ttl:', idleTtlMs: 5_000 });
      const base = {
        now: 0,
        windowMs: 60_000,
        alerts: 1,
        deniedLimit: 0,
        totalLimit: 0,
        cooldownMs: 120_000,
      };
      await own.update('a', { ...base, steps: [{ bucket: 0, total: 1, denied: 0 }], budget: 1 });
      const pttl = await client.pttl('ttl:a');
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(
        (await own.update('a', { ...base, steps: [{ bucket: 0, total: 1, denied: 0 }], budget: 1 })).outcome,
      ).toBe('exhausted');
      expect(await client.pttl('ttl:a')).toBeGreaterThan(115_000);
      expect(await client.keys('ttl:*')).toEqual(['ttl:a']);
      await own.reset('a');
      expect(await own.get('a', 0)).toBeUndefined();
      // A server that lost its script cache (restart, SCRIPT FLUSH) gets the script again.
      await client.script('FLUSH');
      expect(
        (await own.update('b', { ...base, steps: [{ bucket: 0, total: 1, denied: 0 }], budget: 1 })).outcome,
      ).toBe('alert');
      await own.close(); // not its client: stays open
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('refuses bad options in one line', () => {
    expect(() => new RedisStore({} as never)).toThrow(/give exactly one of url and client/);
    expect(() => new RedisStore({ url: 'http://x', timeoutMs: 0 })).toThrow(
      /url must be a redis:\/\/ or rediss:\/\/ URL, got http:\/\/x; timeoutMs must be a positive integer, got 0/,
    );
  });

  it('rejects, naming the call and the key, when Redis does not answer', async () => {
    const dead = new RedisStore({ url: 'redis://127.0.0.1:1', timeoutMs: 200 });
    await expect(dead.cooldownMs('who', 0)).rejects.toThrow(/RedisStore: cooldown read of key 'who' failed/);
    await dead.close();
  });
});
