import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SequenceExplanation } from '@syscan/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  learnBaseline,
  makeServiceRig,
  SERVICE_INPUTS,
  type ServiceRig,
  serviceArgv,
  serviceSkipReason,
  traceNormalRuns,
  withFixedLayout,
} from '../../../packages/cli/test/fixtures/sequence/service-traces.js';
import { binPath, ensureBuilt, hasNamespaces, straceSkipReason } from './helpers.js';

const skip = serviceSkipReason ?? straceSkipReason;
/** Rounds of the exfiltration loop: SERVICE_INPUTS datagrams each, thousands of calls in all. */
const ROUNDS = 99;

interface RunResult {
  status: number;
  verdict: string;
  stdout: { text: string };
  syscalls: Record<string, number>;
  alerts: Array<{
    type: string;
    severity: string;
    score?: number;
    threshold?: number;
    process?: { exe?: string; argv?: string[] };
    details?: SequenceExplanation;
  }>;
  killed: { reason: string; alert?: { type: string; severity: string } } | null;
  /** What the runner itself wrote on stderr (its warnings; the command's output is in the JSON). */
  stderrText: string;
}

/**
 * `syscan-sandbox exec --baseline B` with a sequence model learned by `syscan learn` from 24
 * real `strace -f` runs of a Python service. The service's exfiltrating mode makes only
 * calls its normal runs make; a UDP listener on 127.0.0.1 counts what it sends, which is how
 * the test knows a kill came mid-way. Isolated (namespaces) where they can be made, since
 * that is the runner's default.
 */
