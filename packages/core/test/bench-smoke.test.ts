/**
 * The benches cannot rot: each of core's bench scripts runs on tiny generated corpora
 * (scripts/bench-smoke.mjs, BENCH_SMOKE=1: one pair, the seed's part skipped) and must exit 0
 * with its table printed. Nothing here looks at a time: only that it ran and reported.
 * The scripts run the built package (dist/), as `pnpm bench` does after its build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, writeSmokeData } from '../../../scripts/bench-smoke.mjs';
import { corpusSkipReason, hasCorpus } from './helpers/corpus.js';
import { rng } from './helpers/rng.js';

const bench = (name: string): string => fileURLToPath(new URL(`../bench/${name}`, import.meta.url));
const data = writeSmokeData();
afterAll(() => rmSync(data, { recursive: true, force: true }));
const env = { BENCH_DATA: data };
const hasStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;

function expectRan(run: ReturnType<typeof runBench>, table: RegExp): void {
  // The output is the message when it fails: what the bench said is what to fix.
  expect(run.status, run.out).toBe(0);
  expect(run.out).toMatch(table);
}

describe('core benches on tiny inputs (BENCH_SMOKE=1)', () => {
  it('run.mjs: detection, context and rules over parsing, one pair each, the seed skipped', () => {
    const run = runBench(bench('run.mjs'), { env });
    expectRan(run, /## 1\. syscan driver vs seed: skipped/);
    expect(run.out).toMatch(/audit\s+parse [\d.]+ s, parse\+detect [\d.]+ s, ratio/);
    expect(run.out).toMatch(/median of pair ratios \(parse\+context\)\/parse: [\d.]+/);
    expect(run.out).toMatch(/rules' cost over parsing, median of \(C - B\) \/ A: -?[\d.]+/);
  });

  it("driver.mjs prints the seed's JSON line, with and without the context tracker", () => {
    for (const extra of [{}, { SYSCAN_CORE: bench('with-context.mjs') }]) {
      for (const corpus of ['strace-f', 'audit']) {
        const run = runBench(bench('driver.mjs'), {
          args: [join(data, `${corpus}.log`)],
          env: { ...env, ...extra },
        });
        expectRan(
          run,
          /\{"lines":\d+,"events":[1-9]\d*,"alerts":\d+,"clean":\d+,"suppressed":\d+,"seconds":[\d.]+\}/,
        );
      }
    }
  });

  it('detect.bench.mjs: parse and detect per config, one round', () => {
    expectRan(
      runBench(bench('detect.bench.mjs'), { args: ['--rounds', '1'], env }),
      /detect learned baseline\s+[\d.]+ ms/,
    );
  });

  it.skipIf(!hasCorpus)('sequence-eval.mjs: the UNM table, two folds', () => {
    const run = runBench(bench('sequence-eval.mjs'), { args: ['--folds', '2', '--no-speed'], env });
    expectRan(run, /all \(pooled\)\s+\d+\s+\d+ \|/);
  });
  if (!hasCorpus) it.skip(`sequence-eval.mjs: ${corpusSkipReason}`, () => {});

  it.skipIf(!hasStrace)('sequence-own-traces.mjs: stide and syscan on 10 traced normal runs', () => {
    const run = runBench(bench('sequence-own-traces.mjs'), { args: ['--runs', '10'], env });
    expectRan(run, /^syscan\s+[\d.]+\s+[\d.]+%/m);
  });

  it('sequence-adfa-ld.mjs: learn and score an ADFA-LD layout through the built CLI, stide side by side', () => {
    // A small data set in ADFA-LD's layout and format (the real one is not redistributed):
    // normal traces loop over one set of calls, attacks of two kinds add others.
    const root = join(data, 'adfa-ld');
    const next = rng(7);
    const trace = (extra: number[]): string => {
      const calls = [11, 45, 33, 5];
      for (let i = 0, n = 20 + Math.floor(next() * 30); i < n; i++) calls.push(3, 4, 5 + (i % 3), 6);
      if (extra.length > 0) calls.splice(Math.floor(calls.length / 2), 0, ...extra);
      return `${calls.join(' ')} \n`;
    };
    const folder = (dir: string, files: number, prefix: string, extra: number[] = []): void => {
      mkdirSync(join(root, dir), { recursive: true });
      for (let i = 1; i <= files; i++) writeFileSync(join(root, dir, `${prefix}-${i}.txt`), trace(extra));
    };
    folder('Training_Data_Master', 40, 'UTD');
    folder('Validation_Data_Master', 40, 'UVD');
    // One held-out trace repeats a training one word for word, as many of ADFA-LD's do.
    copyFileSync(
      join(root, 'Training_Data_Master', 'UTD-1.txt'),
      join(root, 'Validation_Data_Master', 'UVD-41.txt'),
    );
    for (const run of [1, 2]) {
      folder(`Attack_Data_Master/Adduser_${run}`, 4, `UAD-Adduser-${run}`, [102, 102, 2, 90]);
      folder(`Attack_Data_Master/Web_Shell_${run}`, 4, `UAD-WS-${run}`, [41, 42, 43, 11]);
    }
    const run = runBench(bench('sequence-adfa-ld.mjs'), { args: [root], env });
    expectRan(run, /^ADFA-LD in .*: train 40 traces .* attack 16 \/ \d+ in 2 kinds$/m);
    expect(run.out).toMatch(/^Adduser\s+8\s+\d+ \|/m);
    expect(run.out).toMatch(/^Web_Shell\s+8\s+\d+ \|/m);
    expect(run.out).toMatch(/^all attacks\s+16\s+\d+ \|\s+[\d.]+ .* \|\s+[\d.]+ /m);
    // The second table leaves the verbatim repeat out (and any the random traces made).
    expect(run.out).toMatch(/^the same without verbatim repeats \(\d+ held-out traces/m);
  });

  // Real sshd, vsftpd and php-cgi under strace, attacked by hydra: ~55 s at its smallest
  // (--rounds 2 --runs 1), past this smoke's budget. BENCH_SMOKE_SLOW=1 runs it too.
  it.skipIf(process.env.BENCH_SMOKE_SLOW !== '1')(
    'sequence-server-traces.mjs (BENCH_SMOKE_SLOW=1 only: ~1 min of real servers)',
    () => {
      const run = runBench(bench('sequence-server-traces.mjs'), {
        args: ['--rounds', '2', '--train-rounds', '1', '--runs', '1'],
        env,
        timeoutMs: 300_000,
      });
      expectRan(run, /all attacks\s+\d+\s+\d+ \||skipped/);
    },
    300_000,
  );
});
