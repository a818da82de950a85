import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionAlert } from '@syscan/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `crowd N`: N children that all wait on one pipe at once, then read, getppid and exit when the
 * parent closes it. Past the 4096 processes the sequence scorer holds, it must push out a
 * process still running (the parent, between two forks), whose next call starts over: the
 * order across the cut is lost, which a hostile program can bring about on purpose.
 */
const CROWD = `
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int children = atoi(argv[1]);
  int p[2];
  char c;
  if (pipe(p) != 0) return 2;
  for (int k = 0; k < children; k++) {
    pid_t child = fork();
    if (child < 0) return 3;
    if (child == 0) {
      close(p[1]);
      read(p[0], &c, 1);
      getppid();
      _exit(0);
    }
  }
  close(p[1]);
  while (wait(NULL) > 0) {}
  return 0;
}
`;

describe.skipIf(!hasStrace || !hasCc)('more processes at once than the sequence model scores', () => {
  if (!hasStrace || !hasCc)
    it.skip('strace or a C compiler missing (apt-get install strace gcc); split tests skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  let crowd = '';
  let small = '';
  let crowdTooFew: string | undefined;

  beforeAll(async () => {
    writeFileSync(join(dir, 'crowd.c'), CROWD);
    const cc = spawnSync('cc', ['-O1', '-o', join(dir, 'crowd'), join(dir, 'crowd.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
    const program = join(dir, 'crowd');
    const normal = [1, 2, 3, 4, 5, 6].map((i) => straceInto(dir, `normal-${i}.strace`, [program, '12']));
    small = straceInto(dir, 'small.strace', [program, '12']);
    crowd = straceInto(dir, 'crowd.strace', [program, '4200']);
    // A machine that caps processes (a container's pids.max) fails some forks: say so, not fail.
    const exits = readFileSync(crowd, 'utf8').match(/^\d+\s+\+\+\+ exited with 0 \+\+\+$/gm)?.length ?? 0;
    if (exits < 4201) crowdTooFew = `only ${exits - 1} of 4200 children ran here (a process limit?)`;
    const r = await runCli(['learn', ...normal, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('says which process it cut in two (trace_lost), at the call it came back with', async (ctx) => {
    if (crowdTooFew !== undefined) ctx.skip(crowdTooFew);
    const r = await runCli(['analyze', '-b', baseline, '--format', 'json', crowd]);
    expect(r.code, r.stderr).toBe(1);
    const alerts = (JSON.parse(r.stdout) as { alerts: SessionAlert[] }).alerts;
    const lost = alerts.filter((a) => a.type === 'trace_lost');
    expect(lost).toHaveLength(1);
    const [alert] = lost;
    expect(alert).toMatchObject({
      severity: 'critical',
      details: { check: 'sequence', reason: 'sequence_table_full', calls: expect.any(Number) },
      // (strace cuts the path at 32 characters)
      process: { argv: [expect.stringContaining('syscan-cli-split-'), '4200'] },
    });
    expect(alert?.message).toMatch(
      /^sequence context lost: \S*crowd pid \d+ was pushed out of the 4096 processes the sequence model scores at once while still running, and made a call again: its first \d+ calls and the rest are scored as two processes \(raise sequenceMaxProcesses in the config to hold more\)$/,
    );
    // The line is the call the process came back with, by that pid.
    const line = readFileSync(crowd, 'utf8').split('\n')[(alert?.line ?? 0) - 1];
    expect(line).toMatch(new RegExp(`^${alert?.pid}\\s+${alert?.syscall}\\(`));
  });

  it('score: lists each part of a process it cut in two, and says how many it cut', async (ctx) => {
    if (crowdTooFew !== undefined) ctx.skip(crowdTooFew);
    const r = await runCli(['score', '-b', baseline, crowd]);
    const [line] = ndjson(r.stdout);
    expect(line?.splitProcesses).toBeGreaterThanOrEqual(1);
    const processes = line?.processes as Array<{ pid: number }>;
    // 4200 children and the parent, one entry more for each process cut in two.
    expect(processes.length).toBe(4201 + (line?.splitProcesses as number));
  });

  it('score: lists every process of a file of more processes than it holds, none dropped', async () => {
    // An audit log has no exits: every process stays open until pushed out (14 000 here,
    // past the 4096 open and the 8192 results the scorer keeps waiting).
    const many = join(dir, 'many-pids.strace');
    writeFileSync(many, Array.from({ length: 14_000 }, (_, i) => `${100_000 + i} getppid() = 1\n`).join(''));
    const r = await runCli(['score', '-b', baseline, many]);
    const [line] = ndjson(r.stdout);
    expect(line?.processes).toHaveLength(14_000);
    expect(line?.splitProcesses).toBeUndefined();
  });

  it('holds them all with a larger sequenceMaxProcesses in the config', async (ctx) => {
    if (crowdTooFew !== undefined) ctx.skip(crowdTooFew);
    const config = join(dir, 'more-processes.json');
    writeFileSync(config, JSON.stringify({ sequenceMaxProcesses: 8192 }));
    const r = await runCli(['analyze', '-c', config, '-b', baseline, '--format', 'json', crowd]);
    const alerts = (JSON.parse(r.stdout) as { alerts: SessionAlert[] }).alerts;
    expect(alerts.filter((a) => a.type === 'trace_lost')).toEqual([]);
    writeFileSync(config, JSON.stringify({ sequenceMaxProcesses: 8 }));
    const bad = await runCli(['analyze', '-c', config, '-b', baseline, crowd]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sequenceMaxProcesses must be an integer from 16 to 1048576, got 8/);
  });

  it('says nothing of the kind when every process fits', async () => {
    const r = await runCli(['analyze', '-b', baseline, '--format', 'json', small]);
    const alerts = (JSON.parse(r.stdout) as { alerts: SessionAlert[] }).alerts;
    expect(alerts.filter((a) => a.type === 'trace_lost')).toEqual([]);
  });
});

describe('learn from more processes at once than the sequence learner follows', () => {
  it('warns that it learned a process in two parts', async () => {
    // 65 537 processes without exits (an audit log has none), then the first calls again: it was
    // ended to make room while it still ran.
    const many = join(dir, 'crowded-learn.strace');
    const lines = Array.from({ length: 65_537 }, (_, i) => `${100_000 + i} getppid() = 1\n`);
    lines.push('100000 getpid() = 100000\n');
    writeFileSync(many, lines.join(''));
    const r = await runCli(['learn', many, '-o', join(dir, 'crowded.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^syscan: warning: the sequence model learned 1 process\(es\) in two parts: more ran at once than it follows \(65 536\)/m,
    );
  });
});
