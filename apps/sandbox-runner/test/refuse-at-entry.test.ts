import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVERYDAY_POLICY } from '@syscan/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import buildCliIfStale from '../../../packages/cli/test/helpers/global-setup.js';
import { loadPolicy } from '../src/policy.js';
import { runSandboxed } from '../src/run.js';
import { appDir, hasGcc, hasPython, hasStrace, python } from './helpers.js';

// What `syscan learn` would write after runs of ordinary programs: the calls they made, nothing else.
const normal = [...(EVERYDAY_POLICY.baselineSyscalls ?? [])];
const dir = mkdtempSync(join(tmpdir(), 'sandbox-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Issue 9: the runner read the policy's raw keys (`dangerousSyscalls ?? []`), so a learned
// baseline used as the policy (it has no dangerousSyscalls key) refused nothing at entry,
// and snake_case spellings were missed altogether.
describe.skipIf(!hasStrace || !hasPython)(
  'a learned baseline as the policy refuses dangerous calls at entry',
  () => {
    const personality = [python, '-c', 'import ctypes; ctypes.CDLL(None).personality(0xffffffff)'];
    it.each([
      ['camelCase', { baselineSyscalls: normal, maxTotalEventsPerMinute: 0, learned: { events: 1 } }],
      ['snake_case', { baseline_syscalls: normal, max_total_events_per_minute: 0 }],
    ])('%s', async (name, json) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(json));
      const r = await runSandboxed({
        argv: personality,
        policy: loadPolicy(file).config,
        enforce: true,
        failOn: 'critical',
        timeoutMs: 20_000,
      });
      const alert = r.alerts.find((a) => a.syscall === 'personality');
      expect(alert?.severity).toBe('critical');
      // Refused by strace at entry: the call never completed (before the fix: `= 0 (PER_LINUX)`).
      expect(alert?.sample).toMatch(/<unfinished|\(INJECTED\)/);
      expect(alert?.sample).not.toContain('PER_LINUX');
      expect(r.killed?.reason).toBe('policy');
      expect(r.signal).toBe('SIGKILL');
    });
  },
);

