// The guard over a core DetectorStore in memory must answer exactly as the guard without a
// store (per-process detectors) for the same sequence of requests: same statuses, verdicts,
// Retry-After and alert messages. Only where the state lives differs.
import { type DetectorConfig, MemoryDetectorStore } from '@syscan/core';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SyscanGuardOptions, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, manualClock, type Running } from './helpers/server.js';

const TRACES = [
  'read(3, "x", 1) = 1\nclose(3) = 0\n',
  'ptrace(PTRACE_ATTACH, 4242) = 0\n',
  'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)\n'.repeat(2),
  'read(3, "x", 1) = 1\n'.repeat(9),
];
const DETECTOR: DetectorConfig = {
  baselineSyscalls: ['read', 'openat', 'close'],
  maxDeniedEventsPerMinute: 3,
  maxTotalEventsPerMinute: 20,
  maxAlertsPerMinute: 3,
  alertCooldownSecs: 10,
};

describe('syscanGuard over a MemoryDetectorStore', () => {
  const clock = manualClock();
  const servers: Running[] = [];
  const start = async (options: SyscanGuardOptions): Promise<Running> => {
    const app = express();
    const guard = syscanGuard({
      detector: DETECTOR,
      now: clock.now,
      key: (req) => req.get('x-client') ?? 'anon',
      ...options,
    });
    app.post('/tool', express.json(), guard, (req, res) => res.json({ trace: req.body.trace }));
    const running = await listen(app);
    servers.push(running);
    return running;
  };
  let plain: Running;
  let stored: Running;
  beforeAll(async () => {
    plain = await start({});
    stored = await start({ store: new MemoryDetectorStore() });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('answers a mixed sequence of three clients exactly as the guard without a store', async () => {
    let seed = 3;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const statuses = new Set<number>();
    for (let i = 0; i < 150; i++) {
      clock.advance(Math.floor(rnd() * 2500));
      const client = `c${Math.floor(rnd() * 3)}`;
      const trace = TRACES[Math.floor(rnd() * TRACES.length)]!;
      const ask = (s: Running) =>
        request(`${s.url}/tool`, { body: { trace }, headers: { 'x-client': client } });
      const [a, b] = [await ask(plain), await ask(stored)];
      const view = (r: typeof a) => ({
        status: r.status,
        verdict: r.headers['syscan-verdict'],
        retryAfter: r.headers['retry-after'],
        body: r.json,
      });
      expect(view(b), `request ${i} of ${client}`).toEqual(view(a));
      statuses.add(a.status);
    }
    // The sequence reaches every answer: served, withheld, refused while cooling down.
    expect([...statuses].sort()).toEqual([200, 403, 429]);
  });
});