describe.skipIf(skip !== undefined)(
  'syscan-sandbox kills on a sequence anomaly when the policy says so',
  () => {
    if (skip) it.skip(`sequence kill tests skipped: ${skip}`, () => {});
    let rig: ServiceRig;
    let baseline = '';
    let killPolicy = '';
    let listener: Socket;
    let port = 0;
    let received = 0;
    const isolation = hasNamespaces ? [] : ['--isolation', 'none'];

    beforeAll(async () => {
      ensureBuilt();
      listener = createSocket('udp4');
      listener.on('message', () => received++);
      await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
      port = (listener.address() as AddressInfo).port;
      rig = makeServiceRig('syscan-sandbox-sequence-');
      // Same port in training as in the runs judged: argv of the same size (see traceNormalRuns).
      baseline = learnBaseline(rig, traceNormalRuns(rig, 24, 'normal', port));
      // The training runs' status datagrams wait in the socket (spawnSync held the loop): read them.
      await barrier();
      // The policy option: a sequence anomaly at the runner's kill level (--fail-on high).
      killPolicy = join(rig.dir, 'kill-on-sequence.json');
      const learned = JSON.parse(readFileSync(baseline, 'utf8'));
      writeFileSync(killPolicy, JSON.stringify({ ...learned, severity: { sequence_anomaly: 'high' } }));
    }, 120_000);
    afterAll(() => {
      listener?.close();
      if (rig) rmSync(rig.dir, { recursive: true, force: true });
    });

    /** The built runner as a child process; `--json` result parsed. */
    function exec(flags: string[], mode: 'normal' | 'exfilt', count: number): Promise<RunResult> {
      received = 0;
      rmSync(join(rig.outputs, 'exfil.done'), { force: true });
      const argv = serviceArgv(rig, mode, count, port);
      return new Promise((resolve, reject) => {
        // Laid out as the training runs were (see FIXED_LAYOUT): the runner's command inherits it.
        const child = spawn(
          ...withFixedLayout([
            process.execPath,
            binPath,
            'exec',
            '--json',
            ...isolation,
            ...flags,
            '--',
            ...argv,
          ]),
          {
            cwd: rig.dir,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (err += d));
        child.on('error', reject);
        child.on('close', () => {
          let result: RunResult;
          try {
            result = JSON.parse(out) as RunResult;
          } catch {
            reject(new Error(`no JSON result from syscan-sandbox: ${err}`));
            return;
          }
          result.stderrText = err;
          // The service's datagrams queue before one sent now: once it is read, all are counted.
          barrier().then(() => resolve(result), reject);
        });
      });
    }

    it('a normal run under the kill policy is clean and completes', async () => {
      const r = await exec(['--enforce', '--baseline', killPolicy], 'normal', 5);
      expect(r.alerts).toEqual([]);
      expect(r.verdict).toBe('clean');
      expect(r.killed).toBeNull();
      expect(r.status).toBe(0);
      expect(r.stdout.text).toBe('handled 5 inputs\n');
    });

    it('warns before the run that 24 runs cannot hold 1 % false alarms, and that such normal runs are killed', async () => {
      const r = await exec(['--enforce', '--baseline', killPolicy], 'normal', 5);
      expect(r.stderrText).toMatch(
        /^syscan-sandbox: warning: the sequence model has programs learned from too few normal runs to hold 1 % false alarms: \S*python3 \(24 runs: about 1 in 25 normal runs will alert\); at --fail-on high each such run is killed; learn more runs of them$/m,
      );
      const noKill = await exec(['--baseline', baseline, '--fail-on', 'critical'], 'normal', 5);
      expect(noKill.stderrText).toMatch(/normal runs will alert\); learn more runs of them$/m);
    });

    it('kills the exfiltrating run mid-way under the kill policy, naming the sequence alert', async () => {
      const r = await exec(['--enforce', '--baseline', killPolicy], 'exfilt', ROUNDS);
      expect(r.killed).toMatchObject({
        reason: 'policy',
        alert: { type: 'sequence_anomaly', severity: 'high' },
      });
      expect(r.status).toBe(137);
      expectKilledInLoop(r);
      expect(r.stdout.text).not.toContain('EXFILTRATION COMPLETE');
      expect(existsSync(join(rig.outputs, 'exfil.done'))).toBe(false);
      const alert = r.alerts.find((a) => a.type === 'sequence_anomaly');
      expect(alert?.score).toBeGreaterThan(alert?.threshold ?? Number.POSITIVE_INFINITY);
      // The command is named, isolated too (strace cannot decode its first execve there).
      expect(alert?.process?.exe).toBe(argv0());
      expect(alert?.process?.argv).toContain('exfilt');
    });

    it('--fail-on medium kills on it too, without a policy file', async () => {
      const r = await exec(['--enforce', '--fail-on', 'medium', '--baseline', baseline], 'exfilt', ROUNDS);
      expect(r.killed).toMatchObject({
        reason: 'policy',
        alert: { type: 'sequence_anomaly', severity: 'medium' },
      });
      expectKilledInLoop(r);
      expect(existsSync(join(rig.outputs, 'exfil.done'))).toBe(false);
    });

    it('without the policy the alert is reported and the run completes', async () => {
      const r = await exec(['--enforce', '--baseline', baseline], 'exfilt', ROUNDS);
      expect(r.killed).toBeNull();
      expect(r.status).toBe(0);
      expect(r.verdict).toBe('alert');
      expect(r.alerts.map((a) => [a.type, a.severity])).toEqual([['sequence_anomaly', 'medium']]);
      expect(r.stdout.text).toContain('EXFILTRATION COMPLETE');
      expect(r.syscalls.sendto).toBe(ROUNDS * SERVICE_INPUTS);
      expect(existsSync(join(rig.outputs, 'exfil.done'))).toBe(true);
    });

    /**
     * Killed inside the exfiltration loop: after its socket was made (the loop's first call; a
     * normal run makes it only at its very end), with the socket in the alert's window, before
     * the loop's last send. What was received is what the trace counted, give or take the one
     * send in flight when the kill landed: the kernel had delivered it, and strace (PID 1 of
     * the namespace, killed with it) had not yet written its line.
     */
    function expectKilledInLoop(r: RunResult): void {
      const sends = r.syscalls.sendto ?? 0;
      const alert = r.alerts.find((a) => a.type === 'sequence_anomaly');
      const window = alert?.details?.window.calls.map((c) => c.syscall) ?? [];
      expect(r.syscalls.socket).toBe(1);
      expect(window).toContain('socket');
      expect(sends).toBeLessThan(ROUNDS * SERVICE_INPUTS);
      expect(received).toBeLessThanOrEqual(sends + 1);
    }

    function barrier(): Promise<void> {
      return new Promise((resolve, reject) => {
        const client = createSocket('udp4');
        const done = (msg: Buffer): void => {
          if (msg.toString() !== 'barrier') return;
          received--;
          listener.off('message', done);
          client.close();
          resolve();
        };
        listener.on('message', done);
        client.send('barrier', port, '127.0.0.1', (e) => e && reject(e));
      });
    }

    function argv0(): string {
      return serviceArgv(rig, 'normal', 1)[0] as string;
    }
  },
);
