// The guard fails closed (issue 10): every common result shape is read, what it cannot read
// is `uninspected` (blocked by default), a withheld response keeps none of the handler's
// headers, a failing handler never returns the output, and every response carries a
// verdict. Each case runs against a real listening Express 5 and Express 4 server.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type DetectorConfig, parseSyscallEvents } from '@syscan/core';
import express5, { type Express, type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { type GuardVerdict, PROBLEM_TYPES, type SyscanGuardOptions, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, type Running } from './helpers/server.js';

const TRACE = readFileSync(new URL('./fixtures/sh-secret.strace', import.meta.url), 'utf8');
const SECRET = 'TOP-SECRET-7f3a';
const NAMES = [...new Set(parseSyscallEvents(TRACE).map((e) => e.syscall))];
const BASELINE: DetectorConfig = {
  baselineSyscalls: NAMES,
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
};
const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = -1 EPERM (Operation not permitted)\n';
const BAD = TRACE + PTRACE;

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

type Handler = (req: Request, res: Response, next: NextFunction) => unknown;

const EXPRESSES = [
  ['Express 5', express5],
  ['Express 4', express4],
] as const;

describe.each(EXPRESSES)('the guard fails closed on %s', (_name, express) => {
  async function serve(handler: Handler, guard: SyscanGuardOptions = {}) {
    const verdicts: GuardVerdict[] = [];
    const app: Express = express();
    app.use((_req, res, next) => {
      // Set before the handler by ordinary middleware: kept on a withheld response.
      res.setHeader('Access-Control-Allow-Origin', 'https://app.example');
      next();
    });
    const g = syscanGuard({
      detector: BASELINE,
      onVerdict: (v) => {
        verdicts.push(v);
      },
      ...guard,
    });
    app.post('/tool', express.json({ limit: '20mb' }), g, (req, res, next) => {
      Promise.resolve(handler(req, res, next)).catch(next);
    });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      // An app error handler that quotes the error: the guard must get there first.
      res.status(500).send(`app error page: ${(err as Error).message}`);
    });
    running = await listen(app);
    const url = `${running.url}/tool`;
    return { verdicts, post: (body: unknown = {}) => request(url, { body }) };
  }

  function expectWithheld(
    r: { status: number; text: string; headers: Record<string, unknown> },
    status = 403,
  ) {
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('execve');
  }

  describe('reads every common result shape', () => {
    const shapes: Array<[string, Handler]> = [
      [
        'JSON sent as a string, text type',
        (_q, res) => res.send(JSON.stringify({ stdout: SECRET, trace: BAD })),
      ],
      [
        'JSON sent as a string, JSON type',
        (_q, res) => res.type('json').send(JSON.stringify({ stdout: SECRET, trace: BAD })),
      ],
      ['a Buffer field', (_q, res) => res.json({ stdout: SECRET, trace: Buffer.from(BAD) })],
      ['a Buffer body', (_q, res) => res.send(Buffer.from(`${SECRET}\n${BAD}`))],
      ['result.trace', (_q, res) => res.json({ ok: true, result: { stdout: SECRET, trace: BAD } })],
      [
        'results[i].stderr',
        (_q, res) => res.json({ results: [{ stdout: SECRET }, { stderr: BAD.split('\n') }] }),
      ],
      ['output.stdout as an object', (_q, res) => res.json({ output: { stdout: { text: BAD } } })],
      ['a top-level array', (_q, res) => res.json([{ stdout: SECRET }, { trace: BAD }])],
      [
        'NDJSON',
        (_q, res) =>
          res
            .type('application/x-ndjson')
            .send(`${JSON.stringify({ stdout: SECRET })}\n${JSON.stringify({ trace: BAD })}\n`),
      ],
      [
        'JSON inside a string (an MCP tool result)',
        (_q, res) =>
          res.json({ content: [{ type: 'text', text: JSON.stringify({ stdout: SECRET, trace: BAD }) }] }),
      ],
      ['a toJSON', (_q, res) => res.json({ run: { toJSON: () => ({ trace: BAD, stdout: SECRET }) } })],
      [
        'writeHead + end',
        (_q, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ stdout: SECRET, trace: BAD }));
        },
      ],
      [
        'a write() stream',
        (_q, res) => {
          res.setHeader('Content-Type', 'text/plain');
          for (const line of `${SECRET}\n${BAD}`.split(/(?<=\n)/)) res.write(line);
          res.end();
        },
      ],
    ];
    it.each(shapes)('%s: alerting telemetry is found and withheld', async (_shape, handler) => {
      const { post, verdicts } = await serve(handler);
      const r = await post();
      expectWithheld(r);
      expect(r.headers['syscan-verdict']).toBe('alert');
      expect(r.json).toMatchObject({
        type: PROBLEM_TYPES.anomalousOutput,
        alerts: expect.arrayContaining([expect.objectContaining({ syscall: 'ptrace' })]),
      });
      expect(verdicts.map((v) => v.kind)).toEqual(['alert']);
    });

    it('the same shapes with clean telemetry go out unchanged', async () => {
      const { post } = await serve((_q, res) => {
        res.writeHead(201, { 'Content-Type': 'text/plain', 'X-Run': '7' });
        res.write(`${SECRET}\n`);
        res.end(TRACE);
      });
      const r = await post();
      expect(r.status).toBe(201);
      expect(r.headers['syscan-verdict']).toBe('clean');
      expect(r.headers['x-run']).toBe('7');
      expect(r.text).toBe(`${SECRET}\n${TRACE}`);
    });

    it('reads the configured fields, to the configured depth', async () => {
      const nested = { a: { b: { c: { d: { log: BAD } } } } };
      const custom = await serve((_q, res) => res.json(nested), { fields: ['log'] });
      expect((await custom.post()).status).toBe(403);
      await running?.close();
      const shallow = await serve((_q, res) => res.json(nested), { fields: ['log'], maxDepth: 3 });
      const r = await shallow.post();
      expectWithheld(r, 502);
      expect(r.headers['syscan-verdict']).toBe('uninspected');
      expect(shallow.verdicts).toMatchObject([
        { kind: 'uninspected', reason: expect.stringContaining('maxDepth') },
      ]);
    });
  });

  describe('what it cannot read is uninspected', () => {
    const unreadable: Array<[string, Handler, SyscanGuardOptions?]> = [
      [
        'JSON cut short',
        (_q, res) => res.type('json').send(JSON.stringify({ stdout: SECRET, trace: BAD }).slice(0, 200)),
      ],
      [
        'a compressed body',
        (_q, res) =>
          res
            .set('Content-Encoding', 'gzip')
            .type('text')
            .send(gzipSync(`${SECRET}\n${BAD}`)),
      ],
      [
        'a stream past maxInspectBytes',
        (_q, res) => {
          res.type('text');
          for (let i = 0; i < 20; i++) res.write(`${SECRET}\n${TRACE}`);
          res.end(PTRACE);
        },
        { maxInspectBytes: 50_000 },
      ],
    ];
    it.each(unreadable)('%s: blocked by default (502), nothing of it sent', async (_what, handler, guard) => {
      const { post, verdicts } = await serve(handler, guard);
      const r = await post();
      expectWithheld(r, 502);
      expect(r.headers['syscan-verdict']).toBe('uninspected');
      expect(r.json).toMatchObject({ type: PROBLEM_TYPES.uninspectedOutput, verdict: 'uninspected' });
      expect(verdicts.map((v) => v.kind)).toEqual(['uninspected']);
    });

    it("onUninspected: 'pass' lets it through, labelled", async () => {
      const body = `${SECRET}\n${TRACE}`.repeat(20);
      const { post } = await serve(
        (_q, res) => {
          res.type('text');
          for (let i = 0; i < 20; i++) res.write(`${SECRET}\n${TRACE}`);
          res.end();
        },
        { maxInspectBytes: 50_000, onUninspected: 'pass' },
      );
      const r = await post();
      expect(r.status).toBe(200);
      expect(r.headers['syscan-verdict']).toBe('uninspected');
      expect(r.text).toBe(body);
    });

    it('report mode labels it and changes nothing', async () => {
      const { post } = await serve((_q, res) => res.type('json').send('{"stdout": "cut'), { mode: 'report' });
      const r = await post();
      expect(r.status).toBe(200);
      expect(r.headers['syscan-verdict']).toBe('uninspected');
      expect(r.text).toBe('{"stdout": "cut');
    });
  });

  it('a withheld response drops the headers the handler set, keeping the safe ones', async () => {
    const { post } = await serve((_q, res) => {
      res.setHeader('X-Tool-Output', SECRET);
      res.setHeader('Set-Cookie', `last=${SECRET}`);
      res.setHeader('Link', `</${SECRET}>; rel=preload`);
      res.setHeader('Content-Disposition', `attachment; filename="${SECRET}"`);
      res.writeHead(200, `OK ${SECRET}`, { 'X-Also': SECRET });
      res.end(BAD);
    });
    const r = await post();
    expectWithheld(r);
    expect(JSON.stringify(r.headers)).not.toContain(SECRET);
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(r.headers['syscan-verdict']).toBe('alert');
  });

  it('a handler that throws never returns the output, nor an error page quoting it', async () => {
    const { post, verdicts } = await serve((req) => {
      throw new Error(`tool failed, it printed ${req.body.stdout}`);
    });
    const r = await post({ stdout: SECRET });
    expectWithheld(r, 500);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.handlerFailed, status: 500 });
    expect(verdicts.map((v) => v.kind)).toEqual(['error']);
  });

  it('an async handler that rejects is caught the same way', async () => {
    const { post } = await serve(async (req) => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error(`async failure: ${req.body.stdout}`);
    });
    const r = await post({ stdout: SECRET });
    expectWithheld(r, 500);
    expect(r.headers['syscan-verdict']).toBe('error');
  });

  it("an error in Express's own send after inspection began never returns the output", async () => {
    // Clean telemetry, but JSON.stringify throws on the BigInt after the guard judged it.
    const { post, verdicts } = await serve((req, res) =>
      res.json({ trace: TRACE, stdout: req.body.stdout, n: 1n }),
    );
    const r = await post({ stdout: SECRET });
    expectWithheld(r, 500);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.inspectionFailed });
    expect(verdicts.map((v) => v.kind)).toEqual(['clean', 'error']);
  });

  it('every response of a guarded route carries a verdict', async () => {
    const cases: Handler[] = [
      (_q, res) => res.status(204).end(),
      (_q, res) => res.redirect('/elsewhere'),
      (_q, res) => res.sendStatus(202),
      (_q, res) => {
        res.writeHead(200);
        res.end();
      },
      (_q, res) => {
        res.flushHeaders();
        res.write('');
        res.end(TRACE);
      },
    ];
    for (const handler of cases) {
      const { post } = await serve(handler);
      const r = await post();
      expect(r.headers['syscan-verdict'], handler.toString()).toBe('clean');
      await running?.close();
      running = undefined;
    }
  });

  it('Retry-After is always a finite whole number of seconds', async () => {
    const { post } = await serve((req, res) => res.json({ trace: req.body.trace }), {
      key: () => 'one-client',
      detector: { ...BASELINE, maxAlertsPerMinute: 1, alertCooldownSecs: 31_536_000 },
    });
    expect((await post({ trace: BAD })).status).toBe(403);
    const suppressed = await post({ trace: BAD });
    expect(suppressed.status).toBe(403);
    expect(suppressed.headers['retry-after']).toBe('31536000');
    const refused = await post({ trace: TRACE });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(31_536_000);
  });
});

