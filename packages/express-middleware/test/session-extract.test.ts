// The guard as a formatter of the core session: an extractor may hand over parsed records
// (judged as one batch by the client's detector) or a summary a run's own session already
// judged (its verdict is the response's verdict, as `syscan-sandbox serve` needs).
import { readFileSync } from 'node:fs';
import {
  AGENT_TOOLS_RULES,
  createSession,
  type DetectorConfig,
  loadRules,
  parseRecords,
  parseSyscallEvents,
} from '@syscan/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { type Extracted, type GuardVerdict, PROBLEM_TYPES, syscanGuard } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, manualClock, type Running } from './helpers/server.js';

const TRACE = readFileSync(new URL('./fixtures/sh-secret.strace', import.meta.url), 'utf8');
const NAMES = [...new Set(parseSyscallEvents(TRACE).map((e) => e.syscall))];
const BASELINE: DetectorConfig = {
  baselineSyscalls: NAMES,
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
};
// A long alerting line: cut to a ~240-character evidence line it would no longer parse.
const GROUPS = Array.from({ length: 40 }, (_, i) => 1000 + i).join(', ');
const SETGROUPS = `4242  setgroups(40, [${GROUPS}]) = 0\n`;

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A runner-like endpoint: runs "the command" (here: judges a trace with its own session) and answers with its result. */
async function serve(extract: (payload: unknown) => Extracted, detector: DetectorConfig = BASELINE) {
  const clock = manualClock();
  const verdicts: GuardVerdict[] = [];
  const guard = syscanGuard({
    detector,
    now: clock.now,
    key: () => 'client',
    extract,
    onVerdict: (v) => {
      verdicts.push(v);
    },
  });
  const app = express();
  app.post('/run', express.json({ limit: '5mb' }), guard, (req, res) => {
    const run = createSession({ config: BASELINE });
    run.analyze(req.body.trace);
    const summary = run.summary();
    res.json({
      verdict: summary.verdict,
      stdout: 'TOP-SECRET-7f3a',
      evidence: [req.body.trace.slice(0, 240)],
      summary,
    });
  });
  running = await listen(app);
  return { verdicts, clock, post: (trace: string) => request(`${running!.url}/run`, { body: { trace } }) };
}

const fromSummary = (payload: unknown) => (payload as { summary: Extracted }).summary;

describe('an extractor handing over a judged SessionSummary', () => {
  it("takes the run's verdict as the response's, long lines included", async () => {
    const { post, verdicts } = await serve(fromSummary);
    const bad = await post(TRACE + SETGROUPS);
    expect(bad.status).toBe(403);
    expect(bad.headers['syscan-verdict']).toBe('alert');
    expect(bad.json).toMatchObject({
      type: PROBLEM_TYPES.anomalousOutput,
      alerts: [expect.objectContaining({ syscall: 'setgroups' })],
    });
    // Every alert of the run is kept on the verdict, as the run reported it.
    expect(verdicts[0]).toMatchObject({
      kind: 'alert',
      alerts: [{ type: 'unknown_syscall', syscall: 'setgroups' }],
    });
    const good = await post(TRACE);
    expect(good.status).toBe(200);
    expect(good.headers['syscan-verdict']).toBe('clean');
    expect(good.json.verdict).toBe('clean');
  });

  it("counts an alerting run against the client's budget, without changing its verdict", async () => {
    const { post } = await serve(fromSummary, { ...BASELINE, maxAlertsPerMinute: 1, alertCooldownSecs: 30 });
    const first = await post(TRACE + SETGROUPS);
    const second = await post(TRACE + SETGROUPS);
    // The second spends the budget: the client now cools down, but that run's verdict stays the run's.
    expect([first.headers['syscan-verdict'], second.headers['syscan-verdict']]).toEqual(['alert', 'alert']);
    const refused = await post(TRACE);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
  });

  it('a summary-shaped object that is not one is a failure, not clean', async () => {
    const { post, verdicts } = await serve(() => ({ verdict: 'fine' }) as unknown as Extracted);
    const r = await post(TRACE + SETGROUPS);
    expect(r.status).toBe(500);
    expect(verdicts[0]).toMatchObject({ kind: 'error', error: { code: 'ERR_SYSCAN_USAGE' } });
  });
});

describe('an extractor handing over parsed records', () => {
  it('judges them as one batch with the client detector', async () => {
    const { post, verdicts } = await serve((payload) =>
      parseRecords((payload as { evidence: string[] }).evidence[0]!),
    );
    expect((await post(TRACE.split('\n').slice(0, 3).join('\n'))).status).toBe(200);
    const r = await post(`${SETGROUPS.slice(0, 60).replace(/, \d*$/, '')}]) = 0\n`);
    expect(r.status).toBe(403);
    expect(verdicts).toMatchObject([
      { kind: 'clean' },
      { kind: 'alert', alerts: [{ syscall: 'setgroups' }] },
    ]);
  });

  it('an array of things that are not records is a failure', async () => {
    const { post, verdicts } = await serve(() => [{ nope: 1 }] as unknown as Extracted);
    expect((await post(TRACE)).status).toBe(500);
    expect(verdicts[0]).toMatchObject({ kind: 'error' });
  });

  it('{ uninspected } from a custom extractor is uninspected', async () => {
    const { post } = await serve(() => ({ uninspected: 'the tool answered in a format I do not read' }));
    const r = await post(TRACE);
    expect(r.status).toBe(502);
    expect(r.headers['syscan-verdict']).toBe('uninspected');
  });
});

