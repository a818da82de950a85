import express from 'express';
import { afterAll, expect, it } from 'vitest';
import { type GuardVerdict, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen } from './helpers/server.js';

const CLIENTS = 50;
const PER_CLIENT = 20;

/** Client i's trace: (i % 7 + 1) reads, one write; odd clients also call ptrace. */
function traceOf(i: number, n: number): string {
  let t = '';
  for (let k = 0; k < (i % 7) + 1; k++) t += `read(3, "chunk ${n}", 4096) = 4096\n`;
  t += `write(1, "client ${i} request ${n}\\n", 20) = 20\n`;
  if (i % 2 === 1) t += 'ptrace(PTRACE_TRACEME) = 0\n';
  return t;
}

let close: (() => Promise<void>) | undefined;
afterAll(() => close?.());

it(`${CLIENTS * PER_CLIENT} concurrent requests across ${CLIENTS} clients keep exact per-client counts`, async () => {
  const seen = new Map<string, GuardVerdict['kind'][]>();
  const guard = syscanGuard({
    // No rate limits and no alert budget: every verdict must follow from its own trace.
    detector: {
      baselineSyscalls: ['read', 'write'],
      maxTotalEventsPerMinute: 0,
      maxDeniedEventsPerMinute: 0,
      maxAlertsPerMinute: 0,
    },
    key: (req) => String(req.get('x-client')),
    onVerdict: (v, req) => {
      const k = String(req.get('x-client'));
      seen.set(k, [...(seen.get(k) ?? []), v.kind]);
    },
  });
  const app = express();
  app.post('/run', express.json(), guard, async (req, res) => {
    // Interleave: answer after a random tick so requests of different clients overlap.
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    res.json({ trace: traceOf(req.body.client, req.body.n) });
  });
  const server = await listen(app);
  close = server.close;

  const jobs: Promise<{ client: number; status: number; verdict: unknown }>[] = [];
  for (let n = 0; n < PER_CLIENT; n++) {
    for (let client = 0; client < CLIENTS; client++) {
      jobs.push(
        request(`${server.url}/run`, { body: { client, n }, headers: { 'x-client': `c${client}` } }).then(
          (r) => ({
            client,
            status: r.status,
            verdict: r.headers['syscan-verdict'],
          }),
        ),
      );
    }
  }
  const replies = await Promise.all(jobs);

  expect(replies).toHaveLength(CLIENTS * PER_CLIENT);
  for (const r of replies) {
    expect(r).toEqual({
      client: r.client,
      status: r.client % 2 === 1 ? 403 : 200,
      verdict: r.client % 2 === 1 ? 'alert' : 'clean',
    });
  }
  expect(guard.registry.size).toBe(CLIENTS);
  for (let i = 0; i < CLIENTS; i++) {
    const d = guard.registry.peek(`c${i}`);
    const counts = Object.fromEntries(d?.syscallCounts() ?? []);
    expect(counts).toEqual({
      read: PER_CLIENT * ((i % 7) + 1),
      write: PER_CLIENT,
      ...(i % 2 === 1 ? { ptrace: PER_CLIENT } : {}),
    });
    expect(seen.get(`c${i}`)).toEqual(Array(PER_CLIENT).fill(i % 2 === 1 ? 'alert' : 'clean'));
    const stats = d?.stats();
    expect(stats?.alertVerdicts).toBe(i % 2 === 1 ? PER_CLIENT : 0);
    expect(stats?.cleanVerdicts).toBe(i % 2 === 1 ? 0 : PER_CLIENT);
  }
});

it('bounds client state by maxKeys', async () => {
  const guard = syscanGuard({ maxKeys: 3, key: (req) => String(req.get('x-client')) });
  const app = express();
  app.get('/t', guard, (_req, res) => {
    res.type('text').send('read(0, "", 1) = 0\n');
  });
  const server = await listen(app);
  try {
    for (let i = 0; i < 10; i++) await request(`${server.url}/t`, { headers: { 'x-client': `k${i}` } });
    expect([...guard.registry.keys()]).toEqual(['k7', 'k8', 'k9']);
  } finally {
    await server.close();
  }
});