describe('a guard mounted with app.use', () => {
  it('guard.errorHandler is its error path: status only, never the message', async () => {
    const guard = syscanGuard({ detector: BASELINE });
    const app: Express = express5();
    app.use('/tools', express5.json(), guard);
    app.post('/tools/run', (req) => {
      throw new Error(`failed with ${req.body.stdout}`);
    });
    app.use(guard.errorHandler);
    running = await listen(app);
    const r = await request(`${running.url}/tools/run`, { body: { stdout: SECRET } });
    expect(r.status).toBe(500);
    expect(r.headers['syscan-verdict']).toBe('error');
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.handlerFailed });
    expect(r.text).not.toContain(SECRET);
  });

  it('passes errors of unguarded requests on', async () => {
    const guard = syscanGuard({ detector: BASELINE });
    const app: Express = express5();
    app.get('/other', () => {
      throw new Error('plain failure');
    });
    app.use(guard.errorHandler);
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(418).send(err.message);
    });
    running = await listen(app);
    const r = await request(`${running.url}/other`);
    expect(r.status).toBe(418);
    expect(r.text).toBe('plain failure');
  });
});

describe('framing of a buffered stream', () => {
  it('sends the whole body with a correct Content-Length, whatever the handler announced', async () => {
    const app: Express = express5();
    app.post('/tool', syscanGuard({ detector: BASELINE }), (_req, res) => {
      res.setHeader('Content-Length', '3');
      res.write(TRACE.slice(0, 100));
      res.end(TRACE.slice(100));
    });
    running = await listen(app);
    const r = await request(`${running.url}/tool`, { body: {} });
    expect(r.status).toBe(200);
    expect(r.text).toBe(TRACE);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(TRACE)));
  });
});
