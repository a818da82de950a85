import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedCpus } from '../src/exec/cpus.js';
import { loadPolicy } from '../src/policy.js';
import { createSandboxApp, type SandboxApp } from '../src/server/app.js';
import { TokenAuth } from '../src/server/auth.js';
import { binPath, ensureBuilt, hasPython, hasStrace } from './helpers.js';

const TOKEN = 'test-token-0123456789abcdef';
const logs: Record<string, unknown>[] = [];

describe.skipIf(!hasStrace)('serve: POST /v1/exec on a real server', () => {
  let sandbox: SandboxApp;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    sandbox = createSandboxApp({
      policy: loadPolicy().config,
      auth: new TokenAuth([TOKEN]),
      maxConcurrent: 1,
      defaultTimeoutMs: 10_000,
      maxTimeoutMs: 30_000,
      enforce: true,
      failOn: 'high',
      maxOutputBytes: 1024 * 1024,
      bodyLimit: 64 * 1024,
      guardMode: 'block',
      clientAlertBudget: 10,
      clientCooldownSecs: 60,
      log: (msg, fields) => logs.push({ msg, ...fields }),
    });
    server = sandbox.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const exec = (body: unknown, token: string | null = TOKEN): Promise<Response> =>
    fetch(`${base}/v1/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('runs argv and returns the result', async () => {
    const res = await exec({ argv: ['cat'], stdin: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('syscan-verdict')).toBe('clean');
    const body = (await res.json()) as { stdout: { text: string }; verdict: string; status: number };
    expect(body.stdout.text).toBe('hello');
    expect(body.verdict).toBe('clean');
    expect(body.status).toBe(0);
    expect(logs.some((l) => l.msg === 'exec' && l.argv0 === 'cat' && l.verdict === 'clean')).toBe(true);
  });

  it('refuses requests without a valid bearer token (401)', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef']) {
      const res = await exec({ argv: ['true'] }, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
  });

  it.each([
    [{ argv: 'ls -la' }, 'argv'],
    [{ argv: [] }, 'argv'],
    [{ argv: ['ls', 3] }, 'argv/1'],
    [{ argv: [''] }, 'argv/0'],
    [{ argv: ['ls'], cwd: 'relative' }, 'cwd'],
    [{ argv: ['ls'], env: { 'BAD-NAME': 'x' } }, 'env/BAD-NAME'],
    [{ argv: ['ls'], timeoutMs: 0 }, 'timeoutMs'],
    [{ argv: ['ls'], enforce: 'yes' }, 'enforce'],
    [{ argv: ['ls'], shell: true }, 'shell'],
  ])('400 problem+json naming the field: %j', async (body, field) => {
    const res = await exec(body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { field: string }).field).toBe(field);
  });

  it('400 on malformed JSON, 413 over the body limit', async () => {
    expect((await exec('{"argv": [')).status).toBe(400);
    expect((await exec({ argv: ['cat'], stdin: 'x'.repeat(100_000) })).status).toBe(413);
  });

  it('422 for a command that does not exist', async () => {
    const res = await exec({ argv: ['no-such-command-xyz'] });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field: string }).field).toBe('argv/0');
  });

  it.skipIf(!hasPython)(
    'kills a command that calls ptrace and withholds its output (403 from the guard)',
    async () => {
      const res = await exec({
        argv: ['python3', '-c', 'import ctypes,time; ctypes.CDLL(None).ptrace(0,0,0,0); print("leak")'],
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('syscan-verdict')).toBe('alert');
      const text = await res.text();
      expect(text).toContain('ptrace');
      expect(text).not.toContain('leak');
    },
  );

  it('is full at maxConcurrent: 503 with Retry-After', async () => {
    const slow = exec({ argv: ['sleep', '2'] });
    // The first request holds the only slot once the server has admitted it.
    for (let i = 0; i < 100 && sandbox.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const busy = await exec({ argv: ['true'] });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect((await slow).status).toBe(200);
  });

  it.skipIf(!hasPython)(
    "answers with the run's own verdict, even when the alerting trace line is long (setgroups of 40 groups)",
    async () => {
      // The alerting line is ~330 characters; re-parsing evidence cut at 240 gave 200 + clean.
      const res = await exec({
        argv: ['python3', '-c', 'import os; os.setgroups(list(range(100000, 100040))); print("out")'],
        enforce: false,
      });
      expect(res.headers.get('syscan-verdict')).toBe('alert');
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('"out');
    },
  );

  it('keeps the slot until the command is gone, and kills the command of a client that hangs up', async () => {
    const marker = join(tmpdir(), `syscan-disconnect-${process.pid}-${Date.now()}`);
    const controller = new AbortController();
    const pending = fetch(`${base}/v1/exec`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ argv: ['sh', '-c', `sleep 1.5; touch ${marker}`], timeoutMs: 20_000 }),
    }).catch(() => undefined);
    for (let i = 0; i < 100 && sandbox.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sandbox.inFlight).toBe(1);
    controller.abort();
    await pending;
    // The slot frees once the command's processes are gone, and the command never got to its next step.
    for (let i = 0; i < 150 && sandbox.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sandbox.inFlight).toBe(0);
    await new Promise((r) => setTimeout(r, 1800));
    expect(existsSync(marker)).toBe(false);
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    // Which isolation runs get is said, so an operator can check it before trusting verdicts.
    expect(((await health.json()) as { isolation: { mode: string } }).isolation.mode).toMatch(
      /^(namespaces|none)$/,
    );
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^syscan_executions_total\{verdict="clean"\} \d+$/m);
    expect(text).toContain('# TYPE syscan_exec_duration_seconds histogram');
    expect(text).toMatch(/^syscan_exec_in_flight 0$/m);
    if (hasPython) {
      expect(text).toMatch(/^syscan_kills_total\{reason="policy"\} 1$/m);
      expect(text).toMatch(/^syscan_alerts_total\{type="unknown_syscall",severity="\w+"\} \d+$/m);
      expect(text).toMatch(/^syscan_runs_total\{outcome="killed"\} 1$/m);
    }
  });
});

describe.skipIf(!hasStrace)('serve: the built binary', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sandbox-serve-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function start(args: string[]): { child: ChildProcess; port: Promise<number>; stderr: () => string } {
    const child = spawn(process.execPath, [binPath, 'serve', '--port', '0', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const port = new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        for (const line of err.split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    port.catch(() => {});
    return { child, port, stderr: () => err };
  }

  it('refuses to start without a token, or with --no-auth off loopback (exit 2)', async () => {
    for (const args of [[], ['--no-auth', '--host', '0.0.0.0']]) {
      const { child, stderr } = start(args);
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(2);
      expect(stderr().split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  it('shuts down on SIGTERM: finishes the running command, then exits 0', async () => {
    const tokenFile = join(dir, 'tokens');
    writeFileSync(tokenFile, `# clients\n${TOKEN}\n`);
    const { child, port } = start(['--token-file', tokenFile]);
    const p = await port;
    const running = fetch(`http://127.0.0.1:${p}/v1/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ argv: ['sh', '-c', 'sleep 0.5; echo done'] }),
    });
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const res = await running;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stdout: { text: string } }).stdout.text).toBe('done\n');
    expect(await exited).toBe(0);
  });

  it('--cpus: every command runs on those CPUs', async () => {
    const tokenFile = join(dir, 'tokens-cpus');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const allowed = [...(allowedCpus() ?? new Set([0]))];
    const cpu = allowed[allowed.length - 1] as number;
    const { child, port } = start(['--token-file', tokenFile, '--cpus', String(cpu)]);
    try {
      const res = await fetch(`http://127.0.0.1:${await port}/v1/exec`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          argv: ['python3', '-c', 'import os; print(sorted(os.sched_getaffinity(0)))'],
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { stdout: { text: string }; verdict: string };
      expect(body.stdout.text.trim()).toBe(`[${cpu}]`);
      expect(body.verdict).toBe('clean');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
