import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-dirs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run of a looping daemon as plain call numbers (ADFA-LD's form): start, `rounds` requests, exit. */
const run = (rounds: number, request = '3 4 5 6 4'): string =>
  `11 45 192 ${Array.from({ length: rounds }, () => request).join(' ')} 1`;

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe('a directory as input: every file beneath it, in path order', () => {
  // A data set laid out as ADFA-LD's is: folders of one-process files, attacks one folder deeper.
  const training = join(dir, 'Training');
  for (let i = 0; i < 60; i++)
    write(join(training, `UTD-${String(i).padStart(4, '0')}.txt`), run(5 + (i % 7)));
  const attacks = join(dir, 'Attack');
  const shell = write(join(attacks, 'Shell_1', 'UAD-1.txt'), run(30, '3 4 102 11 4'));
  const normal = write(join(attacks, 'Normal_1', 'UAD-2.txt'), run(8));
  // A link back up the tree is followed once, not for ever.
  symlinkSync(attacks, join(attacks, 'Normal_1', 'loop'));
  const baseline = join(dir, 'baseline.json');

  it('learns from a folder of hundreds of files named once, as from the files themselves', async () => {
    const r = await runCli(['learn', '--no-progress', '--numbers', 'calls', training, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/60 (files|traces|inputs)|sequence model: 1 program, 1 calibrated/);
  });

  it('scores each file beneath a folder once, in path order, named by its path', async () => {
    const r = await runCli(['score', '-b', baseline, '--numbers', 'calls', attacks]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; score: number });
    expect(lines.map((l) => l.file)).toEqual([normal, shell]);
    const [quiet, loud] = lines;
    expect(loud!.score).toBeGreaterThan(quiet!.score);
    expect(r.code).toBe(1);
  });
});
