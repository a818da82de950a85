import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionAlert } from '@syscan/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `stage MODE NEXT`: reads a file a few times (`normal`) or works a pipe instead (`odd`: pipe,
 * dup2, write, read), then, when NEXT is given, execs it in the same process with MODE. Two
 * copies of it are two programs; an odd first stage that execs an odd second one is two
 * processes to judge, one pid.
 */
const STAGE = `
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char buf[64];
  int odd = strcmp(argv[1], "odd") == 0;
  for (int i = 0; i < 24; i++) {
    if (odd) {
      int p[2];
      pipe(p);
      dup2(p[1], 9);
      write(9, "x", 1);
      read(p[0], buf, 1);
      close(p[0]);
      close(p[1]);
    } else {
      int fd = open("/etc/hostname", O_RDONLY);
      read(fd, buf, sizeof buf);
      close(fd);
    }
  }
  if (argc > 2) execl(argv[2], argv[2], argv[1], (char *)0);
  return 0;
}
`;

describe.skipIf(!hasStrace || !hasCc)('a process that execs another program', () => {
  if (!hasStrace || !hasCc)
    it.skip('strace or a C compiler missing (apt-get install strace gcc); exec tests skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  let attack = '';

  beforeAll(async () => {
    writeFileSync(join(dir, 'stage.c'), STAGE);
    for (const name of ['first', 'second']) {
      const cc = spawnSync('cc', ['-O1', '-o', join(dir, name), join(dir, 'stage.c')], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
    }
    const run = (file: string, mode: string) =>
      straceInto(dir, file, [join(dir, 'first'), mode, join(dir, 'second')], ['-s', '256']);
    const normal = [1, 2, 3, 4, 5, 6].map((i) => run(`normal-${i}.strace`, 'normal'));
    attack = run('attack.strace', 'odd');
    const r = await runCli(['learn', ...normal, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('raises sequence_anomaly for each program the pid ran, not only the first', async () => {
    const r = await runCli(['analyze', '-b', baseline, '--format', 'json', attack]);
    expect(r.code, r.stderr).toBe(1);
    const alerts = (JSON.parse(r.stdout) as { alerts: SessionAlert[] }).alerts;
    const sequence = alerts.filter((a) => a.type === 'sequence_anomaly');
    expect(sequence.map((a) => a.process?.exe)).toEqual([join(dir, 'first'), join(dir, 'second')]);
    expect(new Set(sequence.map((a) => a.pid)).size).toBe(1);
    expect(sequence[1]?.process?.argv).toEqual([join(dir, 'second'), 'odd']);
  });
});
