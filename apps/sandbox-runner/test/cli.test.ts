import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedCpus } from '../src/exec/cpus.js';
import { findExecutable } from '../src/exec/locate.js';
import { binPath, ensureBuilt, hasNamespaces, hasStrace, pidsInNamespace } from './helpers.js';

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', env, timeout: 30_000 });
}

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('syscan-sandbox usage errors (exit 2, one line)', () => {
  it.each([
    [['exec', '--fail-on', 'bogus', '--', 'true'], '--fail-on must be one of'],
    [['exec', '--timeout', 'soon', '--', 'true'], '--timeout must be a positive integer'],
    [['exec', '--config', '/nonexistent/policy.json', '--', 'true'], 'cannot read policy'],
  ])('%j', (args, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the package when strace is missing', () => {
    const r = cli(['exec', '--', 'true'], { ...process.env, PATH: dir });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'syscan-sandbox: strace not found on PATH: install it (apt-get install strace | dnf install strace | apk add strace)',
    );
  });

  it('rejects a policy that is not a valid detector config', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"maxTotalEventsPerMinute": "lots"}');
    const r = cli(['exec', '--config', bad, '--', 'true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^syscan-sandbox: invalid detector config in policy .*bad\.json: maxTotalEventsPerMinute/,
    );
  });
});

describe.skipIf(!hasStrace)('syscan-sandbox exec (built binary, real strace)', () => {
  it('passes the command output through and exits with its status', () => {
    const r = cli(['exec', '--', 'sh', '-c', 'echo hello; exit 7']);
    expect(r.stdout).toBe('hello\n');
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/syscan-sandbox: exit 7 .* clean/);
  });

  it('--json prints one JSON document', () => {
    const r = cli(['exec', '--json', '--', 'cat', '/etc/hostname']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      verdict: string;
      stdout: { text: string };
      syscalls: Record<string, number>;
    };
    expect(doc.verdict).toBe('clean');
    expect(doc.syscalls.openat).toBeGreaterThan(0);
  });

  it('command not found: one line, exit 2', () => {
    const r = cli(['exec', '--', 'no-such-command-xyz']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'syscan-sandbox: command not found: no-such-command-xyz (No such file or directory)',
    );
  });

  it('--timeout: exit 128+9 and a killed record', () => {
    const r = cli(['exec', '--json', '--timeout', '300', '--', 'sh', '-c', 'sleep 100 & sleep 100']);
    expect(r.status).toBe(137);
    const doc = JSON.parse(r.stdout) as { killed: { reason: string }; signal: string };
    expect(doc.killed.reason).toBe('timeout');
    expect(doc.signal).toBe('SIGKILL');
  });

  it('a `syscan learn`-style baseline works as a policy', () => {
    const learned = join(dir, 'learned.json');
    writeFileSync(
      learned,
      JSON.stringify({
        baselineSyscalls: ['read'],
        maxTotalEventsPerMinute: 0,
        learned: { events: 1, sources: ['x'] },
      }),
    );
    const r = cli(['exec', '--json', '--config', learned, '--', 'true']);
    const doc = JSON.parse(r.stdout) as { verdict: string; alerts: { type: string }[] };
    expect(doc.verdict).toBe('alert');
    expect(doc.alerts.every((a) => a.type === 'unknown_syscall')).toBe(true);
  });
});

describe.skipIf(!hasStrace)('syscan-sandbox exec --isolation', () => {
  /** A PATH with strace and what a run needs, but neither bwrap nor unshare. */
  function pathWithoutNamespaceTools(): string {
    const bin = join(dir, 'no-ns-bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['strace', 'mkfifo', 'true']) {
      try {
        symlinkSync(findExecutable(tool)!, join(bin, tool));
      } catch {
        // already linked by an earlier test
      }
    }
    return bin;
  }

  it('auto refuses to run without namespaces: exit 2, one line', () => {
    const r = cli(['exec', '--', 'true'], { ...process.env, PATH: pathWithoutNamespaceTools() });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^syscan-sandbox: namespaces are not available here .*--isolation none/);
  });

  it('none, asked for explicitly, runs and says so', () => {
    const r = cli(['exec', '--json', '--isolation', 'none', '--', 'true'], {
      ...process.env,
      PATH: pathWithoutNamespaceTools(),
    });
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { isolation: unknown }).isolation).toMatchObject({ mode: 'none' });
  });

  it('rejects an unknown mode', () => {
    const r = cli(['exec', '--isolation', 'maybe', '--', 'true']);
    expect(r.status).toBe(2);
  });

  it('--baseline composes with the default policy and is named in the result', () => {
    const baseline = join(dir, 'b.json');
    writeFileSync(baseline, JSON.stringify({ baseline_syscalls: ['read'] }));
    const r = cli(['exec', '--json', '--baseline', baseline, '--', 'true']);
    const doc = JSON.parse(r.stdout) as { policy: string; verdict: string; isolation: { mode: string } };
    expect(doc.policy).toContain('+ baseline');
    expect(doc.verdict).toBe('alert');
  });
});

