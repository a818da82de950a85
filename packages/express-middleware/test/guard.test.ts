import { readFileSync } from 'node:fs';
import { type DetectorConfig, parseSyscallEvents } from '@syscan/core';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { type GuardVerdict, PROBLEM_TYPES, type SyscanGuardOptions, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, manualClock, type Running } from './helpers/server.js';

// A real trace: `sh -c 'echo TOP-SECRET-7f3a; …'` under strace. Its write() line carries the
// stdout the guard must never echo in a 403.
const TRACE = readFileSync(new URL('./fixtures/sh-secret.strace', import.meta.url), 'utf8');
const SECRET = 'TOP-SECRET-7f3a';
const NAMES = [...new Set(parseSyscallEvents(TRACE).map((e) => e.syscall))];
/** The fixture is clean against this; rate limits off so repeated requests stay clean. */
const BASELINE: DetectorConfig = {
  baselineSyscalls: NAMES,
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
};
const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = -1 EPERM (Operation not permitted)\n';

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

interface Setup {
  guard?: SyscanGuardOptions;
  handler?: (req: Request, res: Response, next: NextFunction) => void;
  errorHandler?: (err: unknown, req: Request, res: Response, next: NextFunction) => void;
}

/** POST /tools/shell echoes `{ stdout, stderr, trace }` from the request body as the tool's result. */
async function start(setup: Setup = {}) {
  const verdicts: GuardVerdict[] = [];
  let handled = 0;
  const guard = syscanGuard({
    detector: BASELINE,
    key: (req) => req.get('x-client') ?? 'anon',
    onVerdict: (v, _req, res) => {
      expect(res.locals.syscan).toBe(v);
      verdicts.push(v);
    },
    ...setup.guard,
  });
  const app: Express = express();
  app.post('/tools/shell', express.json({ limit: '20mb' }), guard, (req, res, next) => {
    handled++;
    if (setup.handler) setup.handler(req, res, next);
    else res.json({ exitCode: 0, ...req.body });
  });
  if (setup.errorHandler) app.use(setup.errorHandler);
  running = await listen(app);
  const url = `${running.url}/tools/shell`;
  return { url, guard, verdicts, handled: () => handled };
}

