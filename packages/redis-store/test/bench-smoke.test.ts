/**
 * The Redis store bench cannot rot: with BENCH_SMOKE=1 it starts its own redis-server and the
 * three guarded sides and probes each (the autocannon runs are skipped: seconds each); it must
 * exit 0 with its table printed. No time is looked at. Needs redis-server, as the store tests do.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../../scripts/bench-smoke.mjs';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis)
  console.warn('[syscan] redis-server not found (apt-get install -y redis-server): bench smoke skipped');

describe('Redis store bench (BENCH_SMOKE=1)', () => {
  it.skipIf(!hasRedis)('run.mjs: every side answers clean; autocannon skipped with a reason', () => {
    const run = runBench(fileURLToPath(new URL('../bench/run.mjs', import.meta.url)));
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/autocannon runs skipped \(BENCH_SMOKE=1\)/);
    for (const side of ['default', 'memory', 'redis'])
      expect(run.out).toMatch(new RegExp(`│ '${side}'\\s*│ 200\\s*│ 'clean'`));
  });
});
