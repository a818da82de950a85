// The guard's Store (issue 14, first step): alert budgets and cooldowns live in a store the
// instances of an app can share; the in-memory one is the default. A store may be async.
import { readFileSync } from 'node:fs';
import { type DetectorConfig, parseSyscallEvents } from '@syscan/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AlertBudget,
  type GuardStore,
  MemoryStore,
  PROBLEM_TYPES,
  type SpendResult,
  type SyscanGuardOptions,
  syscanGuard,
} from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, manualClock, type Running } from './helpers/server.js';

const TRACE = readFileSync(new URL('./fixtures/sh-secret.strace', import.meta.url), 'utf8');
const NAMES = [...new Set(parseSyscallEvents(TRACE).map((e) => e.syscall))];
const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = -1 EPERM (Operation not permitted)\n';
const DETECTOR: DetectorConfig = {
  baselineSyscalls: NAMES,
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
  maxAlertsPerMinute: 2,
  alertCooldownSecs: 30,
};
const BUDGET: AlertBudget = { max: 2, windowMs: 60_000, cooldownMs: 30_000 };

const servers: Running[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function instance(options: SyscanGuardOptions) {
  const app = express();
  const guard = syscanGuard({ detector: DETECTOR, key: (req) => req.get('x-client') ?? 'anon', ...options });
  app.post('/tool', express.json({ limit: '5mb' }), guard, (req, res) => res.json({ trace: req.body.trace }));
  const running = await listen(app);
  servers.push(running);
  return {
    guard,
    post: (client: string, trace: string) =>
      request(`${running.url}/tool`, { body: { trace }, headers: { 'x-client': client } }),
  };
}

describe('MemoryStore', () => {
  it('spends a budget per window, then cools down', () => {
    const store = new MemoryStore();
    const t = 1_000_000;
    expect(store.spend('a', t, BUDGET).state).toBe('ok');
    expect(store.spend('a', t + 1, BUDGET).state).toBe('ok');
    expect(store.spend('a', t + 2, BUDGET)).toEqual({ state: 'exhausted', retryAfterMs: 30_000 });
    expect(store.spend('a', t + 10_002, BUDGET)).toEqual({ state: 'cooling', retryAfterMs: 20_000 });
    expect(store.cooldownMs('a', t + 10_002)).toBe(20_000);
    expect(store.cooldownMs('b', t)).toBe(0);
    // After the cooldown, and with the old hits out of the window, the budget is whole again.
    expect(store.spend('a', t + 60_002, BUDGET).state).toBe('ok');
    store.reset('a');
    expect(store.size).toBe(0);
  });

  it('an unlimited budget keeps no state', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 100; i++) expect(store.spend(`k${i}`, i, { ...BUDGET, max: 0 }).state).toBe('ok');
    expect(store.size).toBe(0);
  });

  it('holds at most maxKeys clients, dropping the least recently used', () => {
    const store = new MemoryStore({ maxKeys: 3 });
    for (let i = 0; i < 10; i++) store.spend(`k${i}`, 1000, BUDGET);
    expect(store.size).toBe(3);
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(/positive integer/);
  });
});

describe('instances sharing one store', () => {
  it('a client that spends its budget on one instance is refused by the other', async () => {
    const clock = manualClock();
    const store = new MemoryStore();
    const a = await instance({ store, now: clock.now });
    const b = await instance({ store, now: clock.now });
    expect((await a.post('mallory', PTRACE)).status).toBe(403);
    expect((await b.post('mallory', PTRACE)).status).toBe(403);
    const third = await a.post('mallory', PTRACE);
    expect(third.headers['syscan-verdict']).toBe('suppressed');
    const refused = await b.post('mallory', TRACE);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect((await b.post('alice', TRACE)).status).toBe(200);
    clock.advance(30_000);
    expect((await b.post('mallory', TRACE)).status).toBe(200);
  });

  it('an async store holds each response until it answers, and keeps exact counts', async () => {
    const memory = new MemoryStore();
    const calls = { spend: 0 };
    const later = <T>(f: () => T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(f())));
    const store: GuardStore = {
      cooldownMs: (key, now) => later(() => memory.cooldownMs(key, now)),
      spend: (key, now, budget) => {
        calls.spend++;
        return later(() => memory.spend(key, now, budget));
      },
      reset: (key) => later(() => memory.reset(key)),
    };
    const a = await instance({ store, detector: { ...DETECTOR, maxAlertsPerMinute: 1000 } });
    const b = await instance({ store, detector: { ...DETECTOR, maxAlertsPerMinute: 1000 } });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).post(`c${i % 10}`, i % 4 < 2 ? PTRACE : TRACE)),
    );
    expect(replies.filter((r) => r.status === 403)).toHaveLength(100);
    expect(replies.filter((r) => r.status === 200 && r.headers['syscan-verdict'] === 'clean')).toHaveLength(
      100,
    );
    expect(calls.spend).toBe(100);
  });
});

describe('exact budgets under load', () => {
  it('1000 concurrent alerting requests of 50 clients over two instances: exactly the budget alerts', async () => {
    const memory = new MemoryStore();
    const later = <T>(f: () => T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(f())));
    const store: GuardStore = {
      cooldownMs: (key, now) => later(() => memory.cooldownMs(key, now)),
      spend: (key, now, budget) => later(() => memory.spend(key, now, budget)),
      reset: (key) => memory.reset(key),
    };
    const clock = manualClock();
    const detector = { ...DETECTOR, maxAlertsPerMinute: 5 };
    const a = await instance({ store, detector, now: clock.now });
    const b = await instance({ store, detector, now: clock.now });
    const replies = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const client = `c${i % 50}`;
        const r = await (i % 2 ? a : b).post(client, PTRACE);
        return { client, status: r.status, verdict: r.headers['syscan-verdict'] };
      }),
    );
    for (let c = 0; c < 50; c++) {
      const mine = replies.filter((r) => r.client === `c${c}`);
      expect(mine.filter((r) => r.verdict === 'alert')).toHaveLength(5);
      expect(mine.every((r) => r.status === 403 || r.status === 429)).toBe(true);
    }
  });
});

describe('a store that fails', () => {
  const broken: GuardStore = {
    cooldownMs: () => Promise.reject(new Error('redis down')),
    spend: (): Promise<SpendResult> => Promise.reject(new Error('redis down')),
    reset: () => undefined,
  };

  it("onStoreError 'block' (default): the request is refused with 503, the handler never runs", async () => {
    const a = await instance({ store: broken, onVerdict: () => undefined });
    const r = await a.post('x', TRACE);
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.storeUnavailable });
    expect(r.headers['syscan-verdict']).toBe('error');
  });

  it("onStoreError 'pass': served as if no cooldown; an alert stays an alert", async () => {
    const a = await instance({ store: broken, onStoreError: 'pass', onVerdict: () => undefined });
    expect((await a.post('x', TRACE)).status).toBe(200);
    const bad = await a.post('x', PTRACE);
    expect(bad.status).toBe(403);
    expect(bad.headers['syscan-verdict']).toBe('alert');
  });
});