describe('the session the guard judges with', () => {
  it('runs the shipped rules by default; rules: false turns them off', async () => {
    const PTRACE = 'ptrace(PTRACE_ATTACH, 4242) = -1 EPERM (Operation not permitted)\n';
    const kinds = async (options: { rules?: false }) => {
      const verdicts: GuardVerdict[] = [];
      const guard = syscanGuard({ detector: BASELINE, ...options, onVerdict: (v) => void verdicts.push(v) });
      const app = express();
      app.post('/t', express.json(), guard, (req, res) => res.json({ trace: req.body.trace }));
      running = await listen(app);
      await request(`${running.url}/t`, { body: { trace: TRACE + PTRACE } });
      await running.close();
      running = undefined;
      const v = verdicts[0]!;
      return v.kind === 'alert' ? v.alerts.map((a) => a.type) : [];
    };
    expect(await kinds({})).toContain('rule');
    const bare = await kinds({ rules: false });
    expect(bare).toContain('unknown_syscall');
    expect(bare).not.toContain('rule');
  });

  it('judges each response with its own run state, over the rules as they were when the guard was made', async () => {
    const RULE = 'Executed a file this run wrote';
    const WRITE = '100 openat(AT_FDCWD, "/tmp/dl", O_WRONLY|O_CREAT|O_TRUNC, 0755) = 3\n100 close(3) = 0\n';
    const EXEC =
      '100 execve("/tmp/dl", ["/tmp/dl"], 0x7ffd3c2a1e40 /* 1 var */) = 0\n100 brk(NULL) = 0x55d1c4a2b000\n';
    const rules = loadRules([AGENT_TOOLS_RULES]).rules;
    const verdicts: GuardVerdict[] = [];
    const guard = syscanGuard({
      detector: { alertOnUnknownSyscall: false, maxAlertsPerMinute: 0 },
      rules,
      key: () => 'one client',
      onVerdict: (v) => void verdicts.push(v),
    });
    const app = express();
    app.post('/t', express.json(), guard, (req, res) => res.json({ trace: req.body.trace }));
    running = await listen(app);
    const ruleNames = async (trace: string) => {
      await request(`${running!.url}/t`, { body: { trace } });
      const v = verdicts.at(-1)!;
      return v.kind === 'alert' ? v.alerts.map((a) => a.rule) : [];
    };
    expect(await ruleNames(WRITE + EXEC)).toEqual([RULE]);
    // Same client, same detector, same compiled rules: the first response's write is not this one's.
    expect(await ruleNames(EXEC)).toEqual([]);
    rules.length = 0;
    expect(await ruleNames(WRITE + EXEC)).toEqual([RULE]);
  });

  it("never carries one response's context (cwd, fds, programs) into the next one's", async () => {
    const CHDIR = '100 chdir("/root/.ssh") = 0\n';
    const OPEN_RELATIVE = '100 openat(AT_FDCWD, "id_rsa", O_RDONLY) = 3\n';
    const CURL_KEY =
      '100 execve("/usr/bin/curl", ["curl"], 0x7ffd3c2a1e40 /* 1 var */) = 0\n' +
      '100 openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = 3\n';
    const METADATA =
      '100 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("169.254.169.254")}, 16) = 0\n';
    const verdicts: GuardVerdict[] = [];
    // Both sides of the comparison run through the same guard, one client, one detector.
    const guard = syscanGuard({
      detector: { alertOnUnknownSyscall: false, maxAlertsPerMinute: 0 },
      key: () => 'one client',
      onVerdict: (v) => void verdicts.push(v),
    });
    const app = express();
    app.post('/t', express.json(), guard, (req, res) => res.json({ trace: req.body.trace }));
    running = await listen(app);
    const alertsOf = async (trace: string) => {
      await request(`${running!.url}/t`, { body: { trace } });
      const v = verdicts.at(-1)!;
      return v.kind === 'alert' ? v.alerts : [];
    };
    // In one response, the cwd resolves the relative open: the key read is seen.
    expect((await alertsOf(CHDIR + OPEN_RELATIVE)).map((a) => a.rule)).toEqual(['Read SSH private key']);
    // Split over two responses, the second starts with no cwd: nothing to resolve against.
    expect(await alertsOf(CHDIR)).toEqual([]);
    expect(await alertsOf(OPEN_RELATIVE)).toEqual([]);
    // The metadata connect of a later response is not pinned on the earlier one's curl or key.
    expect((await alertsOf(CURL_KEY)).map((a) => a.rule)).toEqual(['Read SSH private key']);
    const later = await alertsOf(METADATA);
    expect(later.map((a) => a.rule)).toEqual(['Connect to cloud metadata service']);
    expect(JSON.stringify(later)).not.toMatch(/curl|id_rsa/);
  });

  it('reads several telemetry texts as one trace, as if joined by newlines', async () => {
    const verdicts: GuardVerdict[] = [];
    const guard = syscanGuard({
      detector: { alertOnUnknownSyscall: false, maxAlertsPerMinute: 0 },
      onVerdict: (v) => void verdicts.push(v),
    });
    const app = express();
    // The chdir is in stderr, the open in trace: only read together do they make the key read.
    app.get('/t', guard, (_req, res) =>
      res.json({
        stderr: '100 chdir("/root/.ssh") = 0',
        trace: '100 openat(AT_FDCWD, "id_rsa", O_RDONLY) = 3',
      }),
    );
    running = await listen(app);
    const r = await request(`${running.url}/t`);
    expect(r.status).toBe(403);
    const v = verdicts[0]!;
    expect(v.kind === 'alert' ? v.alerts.map((a) => a.rule) : []).toEqual(['Read SSH private key']);
  });
});
