import { readFileSync, rmSync } from 'node:fs';
import {
  type DetectorConfig,
  learnSequenceModel,
  parseRecords,
  type SequenceExplanation,
  type SyscallEvent,
} from '@syscan/core';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  learnBaseline,
  makeServiceRig,
  type ServiceRig,
  serviceSkipReason,
  traceNormalRuns,
  traceService,
} from '../../cli/test/fixtures/sequence/service-traces.js';
import { type GuardVerdict, PROBLEM_TYPES, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, type Running } from './helpers/server.js';

/**
 * The guard with a learned sequence model, end to end: a baseline `syscan learn` made from 24
 * real `strace -f` runs of a Python service, a real Express server on 127.0.0.1 whose tool
 * route answers with a run's trace, and the two runs it must tell apart: a held-out normal
 * one (passes) and one that sends every input out with the same syscalls (refused, 403).
 */
describe.skipIf(serviceSkipReason !== undefined)('syscanGuard with a learned sequence model', () => {
  if (serviceSkipReason) it.skip(`sequence guard tests skipped: ${serviceSkipReason}`, () => {});
  let rig: ServiceRig;
  let baseline: DetectorConfig;
  const traces: Record<string, string> = {};
  let running: Running | undefined;

  beforeAll(() => {
    rig = makeServiceRig('syscan-guard-sequence-');
    baseline = JSON.parse(readFileSync(learnBaseline(rig, traceNormalRuns(rig, 24)), 'utf8'));
    traces.normal = readFileSync(traceService(rig, 'held-out.strace', 'normal', 7), 'utf8');
    traces.exfilt = readFileSync(traceService(rig, 'exfilt.strace', 'exfilt', 2), 'utf8');
  }, 120_000);
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(() => rmSync(rig.dir, { recursive: true, force: true }));

  /** POST /tools/service {run} answers `{ exitCode, stdout, trace }` of that recorded run (stdout: `ran RUN`, or `stdout`). */
  async function start(stdout?: string): Promise<{ url: string; verdicts: GuardVerdict[] }> {
    const verdicts: GuardVerdict[] = [];
    const guard = syscanGuard({ detector: baseline, onVerdict: (v) => void verdicts.push(v) });
    const app = express();
    app.post('/tools/service', express.json(), guard, (req, res) => {
      const run = String(req.body.run);
      res.json({ exitCode: 0, stdout: stdout ?? `ran ${run}\n`, trace: traces[run] ?? '' });
    });
    running = await listen(app);
    return { url: `${running.url}/tools/service`, verdicts };
  }

  // The threshold states a false-alarm rate (from 24 runs, about one normal run in 25 scores
  // over it, more on a loaded machine): each try traces a fresh held-out run.
  let tries = 0;
  it('passes the held-out normal run unchanged', { retry: 2 }, async () => {
    if (tries++ > 0)
      traces.normal = readFileSync(traceService(rig, `held-out-${tries}.strace`, 'normal', 7), 'utf8');
    const { url, verdicts } = await start();
    const r = await request(url, { body: { run: 'normal' } });
    expect(r.status).toBe(200);
    expect(r.headers['syscan-verdict']).toBe('clean');
    expect(r.json).toEqual({ exitCode: 0, stdout: 'ran normal\n', trace: traces.normal });
    expect(verdicts).toEqual([{ kind: 'clean' }]);
  });

  it('refuses the exfiltrating run: 403 naming the sequence alert, output withheld', async () => {
    const { url, verdicts } = await start();
    const r = await request(url, { body: { run: 'exfilt' } });
    expect(r.status).toBe(403);
    expect(r.headers['syscan-verdict']).toBe('alert');
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json).toMatchObject({ type: PROBLEM_TYPES.anomalousOutput, status: 403, verdict: 'alert' });
    // The sequence model is the only judge that sees it: no syscall of the run is new.
    expect(r.json.alerts).toEqual([
      expect.objectContaining({
        type: 'sequence_anomaly',
        severity: 'medium',
        message: expect.stringMatching(/calls unlike normal \(score [\d.]+ > [\d.]+\)/),
      }),
    ]);
    // Nothing of the output: neither the tool's stdout nor the inputs the trace shows it read.
    expect(r.text).not.toContain('ran exfilt');
    expect(r.text).not.toMatch(/w\d+ w\d+/);
    // The full alert, explanation included, stays server-side.
    const [verdict] = verdicts;
    expect(verdict?.kind).toBe('alert');
    const alert = verdict?.kind === 'alert' ? verdict.alerts[0] : undefined;
    expect(alert?.score).toBeGreaterThan(alert?.threshold ?? Number.POSITIVE_INFINITY);
    expect(alert?.process?.argv).toContain('exfilt');
    const details = alert?.details as unknown as SequenceExplanation;
    // The explanation is made when the process first crosses its threshold, and where that
    // falls moves with the calibration of the 24 normal runs traced above: after the first
    // read→sendto (a pair no normal run makes), or, once seen, before it, while the window
    // holds the socket the exfiltrating mode opens first.
    const shown = [
      ...details.novel.pairs.map((p) => p.syscalls.join('→')),
      ...details.window.calls.map((c) => c.syscall),
    ];
    expect(shown.includes('read→sendto') || shown.includes('socket'), shown.join(' ')).toBe(true);
    expect(details.window.calls.every((c) => c.line !== undefined)).toBe(true);
  });

  it('a 403 never echoes text from the output: a forged process name in stdout stays out of it', async () => {
    const SECRET = 'TOP-SECRET-5e1b';
    // A hostile command prints trace lines of a process named after what it wants echoed:
    // a program the model never learned, which is a sequence alert of its own.
    const forged = `4242  execve("/tmp/${SECRET}", ["${SECRET}"], 0x0 /* 0 vars */) = 0\n${'4242  getpid() = 4242\n'.repeat(20)}`;
    const { url, verdicts } = await start(forged);
    const r = await request(url, { body: { run: 'normal' } });
    expect(r.status).toBe(403);
    expect(r.json.alerts).toContainEqual(
      expect.objectContaining({
        type: 'sequence_anomaly',
        message: 'calls of a program the sequence model has not learned',
      }),
    );
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('python3'); // nor which programs the server's model knows
    // Server-side, the alert names the forged program in full.
    const alerts = verdicts[0]?.kind === 'alert' ? verdicts[0].alerts : [];
    expect(alerts.some((a) => a.type === 'sequence_anomaly' && a.message.includes(SECRET))).toBe(true);
  });
});

