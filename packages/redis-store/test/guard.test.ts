// Guard instances sharing one real Redis behave as one: a client that alerts on one is
// refused on the other, a burst split across them fills one window, counts stay exact under
// 1000 concurrent requests, and a Redis that dies follows onStoreError.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createSession, type DetectorConfig, type SessionSummary } from '@syscan/core';
import { PROBLEM_TYPES, type SyscanGuardOptions, syscanGuard } from '@syscan/express-middleware';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { type RunningRedis, redisMissing, startRedis } from './helpers/redis-server.js';

const missing = redisMissing();
if (missing !== undefined) console.warn(missing);

const CLEAN3 = 'read(3, "x", 1) = 1\nwrite(1, "x", 1) = 1\nclose(3) = 0\n';
const DENIED3 =
  'read(3, "x", 1) = 1\nopenat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)\nclose(3) = 0\n';
const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = 0\n';
const OUTPUT = 'the tool output that must never leave with a bad verdict';
const POLICY: DetectorConfig = {
  baselineSyscalls: ['read', 'write', 'openat', 'close'],
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
  maxAlertsPerMinute: 2,
  alertCooldownSecs: 30,
};
const T0 = 1_700_000_000_000;

interface Instance {
  url: string;
  post(client: string, trace: string): Promise<Reply>;
  close(): Promise<void>;
}
interface Reply {
  status: number;
  verdict: string | null;
  retryAfter: string | null;
  body: string;
}

const open: Instance[] = [];
const stores: RedisStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** One app instance on its own port, with its own RedisStore client (as another process would have). */
async function instance(
  redisUrl: string,
  options: SyscanGuardOptions,
  prefix = 'app:',
  // Generous: on a loaded machine 1000 requests in flight queue for a while; the kill test sets it short.
  timeoutMs = 10_000,
): Promise<Instance> {
  const store = new RedisStore({ url: redisUrl, prefix, timeoutMs });
  stores.push(store);
  const app = express();
  const guard = syscanGuard({ key: (req) => req.get('x-client') ?? 'anon', store, ...options });
  app.post('/tool', express.json(), guard, (req, res) => {
    res.json({ trace: req.body.trace, stdout: OUTPUT });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const inst: Instance = {
    url,
    post: async (client, trace) => {
      const r = await fetch(`${url}/tool`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-client': client },
        body: JSON.stringify({ trace }),
      });
      return {
        status: r.status,
        verdict: r.headers.get('syscan-verdict'),
        retryAfter: r.headers.get('retry-after'),
        body: await r.text(),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  open.push(inst);
  return inst;
}

describe.skipIf(missing !== undefined)('two guard instances sharing one Redis', () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a client that alerts on one instance gets a 429 on the other', async () => {
    const now = () => T0;
    const a = await instance(redis.url, { detector: POLICY, now }, 'cool:');
    const b = await instance(redis.url, { detector: POLICY, now }, 'cool:');
    expect((await a.post('x', PTRACE)).status).toBe(403);
    expect((await b.post('x', PTRACE)).verdict).toBe('alert');
    const spent = await a.post('x', PTRACE);
    expect(spent).toMatchObject({ status: 403, verdict: 'suppressed', retryAfter: '30' });
    expect(JSON.parse(spent.body).detail).toContain('alert budget exhausted (2/min), cooldown 30s');
    const refused = await b.post('x', CLEAN3);
    expect(refused).toMatchObject({ status: 429, verdict: 'suppressed', retryAfter: '30' });
    expect(refused.body).not.toContain(OUTPUT);
    // Another client is not affected, on either instance.
    expect(await b.post('y', CLEAN3)).toMatchObject({ status: 200, verdict: 'clean' });
  });

  it('a burst split across the instances is one window: total_rate fires on the second half', async () => {
    const now = () => T0;
    const detector = { ...POLICY, maxTotalEventsPerMinute: 10 };
    const a = await instance(redis.url, { detector, now }, 'burst:');
    const b = await instance(redis.url, { detector, now }, 'burst:');
    const six = CLEAN3.repeat(2);
    expect(await a.post('z', six)).toMatchObject({ status: 200, verdict: 'clean' });
    const second = await b.post('z', six);
    expect(second).toMatchObject({ status: 403, verdict: 'alert' });
    expect(JSON.parse(second.body).alerts.map((x: { message: string }) => x.message)).toEqual([
      'total event rate 12 exceeds limit 10/min',
    ]);
  });

  it('1000 concurrent requests of 50 clients over both instances keep exact counts', async () => {
    const now = () => T0;
    const detector = { ...POLICY, maxAlertsPerMinute: 5 };
    const a = await instance(redis.url, { detector, now }, 'load:');
    const b = await instance(redis.url, { detector, now }, 'load:');
    const replies = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const client = `c${i % 50}`;
        const denied = Math.floor(i / 50) % 2 === 1;
        const r = await (i % 2 === 0 ? a : b).post(client, denied ? DENIED3 : CLEAN3);
        return { client, denied, ...r };
      }),
    );
    const reader = new RedisStore({ url: redis.url, prefix: 'load:' });
    stores.push(reader);
    for (let c = 0; c < 50; c++) {
      const mine = replies.filter((r) => r.client === `c${c}`);
      expect(mine).toHaveLength(20);
      const judged = mine.filter((r) => r.status !== 429);
      const state = await reader.get(`c${c}`, T0);
      // Exactly the budget's alerts, whatever the interleaving; every judged event counted once.
      expect(mine.filter((r) => r.verdict === 'alert')).toHaveLength(5);
      expect(state?.alerts).toBe(5);
      expect(state?.counts).toEqual({
        events: 3 * judged.length,
        deniedEvents: judged.filter((r) => r.denied).length,
        cleanVerdicts: judged.filter((r) => r.verdict === 'clean').length,
        alertVerdicts: 5,
        suppressedVerdicts: judged.filter((r) => r.verdict === 'suppressed').length,
      });
      expect(state?.total).toBe(3 * judged.length);
      // The output left only with a clean verdict.
      for (const r of mine) expect(r.body.includes(OUTPUT)).toBe(r.status === 200 && r.verdict === 'clean');
    }
  });

  it('a run’s own verdict (the sandbox runner’s summaries) counts against the shared budget', async () => {
    const now = () => T0;
    const summaryOf = (trace: string): SessionSummary => {
      const session = createSession({ config: POLICY });
      session.analyze(trace);
      return session.summary();
    };
    // Like the runner's exec route: the guard takes the run's summary, never re-parses the output.
    const extract = (payload: unknown) => summaryOf((payload as { trace: string }).trace);
    const a = await instance(redis.url, { detector: POLICY, now, extract }, 'runs:');
    const b = await instance(redis.url, { detector: POLICY, now, extract }, 'runs:');
    expect(await a.post('r', PTRACE)).toMatchObject({ status: 403, verdict: 'alert' });
    expect(await b.post('r', PTRACE)).toMatchObject({ status: 403, verdict: 'alert' });
    // The third alerting run is still reported as it was (alert), and spends the budget.
    expect(await a.post('r', PTRACE)).toMatchObject({ status: 403, verdict: 'alert' });
    expect(await b.post('r', CLEAN3)).toMatchObject({ status: 429, retryAfter: '30' });
  });

  it('a store that answers the cooldown check but fails the update withholds the response: 503 + Retry-After', async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.acl('SETUSER', 'reader', 'on', '>pw', '~*', '+hget', '+hmget', '+ping', '+info');
      const url = `redis://reader:pw@127.0.0.1:${redis.port}`;
      const blocking = await instance(url, { detector: POLICY }, 'ro:');
      const r = await blocking.post('x', CLEAN3);
      expect(r).toMatchObject({ status: 503, verdict: 'error', retryAfter: '5' });
      expect(JSON.parse(r.body).type).toBe(PROBLEM_TYPES.storeUnavailable);
      expect(r.body).not.toContain(OUTPUT);
      // pass: the per-payload verdict, without the shared rates and budget.
      const passing = await instance(url, { detector: POLICY, onStoreError: 'pass' }, 'ro:');
      expect(await passing.post('x', CLEAN3)).toMatchObject({ status: 200, verdict: 'clean' });
      expect(await passing.post('x', PTRACE)).toMatchObject({ status: 403, verdict: 'alert' });
      // report: labelled error (nothing is blocked in report mode).
      const reporting = await instance(url, { detector: POLICY, mode: 'report' }, 'ro:');
      expect(await reporting.post('x', CLEAN3)).toMatchObject({ status: 200, verdict: 'error' });
    } finally {
      await admin.acl('DELUSER', 'reader');
      admin.disconnect();
    }
  });
});