describe('syscanGuard on a listening Express server', () => {
  it('passes a clean response unchanged and labels it', async () => {
    const { url, verdicts } = await start();
    const body = { stdout: `${SECRET}\n`, stderr: '', trace: TRACE };
    const r = await request(url, { body });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('clean');
    expect(r.json).toEqual({ exitCode: 0, ...body });
    expect(verdicts).toEqual([{ kind: 'clean' }]);
  });

  it('leaves res.req the request (the watch re-adds it to make the response cheap to extend)', async () => {
    let same: boolean | undefined;
    const { url } = await start({
      handler: (req, res) => {
        same = res.req === req && Object.keys(res).includes('req');
        res.json({ exitCode: 0, ...req.body });
      },
    });
    const r = await request(url, { body: { trace: TRACE } });
    expect(r.headers['syscan-verdict']).toBe('clean');
    expect(same).toBe(true);
  });

  it('blocks an anomalous response with a 403 problem that withholds the output', async () => {
    const { url, verdicts } = await start();
    const r = await request(url, { body: { stdout: `${SECRET}\n`, trace: TRACE + PTRACE } });
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(r.headers['syscan-verdict']).toBe('alert');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json).toMatchObject({
      type: PROBLEM_TYPES.anomalousOutput,
      title: expect.any(String),
      status: 403,
      detail: expect.stringContaining('withheld'),
      verdict: 'alert',
    });
    const ptrace = r.json.alerts.find(
      (a: { type: string; syscall?: string }) => a.type === 'unknown_syscall' && a.syscall === 'ptrace',
    );
    expect(ptrace).toMatchObject({
      type: 'unknown_syscall',
      severity: 'critical',
      message: "unknown syscall 'ptrace' not in baseline",
      count: 1,
      sample: 'ptrace(…) = -1 EPERM',
    });
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('exitCode');
    // Server-side, the verdict keeps the raw sample for the operator.
    const v = verdicts[0]!;
    expect(v.kind).toBe('alert');
    if (v.kind === 'alert')
      expect(v.alerts.some((a) => a.sample?.startsWith('ptrace(PTRACE_ATTACH'))).toBe(true);
  });

  it('never echoes output through alert samples, even from a real write() line', async () => {
    const { url } = await start({
      guard: { detector: { ...BASELINE, forbiddenSyscalls: ['write', 'execve'] } },
    });
    const r = await request(url, { body: { trace: TRACE } });
    expect(r.status).toBe(403);
    const write = r.json.alerts.find((a: { syscall?: string }) => a.syscall === 'write');
    expect(write).toMatchObject({ type: 'forbidden_syscall', severity: 'critical', sample: 'write(…)' });
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('TOP-SECRET');
  });

  it('never echoes crafted stdout lines: fake syscall names and arguments are blanked', async () => {
    const { url } = await start();
    const stdout =
      'ptrace(EXFIL-aaaa-1111) = 0\nhunter2token(x) = 0\ntype=SYSCALL msg=audit(1.2:3): syscall=101 exe="/EXFIL-bbbb" key=EXFILcccc\n';
    const r = await request(url, { body: { stdout } });
    expect(r.status).toBe(403);
    expect(r.text).not.toMatch(/EXFIL|hunter2/);
    expect(r.json.alerts.length).toBeGreaterThan(0);
    expect(JSON.stringify(r.json.alerts)).toContain("unknown syscall '?' not in baseline");
  });

  it('report mode passes the anomalous response unchanged, with header and locals', async () => {
    const { url, verdicts } = await start({ guard: { mode: 'report' } });
    const body = { stdout: SECRET, trace: TRACE + PTRACE };
    const r = await request(url, { body });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('alert');
    expect(r.json).toEqual({ exitCode: 0, ...body });
    expect(verdicts[0]?.kind).toBe('alert');
  });

  it('refuses a cooling-down client with 429 + Retry-After, without running the handler', async () => {
    const clock = manualClock();
    const { url, handled, verdicts } = await start({
      guard: { now: clock.now, detector: { ...BASELINE, maxAlertsPerMinute: 1, alertCooldownSecs: 10 } },
    });
    const bad = { body: { trace: PTRACE }, headers: { 'x-client': 'a' } };
    expect((await request(url, bad)).headers['syscan-verdict']).toBe('alert');
    // Second alert in the window: budget exhausted → suppressed, still blocked.
    const second = await request(url, bad);
    expect(second.status).toBe(403);
    expect(second.headers['syscan-verdict']).toBe('suppressed');
    expect(second.json).toMatchObject({ verdict: 'suppressed', alerts: [], retryAfter: 10 });
    expect(second.text).not.toContain('ptrace(');
    expect(handled()).toBe(2);

    const refused = await request(url, { body: { trace: TRACE }, headers: { 'x-client': 'a' } });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(refused.headers['syscan-verdict']).toBe('suppressed');
    expect(refused.json).toEqual({
      type: PROBLEM_TYPES.coolingDown,
      title: expect.any(String),
      status: 429,
      detail: 'This client tripped too many syscall alerts; retry in 10 s.',
      retryAfter: 10,
    });
    expect(handled()).toBe(2);
    expect(verdicts.at(-1)).toMatchObject({
      kind: 'suppressed',
      reason: 'alert cooldown active',
      retryAfterMs: 10_000,
    });

    clock.advance(4_500);
    const later = await request(url, { body: { trace: TRACE }, headers: { 'x-client': 'a' } });
    expect(later.status).toBe(429);
    expect(later.headers['retry-after']).toBe('6'); // 5.5 s left, rounded up

    clock.advance(5_500);
    const after = await request(url, { body: { trace: TRACE }, headers: { 'x-client': 'a' } });
    expect(after.status).toBe(200);
    expect(after.headers['syscan-verdict']).toBe('clean');
    expect(handled()).toBe(3);
  });

  it('report mode never refuses a cooling-down client', async () => {
    const clock = manualClock();
    const { url, handled } = await start({
      guard: { mode: 'report', now: clock.now, detector: { ...BASELINE, maxAlertsPerMinute: 1 } },
    });
    for (let i = 0; i < 3; i++) await request(url, { body: { trace: PTRACE } });
    const r = await request(url, { body: { trace: PTRACE } });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('suppressed');
    expect(handled()).toBe(4);
  });

  it('keeps each client to its own detector', async () => {
    const clock = manualClock();
    const { url, guard } = await start({
      guard: { now: clock.now, detector: { ...BASELINE, maxAlertsPerMinute: 1, alertCooldownSecs: 30 } },
    });
    const as = (client: string, trace: string) =>
      request(url, { body: { trace }, headers: { 'x-client': client } });
    await as('mallory', PTRACE);
    await as('mallory', PTRACE);
    expect((await as('mallory', TRACE)).status).toBe(429);
    expect((await as('alice', TRACE)).status).toBe(200);
    expect((await as('alice', PTRACE)).status).toBe(403); // alice's first alert: her own budget
    expect((await as('alice', TRACE)).status).toBe(200);
    expect(guard.registry.peek('mallory')?.cooldownRemainingMs()).toBe(30_000);
    expect(guard.registry.peek('alice')?.cooldownRemainingMs()).toBe(0);
    expect(guard.registry.peek('alice')?.syscallCounts().get('ptrace')).toBe(1);
  });

  it('defaults the key to the client IP', async () => {
    const { url, guard } = await start({ guard: { key: undefined } });
    await request(url, { body: { trace: TRACE } });
    expect([...guard.registry.keys()]).toEqual(['127.0.0.1']);
  });

  it('reads text bodies whole', async () => {
    const { url } = await start({
      handler: (req, res) => {
        res.type('text').send(req.body.trace);
      },
    });
    const clean = await request(url, { body: { trace: TRACE } });
    expect(clean.status).toBe(200);
    expect(clean.text).toBe(TRACE);
    expect(clean.headers['syscan-verdict']).toBe('clean');
    const bad = await request(url, { body: { trace: TRACE + PTRACE } });
    expect(bad.status).toBe(403);
    expect(bad.text).not.toContain(SECRET);
  });

  it('reads Buffer bodies and JSON already serialised by the handler', async () => {
    const { url } = await start({
      handler: (req, res) => {
        if (req.body.as === 'buffer') res.type('text').send(Buffer.from(req.body.trace));
        else res.type('json').send(JSON.stringify({ stderr: req.body.trace }));
      },
    });
    expect((await request(url, { body: { as: 'buffer', trace: TRACE + PTRACE } })).status).toBe(403);
    expect((await request(url, { body: { as: 'buffer', trace: TRACE } })).status).toBe(200);
    expect((await request(url, { body: { as: 'json', trace: TRACE + PTRACE } })).status).toBe(403);
    const clean = await request(url, { body: { as: 'json', trace: TRACE } });
    expect(clean.status).toBe(200);
    expect(clean.json).toEqual({ stderr: TRACE });
  });

  it('reads arrays of strings and every telemetry field', async () => {
    const { url, guard } = await start();
    const lines = TRACE.split('\n');
    const r1 = await request(url, { body: { trace: lines, stdout: ['hello', 42, null], stderr: [] } });
    expect(r1.status).toBe(200);
    const r2 = await request(url, { body: { trace: lines, stderr: ['x', PTRACE] } });
    expect(r2.status).toBe(403);
    const r3 = await request(url, { body: { stdout: PTRACE } });
    expect(r3.status).toBe(403);
    // Each response was analysed once: the fixture's execve counted twice, not four times.
    expect(guard.registry.peek('anon')?.syscallCounts().get('execve')).toBe(2);
  });

  it('analyses res.send(object) once (send → json → send)', async () => {
    const { url, verdicts, guard } = await start({
      handler: (req, res) => {
        res.send({ trace: req.body.trace });
      },
    });
    const r = await request(url, { body: { trace: TRACE } });
    expect(r.status).toBe(200);
    expect(verdicts).toHaveLength(1);
    expect(guard.registry.peek('anon')?.stats().events).toBe(parseSyscallEvents(TRACE).length);
  });

  it('gives responses without telemetry a clean verdict and no client state', async () => {
    const { url, guard } = await start({
      handler: (_req, res) => {
        res.status(201).json({ id: 7 });
      },
    });
    const r = await request(url, { body: {} });
    expect(r.status).toBe(201);
    expect(r.headers['syscan-verdict']).toBe('clean');
    expect(guard.registry.size).toBe(0);
  });

  it('buffers a streamed response and judges it whole before anything leaves', async () => {
    const { url, verdicts } = await start({
      handler: (req, res) => {
        res.type('text');
        res.write(req.body.trace);
        res.end(req.body.tail);
      },
    });
    const blocked = await request(url, { body: { trace: TRACE, tail: PTRACE } });
    expect(blocked.status).toBe(403);
    expect(blocked.headers['syscan-verdict']).toBe('alert');
    expect(blocked.text).not.toContain(SECRET);
    const clean = await request(url, { body: { trace: TRACE, tail: '' } });
    expect(clean.status).toBe(200);
    expect(clean.headers['syscan-verdict']).toBe('clean');
    expect(clean.text).toBe(TRACE);
    expect(verdicts.map((v) => v.kind)).toEqual(['alert', 'clean']);
  });

  it('drops content headers of the withheld response', async () => {
    const { url } = await start({
      handler: (req, res) => {
        res.attachment('output.txt');
        res.setHeader('Content-Language', 'en');
        res.json(req.body);
      },
    });
    const r = await request(url, { body: { trace: PTRACE } });
    expect(r.status).toBe(403);
    expect(r.headers['content-disposition']).toBeUndefined();
    expect(r.headers['content-language']).toBeUndefined();
  });
});