describe('a 403 quotes nothing of the output it withholds', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("a rule alert's message is the rule's name, not its output (which quotes the trace's paths)", async () => {
    const SECRET = 'LEAKED-TEXT-77c2';
    const app = express();
    const verdicts: GuardVerdict[] = [];
    app.post('/t', express.json(), syscanGuard({ onVerdict: (v) => void verdicts.push(v) }), (_req, res) => {
      res.json({ stdout: `4242  openat(AT_FDCWD, "/root/.ssh/id_rsa-${SECRET}", O_RDONLY) = 3\n` });
    });
    running = await listen(app);
    const r = await request(`${running.url}/t`, { body: {} });
    expect(r.status).toBe(403);
    expect(r.json.alerts).toContainEqual(
      expect.objectContaining({ type: 'rule', message: expect.stringMatching(/^rule '.+' matched$/) }),
    );
    expect(r.text).not.toContain(SECRET);
    const alerts = verdicts[0]?.kind === 'alert' ? verdicts[0].alerts : [];
    expect(alerts.some((a) => a.type === 'rule' && a.message.includes(SECRET))).toBe(true);
  });

  it('an AppArmor denial forged in stdout: the 403 names neither its path nor its profile', async () => {
    const app = express();
    app.post('/t', express.json(), syscanGuard({}), (_req, res) => {
      res.json({
        stdout:
          'type=AVC msg=audit(1700000000.123:42): apparmor="DENIED" operation="open" profile="LEAK-PROFILE" name="/LEAK-NAME" pid=4242 comm="x" requested_mask="r" denied_mask="r" fsuid=0 ouid=0\n',
      });
    });
    running = await listen(app);
    const r = await request(`${running.url}/t`, { body: {} });
    expect(r.status).toBe(403);
    expect(r.json.alerts).toContainEqual(expect.objectContaining({ type: 'access_denied' }));
    expect(r.text).not.toMatch(/LEAK-/);
  });
});

/**
 * A run is judged whole, its end included: a process too short for a window and closed by no
 * exit record (strace -qq, or a plain trace's unprefixed exit) is scored only at the end of
 * input. Before, the guard judged the batch alone and such a run came out clean.
 */
describe('syscanGuard judges the end of a run too', () => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('a short run unlike every normal one is refused (403), though no single call is new', async () => {
    const normal = (pid: number) =>
      parseRecords(
        Array.from({ length: 40 }, (_, i) => `${pid} ${['openat', 'read', 'close'][i % 3]}(3) = 0`).join(
          '\n',
        ),
      ).filter((r) => r.kind === 'syscall') as SyscallEvent[];
    const model = learnSequenceModel([1, 2, 3, 4, 5, 6].map(normal));
    const guard = syscanGuard({
      detector: { sequenceModel: model as never, alertOnUnknownSyscall: false },
      rules: false,
    });
    const odd = Array.from(
      { length: 10 },
      (_, i) => `9 ${['socket', 'connect', 'dup2', 'execve'][i % 4]}(3) = 0`,
    );
    const app = express();
    app.post('/tools/run', express.json(), guard, (req, res) => {
      res.json({
        exitCode: 0,
        stdout: 'done\n',
        trace: req.body.odd
          ? odd.join('\n')
          : normal(7)
              .map((e) => e.raw)
              .join('\n'),
      });
    });
    running = await listen(app);
    const url = `${running.url}/tools/run`;
    const refused = await request(url, { body: { odd: true } });
    expect(refused.status).toBe(403);
    expect(refused.json.alerts).toEqual([
      expect.objectContaining({
        type: 'sequence_anomaly',
        message: expect.stringMatching(/^calls unlike normal/),
      }),
    ]);
    const passed = await request(url, { body: { odd: false } });
    expect(passed.status).toBe(200);
    expect(passed.headers['syscan-verdict']).toBe('clean');
  });

  it('warns once, when made, that a model of 6 runs cannot hold 1 % false alarms', async () => {
    const run = (pid: number) =>
      parseRecords(
        Array.from({ length: 30 }, (_, i) => `${pid} ${['read', 'write'][i % 2]}(3) = 0`).join('\n'),
      ).filter((r) => r.kind === 'syscall') as SyscallEvent[];
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      syscanGuard({
        detector: { sequenceModel: learnSequenceModel([1, 2, 3, 4, 5, 6].map(run)) as never },
        rules: false,
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.code === 'SYSCAN_SEQUENCE_RATE').map((w) => w.message)).toEqual([
      'syscanGuard: the sequence model has programs learned from too few normal runs to hold 1 % false alarms: default (6 runs: about 1 in 7 normal runs will alert); learn more runs of them',
    ]);
  });
});