describe.skipIf(!hasStrace)('syscan-sandbox exec --cpus', () => {
  // The last CPU this process may use: the command must report exactly that one.
  const cpus = [...(allowedCpus() ?? new Set([0]))];
  const cpu = cpus[cpus.length - 1] as number;
  const affinity = ['python3', '-c', 'import os; print(sorted(os.sched_getaffinity(0)))'];

  function expectPinned(mode: 'none' | 'auto'): void {
    const r = cli(['exec', '--json', '--isolation', mode, '--cpus', String(cpu), '--', ...affinity]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      verdict: string;
      events: number;
      stdout: { text: string };
      isolation: { cpus?: number[] };
    };
    expect(doc.stdout.text.trim()).toBe(`[${cpu}]`);
    expect(doc.isolation.cpus).toEqual([cpu]);
    expect(doc.verdict).toBe('clean');
    expect(doc.events).toBeGreaterThan(100);
  }

  it('pins strace and the command, and the run is judged as usual (no isolation)', () =>
    expectPinned('none'));
  it('auto is the last CPU the runner may use', () => {
    const r = cli(['exec', '--json', '--isolation', 'none', '--cpus', 'auto', '--', ...affinity]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { stdout: { text: string } }).stdout.text.trim()).toBe(`[${cpu}]`);
  });
  it.skipIf(!hasNamespaces)('the same inside the namespaces (bwrap or unshare under taskset)', () =>
    expectPinned('auto'),
  );

  it.each([
    ['x', 'expected auto, or CPU numbers and ranges'],
    ['1-0', 'range 1-0 runs backwards'],
    [String(Math.max(...cpus) + 1), 'is not one this process may use'],
  ])('rejects --cpus %s: exit 2, one line', (list, message) => {
    const r = cli(['exec', '--cpus', list, '--', 'true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names util-linux when taskset is missing: exit 2, one line', () => {
    const bin = join(dir, 'no-taskset-bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['strace', 'mkfifo', 'true']) symlinkSync(findExecutable(tool)!, join(bin, tool));
    const r = cli(['exec', '--isolation', 'none', '--cpus', String(cpu), '--', 'true'], {
      ...process.env,
      PATH: bin,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'syscan-sandbox: --cpus needs taskset on PATH (util-linux: apt-get install util-linux)',
    );
  });
});

describe.skipIf(!hasStrace || !hasNamespaces)('syscan-sandbox exec: the run ends with the runner', () => {
  /** A PATH offering every tool, or (unshareOnly) all but bwrap, so that unshare makes the namespaces. */
  function toolsPath(unshareOnly: boolean): string {
    if (!unshareOnly) return process.env.PATH ?? '';
    const bin = join(dir, 'unshare-bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['strace', 'mkfifo', 'sleep', 'unshare', 'sh', 'mount', 'setpriv', 'env']) {
      try {
        symlinkSync(findExecutable(tool)!, join(bin, tool));
      } catch {
        // already linked
      }
    }
    return bin;
  }

  /** The run's PID namespace, found from the CLI process: its child (the tool), then the tool's child (PID 1). */
  async function namespaceOf(cli: number): Promise<string> {
    for (let i = 0; i < 200; i++) {
      try {
        const tool = Number(readFileSync(`/proc/${cli}/task/${cli}/children`, 'utf8').trim().split(' ')[0]);
        const init = Number(readFileSync(`/proc/${tool}/task/${tool}/children`, 'utf8').trim().split(' ')[0]);
        const ns = readlinkSync(`/proc/${init}/ns/pid`);
        // Once PID 1 runs strace (the runner's private copy, deleted once started), not bwrap's
        // or unshare's child still setting up before its parent-death signal is armed: a runner
        // killed that early leaves a strace blocked for ever opening a FIFO nobody reads (the
        // command never starts), which is a leak, not a command running unjudged.
        if (
          ns !== readlinkSync('/proc/self/ns/pid') &&
          /\/strace( \(deleted\))?$/.test(readlinkSync(`/proc/${init}/exe`))
        )
          return ns;
      } catch {
        // not there yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no namespace found');
  }

  /**
   * Finding the namespace and seeing it empty may each poll for 5 s: on a loaded machine the
   * two together outlast vitest's 5 s default (seen at 6.2 s), which is not what is tested.
   */
  const NAMESPACE_TEST_TIMEOUT = 15_000;

  async function gone(ns: string): Promise<number[]> {
    for (let i = 0; i < 200 && pidsInNamespace(ns).length > 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    return pidsInNamespace(ns);
  }

  it.each([
    ['bwrap or unshare', false],
    ['unshare', true],
  ])(
    '%s: Ctrl-C ends the run, reports it, and leaves nothing',
    async (_name, unshareOnly) => {
      const child = spawn(process.execPath, [binPath, 'exec', '--json', '--', 'sleep', '100'], {
        env: { ...process.env, PATH: toolsPath(unshareOnly) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      const ns = await namespaceOf(child.pid!);
      child.kill('SIGINT');
      const status = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const doc = JSON.parse(out) as { killed: { reason: string; message: string } };
      expect(doc.killed).toMatchObject({ reason: 'aborted', message: 'stopped: interrupted by SIGINT' });
      expect(status).toBe(137);
      expect(await gone(ns)).toEqual([]);
    },
    NAMESPACE_TEST_TIMEOUT,
  );

  it.each([
    ['bwrap or unshare', false],
    ['unshare', true],
  ])(
    '%s: a runner killed with SIGKILL takes the run with it',
    async (_name, unshareOnly) => {
      // A runner killed outright cannot remove its private directory (the strace copy, the
      // FIFO): it goes under the test's own, removed with it, instead of piling up in /tmp.
      const child = spawn(process.execPath, [binPath, 'exec', '--', 'sleep', '100'], {
        env: { ...process.env, PATH: toolsPath(unshareOnly), TMPDIR: dir },
        stdio: 'ignore',
      });
      const ns = await namespaceOf(child.pid!);
      child.kill('SIGKILL');
      expect(await gone(ns)).toEqual([]);
    },
    NAMESPACE_TEST_TIMEOUT,
  );
});
