/**
 * The guard's benches cannot rot: with BENCH_SMOKE=1 run.mjs starts its server and probes
 * both sides (the autocannon runs are skipped: they take seconds each), and server-time.mjs
 * runs 60 requests per side, breakdown.mjs 30; each must exit 0 with its table printed. No
 * time is looked at.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../../scripts/bench-smoke.mjs';

const bench = (name: string): string => fileURLToPath(new URL(`../bench/${name}`, import.meta.url));

describe('guard benches (BENCH_SMOKE=1)', () => {
  it('run.mjs: both sides answer, the guarded one clean; autocannon skipped with a reason', () => {
    const run = runBench(bench('run.mjs'));
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/autocannon runs skipped \(BENCH_SMOKE=1\)/);
    expect(run.out).toMatch(/│ 'plain'\s*│ 200\s*│/);
    expect(run.out).toMatch(/│ 'guarded'\s*│ 200\s*│ 'clean'/);
  });

  it('server-time.mjs: the per-side table on 60 requests each', () => {
    const run = runBench(bench('server-time.mjs'), { args: ['60'] });
    expect(run.status, run.out).toBe(0);
    for (const side of ['plain', 'guarded', 'bare', 'norules'])
      expect(run.out).toMatch(new RegExp(`^${side}\\s+p50 \\d+ µs`, 'm'));
    expect(run.out).toMatch(/added by the guard: p50 -?\d+ µs/);
  });

  it('breakdown.mjs: where a guarded request goes, in the server and stage by stage', () => {
    const run = runBench(bench('breakdown.mjs'));
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/session analyzeRun\(\)'\s*│\s*-?\d+/);
    expect(run.out).toMatch(/'parser alone'\s*│\s*[\d.]+/);
    expect(run.out).toMatch(/it would serve [\d.]+ of the plain rate/);
  });
});