// Killing on an unknown syscall once its trace line is read lets the call run first: a
// service's first `socket` returned, its `sendto` sent what it had read, and only then did the
// kill land (a datagram out on most runs here). Where the policy kills for every call outside
// the baseline, strace now refuses all of them at entry.
describe.skipIf(!hasStrace || !hasGcc)(
  'a baseline whose every unknown call kills refuses them at entry',
  () => {
    const program = join(dir, 'exfil-after-read');
    let learned: string[];
    let policy: ReturnType<typeof loadPolicy>['config'];
    beforeAll(async () => {
      const built = spawnSync(
        'gcc',
        ['-O1', '-o', program, join(appDir, 'test', 'attacks', 'exfil-after-read.c')],
        {
          encoding: 'utf8',
        },
      );
      if (built.status !== 0) throw new Error(`gcc: ${built.stderr}`);
      // Learned as `syscan learn` would: the calls a normal run made, under the runner itself.
      const normalRun = await runSandboxed({
        argv: [program, '20'],
        policy: loadPolicy().config,
        timeoutMs: 20_000,
      });
      learned = Object.keys(normalRun.summary.syscalls).sort();
      const file = join(dir, 'exfil-after-read.baseline.json');
      writeFileSync(file, JSON.stringify({ baselineSyscalls: learned, maxTotalEventsPerMinute: 0 }));
      // The runner's default policy with the baseline on top, as `--baseline FILE` gives it.
      policy = loadPolicy(undefined, file).config;
    });

    async function listen(): Promise<{ port: number; received: () => number; close: () => void }> {
      const socket = createSocket('udp4');
      let received = 0;
      socket.on('message', () => received++);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return { port: socket.address().port, received: () => received, close: () => socket.close() };
    }

    /** The program under the learned baseline, every unknown call killing (`--fail-on medium`). */
    const run = (args: string[], mode: { enforce: true } | { dryRun: true }) =>
      runSandboxed({ argv: [program, ...args], policy, ...mode, failOn: 'medium', timeoutMs: 20_000 });

    it('the exfiltrating run is killed at its first socket, before anything is sent', async () => {
      const sink = await listen();
      try {
        const r = await run(['20', String(sink.port)], { enforce: true });
        expect(r.killed?.reason).toBe('policy');
        expect(r.signal).toBe('SIGKILL');
        // Put down to the refused call, not to the sequence alert its process's end then raised.
        expect(r.killed?.alert?.syscall).toBe('socket');
        const socketAlert = r.alerts.find((a) => a.syscall === 'socket');
        expect(socketAlert?.type).toBe('unknown_syscall');
        // Refused at entry: `socket(…) = ?` then killed, never `= 3`.
        expect(socketAlert?.sample).toMatch(/= \?|<unfinished|\(INJECTED\)/);
        expect(r.summary.syscalls.sendto ?? 0).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(sink.received()).toBe(0);
      } finally {
        sink.close();
      }
    });

    it('a kill by a refused call is put down to that call, not to the sequence alert the end of its process raised', async () => {
      // A baseline with a sequence model, learned with the built `syscan learn` from strace
      // runs: the killed process, judged at its end, raises sequence_anomaly in the same batch
      // as the refused socket, and a check's alert comes first in a batch.
      buildCliIfStale();
      const traces = [1, 2, 3, 4, 5].map((i) => {
        const out = join(dir, `exfil-normal-${i}.strace`);
        const traced = spawnSync('strace', ['-f', '-o', out, program, String(4 + i)], { encoding: 'utf8' });
        if (traced.status !== 0) throw new Error(`strace: ${traced.stderr}`);
        return out;
      });
      const withModel = join(dir, 'exfil-after-read.sequence.json');
      const cli = join(appDir, '..', '..', 'packages', 'cli', 'dist', 'bin.mjs');
      const learnt = spawnSync(
        process.execPath,
        [cli, 'learn', '--no-progress', ...traces, '-o', withModel],
        {
          encoding: 'utf8',
        },
      );
      if (learnt.status !== 0) throw new Error(`syscan learn: ${learnt.stderr}`);
      const sink = await listen();
      try {
        const r = await runSandboxed({
          argv: [program, '20', String(sink.port)],
          policy: loadPolicy(undefined, withModel).config,
          enforce: true,
          failOn: 'medium',
          timeoutMs: 20_000,
        });
        expect(r.alerts.some((a) => a.type === 'sequence_anomaly')).toBe(true);
        expect(r.killed?.alert).toMatchObject({ type: 'unknown_syscall', syscall: 'socket' });
        expect(r.killed?.message).toMatch(/^medium unknown_syscall: unknown syscall 'socket'/);
        expect(sink.received()).toBe(0);
      } finally {
        sink.close();
      }
    });

    it('a call strace has no name for is not refused by name, but still alerts: never clean', async () => {
      const numbered = join(dir, 'unknown-syscall-number');
      const source = join(appDir, 'test', 'attacks', 'unknown-syscall-number.c');
      const built = spawnSync('gcc', ['-O1', '-o', numbered, source], { encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`gcc: ${built.stderr}`);
      const r = await runSandboxed({
        argv: [numbered],
        policy,
        enforce: true,
        failOn: 'medium',
        timeoutMs: 20_000,
      });
      const unknown = r.alerts.find(
        (a) => a.type === 'unknown_syscall' && a.syscall?.startsWith('syscall_0x'),
      );
      expect(unknown?.severity).toBe('medium');
      expect(r.verdict).not.toBe('clean');
    });

    it('a normal run is not touched, and monitor mode says which calls it would let run', async () => {
      const normal = await run(['5'], { enforce: true });
      expect(normal.killed).toBeNull();
      expect(normal.exitCode).toBe(0);
      const sink = await listen();
      try {
        const dry = await run(['3', String(sink.port)], { dryRun: true });
        expect(dry.killed).toBeNull();
        expect(dry.dryRun?.wouldAllowOnly).toEqual(learned);
        expect(dry.dryRun?.refusableCalls).toMatchObject({ socket: 3, sendto: 3 });
      } finally {
        sink.close();
      }
    });
  },
);