describe.skipIf(missing !== undefined)('Redis killed mid-run', () => {
  it('block: every answer is the clean output or a 503 with Retry-After; pass: served; both recover', async () => {
    let redis = await startRedis();
    const port = redis.port;
    const blocking = await instance(redis.url, { detector: POLICY }, 'kill:', 300);
    const passing = await instance(redis.url, { detector: POLICY, onStoreError: 'pass' }, 'kill:', 300);
    try {
      expect(await blocking.post('k', CLEAN3)).toMatchObject({ status: 200, verdict: 'clean' });
      const seen: Reply[] = [];
      let stop = false;
      const traffic = (async () => {
        while (!stop) seen.push(await blocking.post('k', CLEAN3));
      })();
      await new Promise((r) => setTimeout(r, 150));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 700));
      stop = true;
      await traffic;
      expect(seen.some((r) => r.status === 200)).toBe(true);
      expect(seen.some((r) => r.status === 503)).toBe(true);
      for (const r of seen) {
        if (r.status === 200) expect(r).toMatchObject({ verdict: 'clean' });
        else {
          expect(r).toMatchObject({ status: 503, verdict: 'error', retryAfter: '5' });
          expect(r.body).not.toContain(OUTPUT);
        }
      }
      // While Redis is down: block refuses, pass serves the per-payload verdict.
      expect((await blocking.post('k', CLEAN3)).status).toBe(503);
      expect(await passing.post('k', CLEAN3)).toMatchObject({ status: 200, verdict: 'clean' });
      expect(await passing.post('k', PTRACE)).toMatchObject({ status: 403, verdict: 'alert' });
      // Redis back on the same port: the store's client reconnects by itself.
      redis = await startRedis(port);
      const deadline = Date.now() + 10_000;
      let back: Reply | undefined;
      while (Date.now() < deadline) {
        back = await blocking.post('k', CLEAN3);
        if (back.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(back).toMatchObject({ status: 200, verdict: 'clean' });
    } finally {
      await redis.stop();
    }
  });
});
