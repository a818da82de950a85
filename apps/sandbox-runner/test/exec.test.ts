import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../src/policy.js';
import { runSandboxed } from '../src/run.js';
import { setupKind } from '../src/strace.js';
import {
  alive,
  hasPython,
  hasSetpriv,
  hasStrace,
  nothingLeft,
  pidsInGroup,
  python,
  sandboxTempDirs,
} from './helpers.js';

const policy = loadPolicy().config;
let scratch: string;
let tempBefore: string[];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
  tempBefore = sandboxTempDirs();
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!hasStrace)('exec under the default policy (real strace)', () => {
  it.each([
    ['ls', ['ls', '-la', '/usr']],
    ['cat', ['cat', '/etc/hostname', '/etc/passwd']],
    ['sh', ['sh', '-c', 'echo hi | tr a-z A-Z; x=$(date); test -f /etc/passwd && echo "$x" >/dev/null']],
  ])('%s runs clean', async (_name, argv) => {
    const r = await runSandboxed({ argv, policy });
    expect(r.alerts).toEqual([]);
    expect(r.verdict).toBe('clean');
    expect(r.status).toBe(0);
    expect(r.killed).toBeNull();
    expect(r.events).toBeGreaterThan(10);
    expect(r.syscalls.execve).toBeGreaterThanOrEqual(1);
  });

  it('keeps the command output apart from the trace, capped with a flag', async () => {
    const r = await runSandboxed({ argv: ['sh', '-c', 'echo out; echo err >&2'], policy });
    expect(r.stdout).toEqual({ text: 'out\n', bytes: 4, truncated: false });
    expect(r.stderr.text).toBe('err\n');
    const big = await runSandboxed({
      argv: ['head', '-c', '5000', '/dev/zero'],
      policy,
      maxOutputBytes: 1000,
    });
    expect(big.stdout).toMatchObject({ bytes: 5000, truncated: true });
    expect(big.stdout.text.length).toBe(1000);
  });

  it.skipIf(!hasPython)(
    'a command that sendfiles into its stderr is not taken for output in the trace: strace writes the FIFO alone',
    async () => {
      const r = await runSandboxed({
        argv: [
          python,
          '-c',
          'import os, tempfile; p = tempfile.mktemp(); open(p, "w").write("note\\n"); os.sendfile(2, os.open(p, os.O_RDONLY), 0, 5)',
        ],
        policy,
      });
      expect(r.stderr.text).toBe('note\n');
      expect(r.syscalls.sendfile).toBe(1);
      expect(r.alerts.map((a) => a.details?.reason)).not.toContain('program_output_unseen');
    },
  );

  it('feeds stdin and reports the exit status', async () => {
    const r = await runSandboxed({
      argv: ['sh', '-c', 'read x; echo "got $x"; exit 3'],
      stdin: 'abc\n',
      policy,
    });
    expect(r.stdout.text).toBe('got abc\n');
    expect(r.exitCode).toBe(3);
    expect(r.status).toBe(3);
  });

  it.skipIf(!hasSetpriv)('alerts on a denied syscall (cat /etc/shadow as nobody)', async () => {
    const r = await runSandboxed({
      argv: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'cat', '/etc/shadow'],
      policy,
      // Another uid needs the host's user table: the namespace maps one uid only.
      isolation: 'none',
    });
    expect(r.verdict).toBe('alert');
    const denied = r.alerts.find((a) => a.type === 'denied_syscall');
    expect(denied?.syscall).toBe('openat');
    expect(denied?.sample).toContain('/etc/shadow');
    expect(r.status).toBe(1);
  });

  it.skipIf(!hasPython)('alerts critical on a dangerous syscall (python ptrace)', async () => {
    const r = await runSandboxed({
      argv: [python, '-c', 'import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)'],
      policy,
    });
    const ptrace = r.alerts.find((a) => a.type === 'unknown_syscall' && a.syscall === 'ptrace');
    expect(ptrace?.severity).toBe('critical');
    expect(r.killed).toBeNull();
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasPython)('--enforce kills at the dangerous call: the command never gets further', async () => {
    const marker = join(scratch, 'after-ptrace');
    const r = await runSandboxed({
      argv: [
        python,
        '-c',
        `import ctypes,time; ctypes.CDLL(None).ptrace(0,0,0,0); time.sleep(30); open(${JSON.stringify(marker)}, 'w')`,
      ],
      policy,
      enforce: true,
      // A generous outer bound: if the kill failed the run would end here, and the checks below fail.
      timeoutMs: 20_000,
    });
    expect(r.killed?.reason).toBe('policy');
    expect(r.killed?.alert?.syscall).toBe('ptrace');
    expect(r.signal).toBe('SIGKILL');
    expect(r.status).toBe(137);
    expect(existsSync(marker)).toBe(false);
  });

  it('--enforce kills on a denied call at the threshold; below it the run goes on', async () => {
    const marker = join(scratch, 'after-denied');
    const script = `cat /proc/1/environ /nonexistent-for-sure 2>/dev/null; touch ${marker}`;
    // Denied only for an unprivileged user; root may read /proc/1/environ (skip the check then).
    const r = await runSandboxed({ argv: ['sh', '-c', script], policy, enforce: true, failOn: 'critical' });
    expect(r.killed).toBeNull();
    expect(existsSync(marker)).toBe(true);
  });

  it('--timeout kills the whole tree, grandchildren included, and nothing is left', async () => {
    const marker = join(scratch, 'after-timeout');
    const r = await runSandboxed({
      argv: ['sh', '-c', `sleep 100 & (sleep 100; touch ${marker}) & sleep 100`],
      policy,
      timeoutMs: 300,
    });
    expect(r.killed?.reason).toBe('timeout');
    expect(r.status).toBe(137);
    expect(r.trace.pids).toBeGreaterThanOrEqual(3);
    expect(r.isolation.mode).toBe('namespaces');
    // Every process of the run is gone (no zombie either: /proc/PID would remain).
    expect(nothingLeft(r)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('--timeout without isolation kills every pid the trace saw', async () => {
    const r = await runSandboxed({
      argv: ['sh', '-c', 'sleep 100 & (sleep 100; true) & sleep 100'],
      policy,
      timeoutMs: 300,
      isolation: 'none',
    });
    expect(r.killed?.reason).toBe('timeout');
    for (const pid of r.processes) expect(alive(pid), `pid ${pid} still exists`).toBe(false);
    expect(pidsInGroup(r.pgid!)).toEqual([]);
  });

  it('--timeout also reaches a child that left the process group (setsid)', async () => {
    const marker = join(scratch, 'after-setsid');
    const r = await runSandboxed({
      argv: ['sh', '-c', `setsid sh -c 'sleep 100; touch ${marker}' & sleep 100`],
      policy,
      timeoutMs: 500,
    });
    expect(r.killed?.reason).toBe('timeout');
    expect(r.processes.length).toBeGreaterThanOrEqual(3);
    expect(nothingLeft(r)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('explains setup errors: command not found, not executable', async () => {
    const missing = await runSandboxed({ argv: ['no-such-command-xyz'], policy }).catch((e: unknown) => e);
    expect(setupKind(missing)).toBe('command_not_found');
    expect((missing as Error).message).toBe(
      'command not found: no-such-command-xyz (No such file or directory)',
    );
    const notExec = await runSandboxed({ argv: ['/etc/hostname'], policy }).catch((e: unknown) => e);
    expect(setupKind(notExec)).toBe('exec_failed');
    const noStrace = await runSandboxed({ argv: ['true'], policy, strace: '/nonexistent/strace' }).catch(
      (e: unknown) => e,
    );
    expect(setupKind(noStrace)).toBe('strace_missing');
    expect((noStrace as Error).message).toContain('apt-get install strace');
  });

  it('leaves no temp file behind', () => {
    expect(sandboxTempDirs()).toEqual(tempBefore);
  });
});
