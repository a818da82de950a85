/**
 * The CLI bench cannot rot: it runs on tiny generated corpora (scripts/bench-smoke.mjs) with
 * BENCH_SMOKE=1 (one pair, the seed's side skipped: a Rust build CI does not make) and must
 * exit 0 with its table printed. No time is looked at. Runs the built CLI (dist/bin.mjs).
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, writeSmokeData } from '../../../scripts/bench-smoke.mjs';

const data = writeSmokeData();
afterAll(() => rmSync(data, { recursive: true, force: true }));

describe('cli bench on tiny inputs (BENCH_SMOKE=1)', () => {
  it('run.mjs: syscan analyze on every corpus, the seed side skipped with a reason', () => {
    const run = runBench(fileURLToPath(new URL('../bench/run.mjs', import.meta.url)), {
      env: { BENCH_DATA: data },
    });
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/seed side skipped \(BENCH_SMOKE=1/);
    for (const corpus of ['strace-f', 'strace-plain', 'audit'])
      expect(run.out).toMatch(new RegExp(`│ '${corpus}'\\s*│[^\\n]*│ '\\d+'\\s*│[^\\n]*│$`, 'm'));
    expect(run.out).toContain('syscan peak RSS MiB');
  });

  it('memory.mjs: peak RSS of analyze with a learned baseline on each corpus repeated', () => {
    const run = runBench(fileURLToPath(new URL('../bench/memory.mjs', import.meta.url)), {
      env: { BENCH_DATA: data },
    });
    expect(run.status, run.out).toBe(0);
    for (const corpus of ['strace-f', 'strace-plain', 'audit'])
      expect(run.out).toMatch(
        new RegExp(`│ '${corpus}'\\s*│[^\\n]*│ '\\d+ \\(\\d+–\\d+\\)'\\s*│ '(yes|no)'`, 'm'),
      );
  });
});
