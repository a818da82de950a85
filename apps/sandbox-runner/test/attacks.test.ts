/**
 * Issue 10: the traced command attacks its tracer. Each attack is a small C program built
 * here, run under every isolation this machine has; each must end in an alert, and leave
 * no process behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecRequest, ExecResult } from '../src/exec/types.js';
import { loadPolicy } from '../src/policy.js';
import { runSandboxed } from '../src/run.js';
import {
  appDir,
  hasBwrap,
  hasGcc,
  hasNamespaces,
  hasPython,
  hasStrace,
  nothingLeft,
  python,
} from './helpers.js';

const policy = loadPolicy().config;
const sources = join(appDir, 'test', 'attacks');
let dir: string;
const bin = (name: string): string => join(dir, name);

/** Every isolation this machine can give, and none (asked for explicitly). */
type Isolation = [string, Pick<ExecRequest, 'isolation' | 'isolationTool'>];
const isolations: Isolation[] = [
  ...(hasBwrap ? [['bwrap', { isolation: 'namespaces', isolationTool: 'bwrap' }] as Isolation] : []),
  ...(hasNamespaces ? [['unshare', { isolation: 'namespaces', isolationTool: 'unshare' }] as Isolation] : []),
  ['none', { isolation: 'none' }],
];

beforeAll(() => {
  if (!hasGcc || !hasStrace) return;
  dir = mkdtempSync(join(tmpdir(), 'sandbox-attacks-'));
  for (const name of [
    'kill-tracer',
    'untraced-child',
    'flood',
    'ptrace-tracer',
    'pidfd-tracer',
    'io-uring-read',
  ]) {
    const r = spawnSync('gcc', ['-O1', '-o', bin(name), join(sources, `${name}.c`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${name}: ${r.stderr}`);
  }
  const so = spawnSync('gcc', ['-shared', '-fPIC', '-o', bin('preload.so'), join(sources, 'preload.c')], {
    encoding: 'utf8',
  });
  if (so.status !== 0) throw new Error(`gcc preload: ${so.stderr}`);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function alertOf(r: ExecResult, type: string, syscall?: string) {
  return r.alerts.find((a) => a.type === type && (syscall === undefined || a.syscall === syscall));
}

describe.skipIf(!hasGcc || !hasStrace).each(isolations)('attacks, isolation %s', (name, isolation) => {
  const isolated = name !== 'none';

  it('(a) setpgid + kill(getppid(), SIGKILL) does not blind the run', async () => {
    const marker = join(dir, `after-kill-${name}`);
    const r = await runSandboxed({
      argv: [bin('kill-tracer'), marker],
      policy,
      ...isolation,
      timeoutMs: 20_000,
    });
    expect(r.verdict).toBe('alert');
    if (isolated) {
      // strace is the namespace's PID 1: the SIGKILL is never delivered, the call after it is seen.
      expect(alertOf(r, 'unknown_syscall', 'unshare')?.severity).toBe('critical');
      expect(alertOf(r, 'trace_lost')).toBeUndefined();
      expect(r.exitCode).toBe(0);
    } else {
      // Without isolation the tracer dies; that is a critical loss, and the escapee is killed.
      expect(alertOf(r, 'trace_lost')?.severity).toBe('critical');
      expect(r.alerts.some((a) => a.type === 'trace_lost' && a.details?.reason === 'tracer_died')).toBe(true);
    }
    expect(nothingLeft(r)).toEqual([]);
    // Isolated, it ran to its end, traced all along; otherwise it was killed as an escapee.
    expect(existsSync(marker)).toBe(isolated);
  });

  it('(b) a clone(CLONE_UNTRACED) child is an alert and does not outlive the run', async () => {
    const marker = join(dir, `untraced-${name}`);
    const r = await runSandboxed({
      argv: [bin('untraced-child'), marker],
      policy,
      ...isolation,
      timeoutMs: 20_000,
    });
    const untraced = alertOf(r, 'untraced_child', 'clone');
    expect(untraced?.severity).toBe('critical');
    expect(untraced?.sample).toContain('CLONE_UNTRACED');
    expect(nothingLeft(r)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('(b) with --enforce the untraced child is a kill', async () => {
    const r = await runSandboxed({
      argv: [bin('untraced-child'), join(dir, `untraced-enforce-${name}`)],
      policy,
      ...isolation,
      enforce: true,
      timeoutMs: 20_000,
    });
    expect(r.killed?.reason).toBe('policy');
    expect(r.killed?.alert?.type).toBe('untraced_child');
    expect(nothingLeft(r)).toEqual([]);
  });

  it('(g) reading a file through an io_uring (no open or read syscall for it) is a trace loss naming the program; --enforce kills it first', async () => {
    const secret = join(dir, `ring-secret-${name}.txt`);
    writeFileSync(secret, 'ring-secret-7f3a\n');
    const r = await runSandboxed({
      argv: [bin('io-uring-read'), secret],
      policy,
      ...isolation,
      timeoutMs: 20_000,
    });
    // The read worked, and the trace shows no open of the file: only the ring's set-up.
    expect(r.stdout.text).toContain('ring-secret-7f3a');
    expect(r.alerts.some((a) => a.paths?.includes(secret))).toBe(false);
    const ring = r.alerts.find((a) => a.details?.reason === 'io_uring');
    expect(ring).toMatchObject({ type: 'trace_lost', severity: 'critical', syscall: 'io_uring_setup' });
    expect(ring?.process?.exe).toBe(bin('io-uring-read'));
    expect(ring?.message).toMatch(/set up an io_uring: the files it opens and reads.* are not syscalls/);
    const enforced = await runSandboxed({
      argv: [bin('io-uring-read'), secret],
      policy,
      ...isolation,
      enforce: true,
      timeoutMs: 20_000,
    });
    expect(enforced.killed?.reason).toBe('policy');
    expect(nothingLeft(enforced)).toEqual([]);
  });

  it('(c) LD_PRELOAD in the env reaches the command only, never strace or the isolation tool', async () => {
    const mark = join(dir, `preload-${name}`);
    const r = await runSandboxed({
      argv: ['true'],
      env: { PATH: process.env.PATH, LD_PRELOAD: bin('preload.so'), SYSCAN_PRELOAD_MARK: mark },
      policy,
      ...isolation,
    });
    // Loaded by exactly one process, the command, and its personality call was traced.
    expect(readFileSync(mark, 'utf8').trim().split('\n')).toEqual(['true']);
    expect(alertOf(r, 'unknown_syscall', 'personality')?.severity).toBe('critical');
    expect(nothingLeft(r)).toEqual([]);
  });

  it('(d) flooding the trace FIFO through /proc/<strace>/fd is an alert', async () => {
    const r = await runSandboxed({ argv: [bin('flood')], policy, ...isolation, timeoutMs: 20_000 });
    expect(r.verdict).toBe('alert');
    if (isolated) {
      // /proc/1 (strace) is covered: the FIFO cannot be reached, and the call is seen.
      expect(r.exitCode).toBe(3);
      expect(alertOf(r, 'unknown_syscall', 'personality')?.severity).toBe('critical');
    } else {
      // Reached: when the call's line lands inside the 3 MiB line (the usual case) the cut
      // line is a critical loss; when it does not, the call is seen. Never silence.
      const lost = alertOf(r, 'trace_lost');
      const seen = alertOf(r, 'unknown_syscall', 'personality');
      expect(lost?.severity ?? seen?.severity).toBe('critical');
      if (seen === undefined) expect(r.trace.linesLost).toBeGreaterThanOrEqual(1);
    }
    expect(nothingLeft(r)).toEqual([]);
  });

  it('(e) ptrace-attaching strace is refused (isolated) or a trace loss that ends the run at once', async () => {
    // No --enforce and a long timeout: a stopped strace would hang the run until then.
    const r = await runSandboxed({ argv: [bin('ptrace-tracer')], policy, ...isolation, timeoutMs: 30_000 });
    expect(alertOf(r, 'unknown_syscall', 'ptrace')?.severity ?? alertOf(r, 'trace_lost')?.severity).toBe(
      'critical',
    );
    if (isolated) {
      // strace runs from an execute-only copy: not dumpable, so the capability-less command may not attach.
      expect(r.isolation.tracerUnreachable).toBe(true);
      expect(r.stdout.text).toContain('seize -1 Operation not permitted');
      expect(r.killed).toBeNull();
    } else if (r.stdout.text.includes('seize 0')) {
      // Attached (root keeps CAP_SYS_PTRACE without isolation): caught within 100 ms.
      expect(r.killed?.reason).toBe('trace_lost');
      expect(r.alerts.some((a) => a.details?.reason === 'tracer_attached')).toBe(true);
    }
    expect(nothingLeft(r)).toEqual([]);
  });

  it('(f) taking the trace FIFO with pidfd_getfd is refused when isolated', async () => {
    const r = await runSandboxed({ argv: [bin('pidfd-tracer')], policy, ...isolation, timeoutMs: 20_000 });
    expect(alertOf(r, 'unknown_syscall', 'pidfd_getfd')).toBeDefined();
    if (isolated) expect(r.exitCode).toBe(0);
    expect(nothingLeft(r)).toEqual([]);
  });

  it.skipIf(!hasPython)('(a) every other signal at strace does not stop or blind it', async () => {
    const r = await runSandboxed({
      argv: [python, join(sources, 'signal-tracer.py')],
      policy,
      ...isolation,
      timeoutMs: 20_000,
    });
    if (isolated) {
      expect(r.stdout.text).toBe('tracer still there\n');
      expect(alertOf(r, 'unknown_syscall', 'personality')?.severity).toBe('critical');
      expect(alertOf(r, 'trace_lost')).toBeUndefined();
    } else {
      // Without isolation SIGSTOP (or a fatal signal) does reach strace: a critical loss, and the run ends.
      expect(alertOf(r, 'trace_lost')?.severity).toBe('critical');
    }
    expect(nothingLeft(r)).toEqual([]);
  });
});
