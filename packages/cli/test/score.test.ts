import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A small file-copying worker. `copy N` copies its input N times (the normal job); `exploit N`
 * does the same, then what an exploited worker does: dups a socket onto stdio, connects out
 * and runs a program, all with syscalls it already uses elsewhere or new ones.
 */
const WORKER = `
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
static void copy(const char *from, const char *to) {
  char buf[512];
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) write(out, buf, n);
  close(in);
  close(out);
}
int main(int argc, char **argv) {
  int rounds = atoi(argv[2]);
  for (int i = 0; i < rounds; i++) copy(argv[3], argv[4]);
  if (strcmp(argv[1], "exploit") == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    a.sin_addr.s_addr = htonl(0x7f000001);
    connect(s, (struct sockaddr *)&a, sizeof a);
    dup2(s, 3);
    dup2(s, 4);
    pid_t child = fork();
    if (child == 0) {
      execl("/bin/true", "true", (char *)0);
      _exit(127);
    }
    waitpid(child, 0, 0);
  }
  return 0;
}
`;

function trace(name: string, argv: string[]): string {
  return straceInto(dir, name, argv);
}

describe.skipIf(!hasStrace || !hasCc)('syscan score on real strace traces', () => {
  if (!hasStrace || !hasCc)
    it.skip('strace or a C compiler missing (apt-get install strace gcc); score tests skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  const normal: string[] = [];
  let heldOut: string[] = [];
  let attack = '';

  beforeAll(async () => {
    writeFileSync(join(dir, 'worker.c'), WORKER);
    const cc = spawnSync('cc', ['-O1', '-o', join(dir, 'worker'), join(dir, 'worker.c')], {
      encoding: 'utf8',
    });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
    writeFileSync(join(dir, 'input.txt'), 'x'.repeat(3000));
    const worker = join(dir, 'worker');
    const run = (name: string, mode: string, rounds: number) =>
      trace(name, [worker, mode, String(rounds), join(dir, 'input.txt'), join(dir, 'output.txt')]);
    for (let i = 0; i < 12; i++) normal.push(run(`normal-${i}.strace`, 'copy', 1 + (i % 4)));
    heldOut = [run('held-1.strace', 'copy', 2), run('held-2.strace', 'copy', 3)];
    attack = run('attack.strace', 'exploit', 2);
    const r = await runCli(['learn', ...normal, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/sequence model of 1 program\(s\)/);
  });

  it('learns the sequence model into the baseline file under sequenceModel', () => {
    const doc = JSON.parse(readFileSync(baseline, 'utf8'));
    expect(doc.sequenceModel).toMatchObject({ format: 'syscan-sequence-model', version: 5, order: 6 });
    // Programs are named from the trace (the worker's execve); each run is one process.
    const programs = Object.entries(doc.sequenceModel.programs) as Array<[string, { processes: number }]>;
    expect(programs).toHaveLength(1);
    expect(programs[0]?.[0]).toMatch(/worker$/);
    expect(programs[0]?.[1].processes).toBe(12);
    // The detector still reads the same file as its baseline.
    expect(doc.baselineSyscalls).toContain('read');
  });

  it('prints one JSON line per file: its score is its most anomalous process, the attack scores highest', async () => {
    const r = await runCli(['score', '--baseline', baseline, ...heldOut, attack]);
    expect(r.code, r.stderr).toBe(1); // the attack is over its threshold
    const lines = ndjson(r.stdout);
    expect(lines.map((l) => l.file)).toEqual([...heldOut, attack]);
    for (const line of lines) {
      const processes = line.processes as Array<Record<string, unknown>>;
      expect(processes.length).toBeGreaterThan(0);
      for (const p of processes)
        expect(Object.keys(p)).toEqual(expect.arrayContaining(['pid', 'program', 'score', 'calls']));
      expect(line.score).toBe(Math.max(...processes.map((p) => p.score as number)));
    }
    const [held1, held2, bad] = lines as Array<{ score: number; overThreshold: boolean }>;
    expect(bad?.overThreshold).toBe(true);
    expect(bad?.score).toBeGreaterThan(Math.max(held1?.score ?? 0, held2?.score ?? 0));
  });

  it('explains the attack in terms of the trace: its window lines hold the calls named', async () => {
    const r = await runCli(['score', '-b', baseline, '--explain', attack]);
    const [line] = ndjson(r.stdout);
    type Explained = {
      window: { calls: Array<{ syscall: string; line?: number }> };
      novel: { calls: Array<{ syscall: string; line?: number }> };
    };
    const over = (
      (line?.processes ?? []) as Array<{
        program: string;
        score: number;
        overThreshold: boolean;
        explanation?: Explained;
      }>
    ).filter((p) => p.overThreshold);
    expect(over.length).toBeGreaterThan(0);
    const traceLines = readFileSync(attack, 'utf8').split('\n');
    const named = (call: { syscall: string; line?: number }) =>
      expect(traceLines[(call.line as number) - 1]).toMatch(new RegExp(`\\b${call.syscall}\\(`));
    // The child runs a program no normal run ran: anomalous as a whole, nothing to window.
    const unknown = over.filter((p) => p.program === '/usr/bin/true' || p.program === '/bin/true');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]?.score).toBe(1e9);
    for (const p of over) {
      if (unknown.includes(p)) continue;
      expect(p.explanation?.window.calls.length).toBeGreaterThan(0);
      for (const call of p.explanation?.window.calls ?? []) named(call);
      for (const call of p.explanation?.novel.calls ?? []) named(call);
    }
    // The exploited worker itself: the calls no normal run made, with their lines.
    const novel = over.flatMap((p) => p.explanation?.novel.calls.map((c) => c.syscall) ?? []);
    expect(novel).toEqual(expect.arrayContaining(['socket', 'connect', 'dup2']));
  });

  it('refuses a baseline without a sequence model, and says so for a file with nothing to score', async () => {
    const old = join(dir, 'old.json');
    const doc = JSON.parse(readFileSync(baseline, 'utf8'));
    delete doc.sequenceModel;
    writeFileSync(old, JSON.stringify(doc));
    const r = await runCli(['score', '-b', old, attack]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^syscan: baseline '.*old\.json' has no sequenceModel/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const empty = join(dir, 'empty.strace');
    writeFileSync(empty, '');
    const e = await runCli(['score', '-b', baseline, empty]);
    expect(e.code).toBe(2);
    expect(ndjson(e.stdout)[0]).toMatchObject({ file: empty, score: null, processes: [] });
  });
});

describe('syscan learn and score on plain call numbers (--numbers)', () => {
  /** A normal process: open/read…/close loops; the attack adds dup2/execve (i386 numbers). */
  const normalCalls = (n: number) => {
    const calls = [11, 45, 5, 3, 6];
    for (let i = 0; i < n; i++) calls.push(5, 3, 3, 6, 4);
    return [...calls, 1];
  };
  const attackCalls = [...normalCalls(3).slice(0, -1), 63, 63, 11, 102, 1];

  it('reads ADFA-LD style files (numbers, one process per file) and names them from --arch', async () => {
    const files = Array.from({ length: 20 }, (_, i) => {
      const path = join(dir, `adfa-${i}.txt`);
      writeFileSync(path, `${normalCalls(2 + (i % 5)).join(' ')} \n`);
      return path;
    });
    const attack = join(dir, 'adfa-attack.txt');
    writeFileSync(attack, `${attackCalls.join(' ')}\n`);
    const baseline = join(dir, 'adfa.json');
    const learn = await runCli([
      'learn',
      '--numbers',
      'calls',
      '--arch',
      'i386',
      ...files.slice(0, 15),
      '-o',
      baseline,
    ]);
    expect(learn.code, learn.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(baseline, 'utf8'));
    expect(doc.sequenceModel.programs.default.syscalls).toEqual(
      expect.arrayContaining(['execve', 'open', 'read']),
    );
    const r = await runCli([
      'score',
      '-b',
      baseline,
      '--numbers',
      'calls',
      '--arch',
      'i386',
      '--explain',
      ...files.slice(15),
      attack,
    ]);
    const lines = ndjson(r.stdout) as Array<{
      score: number;
      overThreshold: boolean;
      processes: Array<{ explanation?: { novel: { calls: Array<{ syscall: string; line?: number }> } } }>;
    }>;
    expect(lines).toHaveLength(6);
    const bad = lines[5];
    expect(bad?.overThreshold).toBe(true);
    expect(Math.max(...lines.slice(0, 5).map((l) => l.score))).toBeLessThan(bad?.score ?? 0);
    expect(bad?.processes[0]?.explanation?.novel.calls).toEqual(
      expect.arrayContaining([{ syscall: 'dup2', line: 1 }]),
    );
  });

  it('refuses numbers named otherwise than the model learned them, in one line, instead of scoring every call as never seen', async () => {
    const named = join(dir, 'adfa.json'); // learned with --arch i386 by the test above
    const file = join(dir, 'adfa-0.txt');
    const r = await runCli(['score', '-b', named, '--numbers', 'calls', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /is syscall numbers, but the baseline's sequence model names its calls .*pass the --arch/,
    );
    const numbered = join(dir, 'adfa-nr.json');
    expect(
      (await runCli(['learn', '--numbers', 'calls', file, join(dir, 'adfa-1.txt'), '-o', numbered])).code,
    ).toBe(0);
    const back = await runCli(['score', '-b', numbered, '--numbers', 'calls', '--arch', 'i386', file]);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(
      /learned numbers without --arch \(its calls are nr<N>\): score without --arch, or learn again with --arch i386/,
    );
    expect((await runCli(['score', '-b', numbered, '--numbers', 'calls', file])).code).not.toBe(2);
  });

  it('reads files of nothing but numbers as such without --numbers (as an evaluator would call it)', async () => {
    // ADFA-LD files (one long line; longer than the sniffed head) and a UNM file, no flag.
    const files = Array.from({ length: 12 }, (_, i) => {
      const path = join(dir, `plain-${i}.txt`);
      writeFileSync(path, `${normalCalls(200 + i * 50).join(' ')} \n`);
      return path;
    });
    const attack = join(dir, 'plain-attack.txt');
    writeFileSync(attack, `${attackCalls.join(' ')}\n`);
    const flagged = join(dir, 'plain-flagged.json');
    const sniffed = join(dir, 'plain-sniffed.json');
    expect((await runCli(['learn', '--numbers', 'calls', ...files.slice(0, 10), '-o', flagged])).code).toBe(
      0,
    );
    const learn = await runCli(['learn', ...files.slice(0, 10), '-o', sniffed]);
    expect(learn.code, learn.stderr).toBe(0);
    const model = (f: string) => JSON.parse(readFileSync(f, 'utf8')).sequenceModel;
    expect(model(sniffed)).toEqual(model(flagged));
    const scored = await runCli(['score', '-b', sniffed, ...files.slice(10), attack]);
    const lines = ndjson(scored.stdout) as Array<{ score: number; overThreshold: boolean }>;
    expect(lines.map((l) => l.overThreshold)).toEqual([false, false, true]);

    // One number past any syscall table spoils its line, and so the whole one-line file:
    // an error that says so (exit 2), never a clean score of what was left.
    const spoiled = join(dir, 'plain-spoiled.txt');
    writeFileSync(spoiled, `${normalCalls(300).join(' ')} 99999999999 \n`);
    const bad = await runCli(['score', '-b', sniffed, spoiled]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `syscan: '${spoiled}': no syscall events to score (1 unreadable line: a number out of range or not a whole number spoils its line)\n`,
    );

    const unm = join(dir, 'plain-unm.int');
    writeFileSync(
      unm,
      [4, 5, 6].flatMap((n, i) => normalCalls(n).map((nr) => `${100 + i} ${nr}`)).join('\n'),
    );
    const unmBaseline = join(dir, 'plain-unm.json');
    expect((await runCli(['learn', unm, '-o', unmBaseline])).code).toBe(0);
    expect(model(unmBaseline).programs.default.processes).toBe(3);
  });

  it('reads UNM style `PID NUMBER` lines, pids kept apart, and says which lines it could not read', async () => {
    const unm = (pids: number[], calls: number[][]) =>
      calls
        .flatMap((c, i) => c.map((nr) => `${pids[i]} ${nr}`))
        .join('\n')
        .concat('\n');
    const normal = join(dir, 'unm-normal.int');
    writeFileSync(normal, unm([10, 11, 12, 13, 14, 15], [2, 3, 4, 5, 6, 7].map(normalCalls)));
    const baseline = join(dir, 'unm.json');
    expect((await runCli(['learn', '--numbers', 'pid-call', normal, '-o', baseline])).code).toBe(0);
    expect(JSON.parse(readFileSync(baseline, 'utf8')).sequenceModel.programs.default.processes).toBe(6);
    const suspect = join(dir, 'unm-suspect.int');
    writeFileSync(suspect, `${unm([20, 21], [normalCalls(3), attackCalls])}not a call\n`);
    const r = await runCli(['score', '-b', baseline, '--numbers', 'pid-call', suspect]);
    const [line] = ndjson(r.stdout) as Array<{
      unreadLines: number;
      processes: Array<{ pid: number; score: number }>;
    }>;
    expect(line?.unreadLines).toBe(1);
    expect(line?.processes.map((p) => p.pid)).toEqual([20, 21]);
    expect(line?.processes[1]?.score).toBeGreaterThan(line?.processes[0]?.score ?? 0);
  });
});
