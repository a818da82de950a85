// The guard over a core DetectorStore (issue 14): instances sharing one store judge a client
// as one detector. Here the store is core's MemoryDetectorStore, shared in one process (and
// made asynchronous like a network store); @syscan/redis-store runs the same against Redis.
import { readFileSync } from 'node:fs';
import {
  type DetectorConfig,
  type DetectorStore,
  MemoryDetectorStore,
  parseSyscallEvents,
} from '@syscan/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_TYPES, type SyscanGuardOptions, syscanGuard } from '../src/index.js';
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

/** A store whose every answer arrives on a later turn, like a network store's. */
function later(store: DetectorStore): DetectorStore {
  const tick = <T>(p: Promise<T>): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(p)));
  return {
    update: (key, update) => tick(store.update(key, update)),
    cooldownMs: (key, now) => tick(store.cooldownMs(key, now)),
    get: (key, now) => tick(store.get(key, now)),
    reset: (key) => tick(store.reset(key)),
  };
}

describe('instances sharing one store', () => {
  it('a client that spends its budget on one instance is refused by the other', async () => {
    const clock = manualClock();
    const store = later(new MemoryDetectorStore());
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

  it('1000 concurrent alerting requests of 50 clients over two instances: exactly the budget alerts', async () => {
    const clock = manualClock();
    const store = later(new MemoryDetectorStore());
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
  const broken: DetectorStore = {
    update: () => Promise.reject(new Error('redis down')),
    cooldownMs: () => Promise.reject(new Error('redis down')),
    get: () => Promise.reject(new Error('redis down')),
    reset: () => Promise.reject(new Error('redis down')),
  };

  it("onStoreError 'block' (default): 503 + Retry-After, the handler never runs", async () => {
    const a = await instance({ store: broken, onVerdict: () => undefined });
    const r = await a.post('x', TRACE);
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.storeUnavailable });
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.headers['syscan-verdict']).toBe('error');
  });

  it("onStoreError 'pass': served, judged by the payload alone; an alert stays an alert", async () => {
    const a = await instance({ store: broken, onStoreError: 'pass', onVerdict: () => undefined });
    expect((await a.post('x', TRACE)).status).toBe(200);
    const bad = await a.post('x', PTRACE);
    expect(bad.status).toBe(403);
    expect(bad.headers['syscan-verdict']).toBe('alert');
  });

  it('a store that is not one is refused when the guard is made', () => {
    expect(() => syscanGuard({ store: { cooldownMs: () => 0 } as unknown as DetectorStore })).toThrow(
      /store must be a DetectorStore/,
    );
  });
});