describe('failures of the guard itself', () => {
  const throwingExtract = () => {
    throw new Error(`extractor exploded near ${SECRET}`);
  };

  it('failMode closed: an extractor that throws withholds the response (500 problem)', async () => {
    const { url, verdicts } = await start({ guard: { extract: throwingExtract } });
    const r = await request(url, { body: { stdout: SECRET, trace: TRACE } });
    expect(r.status).toBe(500);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.inspectionFailed, status: 500 });
    expect(r.text).not.toContain(SECRET);
    expect(verdicts[0]).toMatchObject({ kind: 'error', error: expect.any(Error) });
  });

  it('failMode open: an extractor that throws lets the response through, labelled', async () => {
    const { url } = await start({ guard: { extract: throwingExtract, failMode: 'open' } });
    const r = await request(url, { body: { stdout: SECRET } });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json.stdout).toBe(SECRET);
  });

  it('a bad extract() result is a failure too, not a crash', async () => {
    const { url } = await start({ guard: { extract: () => 42 as unknown as string } });
    const r = await request(url, { body: {} });
    expect(r.status).toBe(500);
    const r2 = await request(url, { body: {} });
    expect(r2.status).toBe(500); // the server is still up
  });

  it('telemetry over maxInspectBytes is uninspected, decided by onUninspected', async () => {
    const blocked = await start({ guard: { maxInspectBytes: 1000 } });
    const r = await request(blocked.url, { body: { stdout: SECRET, trace: TRACE } });
    expect(r.status).toBe(502);
    expect(r.headers['syscan-verdict']).toBe('uninspected');
    expect(r.json).toMatchObject({
      type: PROBLEM_TYPES.uninspectedOutput,
      status: 502,
      verdict: 'uninspected',
    });
    expect(r.text).not.toContain(SECRET);
    expect(blocked.verdicts[0]).toMatchObject({
      kind: 'uninspected',
      reason: expect.stringContaining('maxInspectBytes'),
    });
    await running?.close();
    const passed = await start({ guard: { maxInspectBytes: 1000, onUninspected: 'pass' } });
    const r2 = await request(passed.url, { body: { trace: TRACE } });
    expect(r2.status).toBe(200);
    expect(r2.headers['syscan-verdict']).toBe('uninspected');
  });

  it("a throwing handler gets the guard's own error path: status only, never the message", async () => {
    const { url, verdicts } = await start({
      handler: (req) => {
        throw Object.assign(new Error(`tool failed: ${req.body.stdout}`), { status: 422 });
      },
      errorHandler: (err, _req, res, _next) => {
        res.status(500).json({ error: (err as Error).message });
      },
    });
    const r = await request(url, { body: { stdout: SECRET } });
    expect(r.status).toBe(422);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.handlerFailed, status: 422 });
    expect(r.text).not.toContain(SECRET);
    expect(verdicts).toMatchObject([{ kind: 'error', error: { message: expect.stringContaining(SECRET) } }]);
  });

  it('failMode open: a handler error reaches the app, and its error body is still judged', async () => {
    const { url } = await start({
      guard: { failMode: 'open' },
      handler: (_req, _res, next) => next(Object.assign(new Error('tool failed'), { trace: PTRACE })),
      errorHandler: (err, _req, res, _next) => {
        res.status(502).json({ stderr: (err as { trace: string }).trace });
      },
    });
    const r = await request(url, { body: {} });
    expect(r.status).toBe(403);
    expect(r.headers['syscan-verdict']).toBe('alert');
  });

  it('a key() that throws goes to next(err) when closed and lets the request through when open', async () => {
    const boom = () => {
      throw new Error('no tenant');
    };
    const closed = await start({
      guard: { key: boom },
      errorHandler: (err, _req, res, _next) => {
        res.status(400).json({ error: (err as Error).message });
      },
    });
    const r = await request(closed.url, { body: { trace: PTRACE } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'no tenant' });
    expect(closed.handled()).toBe(0);
    await running?.close();

    const open = await start({ guard: { key: () => '', failMode: 'open' } });
    const r2 = await request(open.url, { body: { trace: PTRACE } });
    expect(r2.status).toBe(200);
    expect(r2.headers['syscan-verdict']).toBe('error');
    expect(open.verdicts[0]).toMatchObject({ kind: 'error', error: { code: 'ERR_SYSCAN_USAGE' } });
  });

  it('an onVerdict that throws or rejects does not change the response', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const { url } = await start({
        guard: {
          onVerdict: () => {
            throw new Error('logger down');
          },
        },
      });
      const r = await request(url, { body: { trace: TRACE } });
      expect(r.status).toBe(200);
      expect(r.headers['syscan-verdict']).toBe('clean');
      const r2 = await request(url, { body: { trace: PTRACE } });
      expect(r2.status).toBe(403);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.message.includes('logger down'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
