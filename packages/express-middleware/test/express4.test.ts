import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseSyscallEvents } from '@syscan/core';
// Express 4 under another name (devDependency `express4: npm:express@^4.21`): the peer range
// promises it, so the guard is checked against a real Express 4 server too.
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { manualClock } from './helpers/server.js';

const TRACE = readFileSync(new URL('./fixtures/sh-secret.strace', import.meta.url), 'utf8');
const NAMES = [...new Set(parseSyscallEvents(TRACE).map((e) => e.syscall))];
const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = 0\n';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

async function start(mode: 'block' | 'report', clock = manualClock()) {
  const app = express4();
  const guard = syscanGuard({
    mode,
    now: clock.now,
    key: (req) => req.get('x-client') ?? 'anon',
    detector: {
      baselineSyscalls: NAMES,
      maxAlertsPerMinute: 1,
      alertCooldownSecs: 30,
      maxTotalEventsPerMinute: 0,
    },
  });
  let handled = 0;
  app.post('/tools/shell', express4.json({ limit: '5mb' }), guard, (req, res) => {
    handled++;
    // Express 4's deprecated (status, body) form is read too.
    if (req.query.legacy) (res.json as unknown as (status: number, body: unknown) => void)(200, req.body);
    else res.json(req.body);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  close = () => {
    server.closeAllConnections();
    server.close();
  };
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tools/shell`;
  return { url, clock, handled: () => handled };
}

describe('syscanGuard on Express 4', () => {
  it('passes a clean response and labels it', async () => {
    const s = await start('block');
    const r = await request(s.url, { body: { stdout: 'ok\n', trace: TRACE } });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('clean');
    expect(r.json.stdout).toBe('ok\n');
  });

  it('withholds an anomalous response with a 403 problem, also for res.json(status, body)', async () => {
    for (const legacy of [false, true]) {
      const s = await start('block');
      const r = await request(`${s.url}${legacy ? '?legacy=1' : ''}`, {
        body: { stdout: 'TOP-SECRET', trace: PTRACE },
      });
      expect(r.status).toBe(403);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.headers['syscan-verdict']).toBe('alert');
      expect(r.text).not.toContain('TOP-SECRET');
      expect(r.json.alerts[0]).toMatchObject({ syscall: 'ptrace', severity: 'critical' });
      close?.();
    }
  });

  it('refuses a cooling-down client with 429 + Retry-After without running the handler', async () => {
    const s = await start('block');
    const bad = { body: { trace: PTRACE }, headers: { 'x-client': 'mallory' } };
    expect((await request(s.url, bad)).status).toBe(403); // alert 1: within budget
    expect((await request(s.url, bad)).status).toBe(403); // budget exhausted: cooldown starts
    const before = s.handled();
    const r = await request(s.url, bad);
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('30');
    expect(s.handled()).toBe(before);
    // Another client is unaffected.
    const other = await request(s.url, { body: { trace: TRACE }, headers: { 'x-client': 'alice' } });
    expect(other.status).toBe(200);
    s.clock.advance(30_000);
    expect(
      (await request(s.url, { body: { trace: TRACE }, headers: { 'x-client': 'mallory' } })).status,
    ).toBe(200);
  });

  it('report mode passes the anomalous response unchanged', async () => {
    const s = await start('report');
    const r = await request(s.url, { body: { stdout: 'out', trace: PTRACE } });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('alert');
    expect(r.json.stdout).toBe('out');
  });
});
