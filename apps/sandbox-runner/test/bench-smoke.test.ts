/**
 * The runner's bench cannot rot: one round of every variant on a 2 000-call command (the
 * bench's own knobs: `run.mjs 1`, BENCH_ITERATIONS) must exit 0 with its table printed. No
 * time is looked at. Runs the built runner (dist/bin.mjs) under the real strace.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../../scripts/bench-smoke.mjs';

const hasStrace = spawnSync('sh', ['-c', 'command -v strace && command -v python3']).status === 0;

describe('runner bench (BENCH_SMOKE=1)', () => {
  it.skipIf(!hasStrace)('run.mjs: one round of every variant, the ratio table', () => {
    const run = runBench(fileURLToPath(new URL('../bench/run.mjs', import.meta.url)), {
      args: ['1'],
      env: { BENCH_ITERATIONS: '2000' },
    });
    expect(run.status, run.out).toBe(0);
    for (const variant of ['bare', 'flags', 'written', 'runner', 'bare-true', 'runner-true'])
      expect(run.out).toMatch(new RegExp(`^${variant}\\s+[\\d.]+ \\[`, 'm'));
    expect(run.out).toMatch(/^runner\/bare\s+[\d.]+ \[/m);
    expect(run.out).toMatch(/^fixed cost of a run \(runner-true − bare-true\): wall [\d.-]+ \[/m);
  });
});
