import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasGit = spawnSync('git', ['--version']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-learn-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Traces `argv` with the real strace (-f, plus `flags`), into `dir/name`. */
function trace(name: string, argv: string[], flags: string[] = []): string {
  return straceInto(dir, name, argv, flags);
}

/** A git repository with `files` committed and one of them changed. */
function repo(name: string, files: number): string {
  const root = join(dir, name);
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-C', root, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args]);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(root, { recursive: true });
  git('init', '-q');
  for (let i = 0; i < files; i++) {
    mkdirSync(join(root, `d${i % 7}`), { recursive: true });
    writeFileSync(join(root, `d${i % 7}`, `f${i}.txt`), `${i}\n`);
  }
  git('add', '.');
  git('commit', '-qm', 'init');
  writeFileSync(join(root, 'd0', 'f0.txt'), 'changed\n');
  writeFileSync(join(root, 'untracked.txt'), 'new\n');
  return root;
}

describe.skipIf(!hasStrace || !hasGit)('syscan learn says what it learned, per program', () => {
  if (!hasStrace || !hasGit) it.skip('strace or git not installed; skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  let stderr = '';

  beforeAll(async () => {
    const small = repo('small', 3);
    // --no-optional-locks: status refreshes and rewrites the index only when stat data is racy
    // (timing), so without it a run may unlink index.lock and another not.
    const runs = [
      trace('git-1.strace', ['git', '--no-optional-locks', '-C', small, 'status']),
      trace('ls-1.strace', ['ls', small]),
      trace('ls-2.strace', ['ls', join(small, 'd0')]),
    ];
    const r = await runCli(['learn', ...runs, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
  });

  it('reports inputs, events, processes, programs with their syscall counts, denials, rates and the sequence model', () => {
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^syscan: wrote '.*baseline\.json': \d+ syscalls from \d+ events/);
    expect(stderr).toMatch(
      /^syscan: learned from 3 inputs: \d+ events \(\d+ denied\), 3 processes, \d+ distinct syscalls$/m,
    );
    expect(stderr).toMatch(/^syscan: no rate limits learned: the input has no timestamps/m);
    expect(stderr).toMatch(/^syscan: programs \(2\): .*\/git \d+ syscalls \(1 process\)/m);
    expect(stderr).toMatch(/\/ls \d+ syscalls \(2 processes\)/);
    expect(stderr).toMatch(/^syscan: allowed denials: /m);
    expect(stderr).toMatch(
      /^syscan: sequence model: 2 programs, 0 calibrated; 2 with fewer than 3 normal processes are not scored/m,
    );
    expect(lines.length).toBeLessThanOrEqual(8);
  });

  it('puts the same facts in the baseline: programs with their syscalls, and learned', () => {
    const doc = JSON.parse(readFileSync(baseline, 'utf8'));
    const names = Object.keys(doc.programs);
    expect(names).toHaveLength(2);
    const git = names.find((n) => n.endsWith('/git'))!;
    expect(doc.programs[git].baselineSyscalls).toEqual(expect.arrayContaining(['openat', 'getdents64']));
    expect(doc.learned).toMatchObject({
      inputs: 3,
      processes: 3,
      timed: false,
      sequence: { programs: 2, calibrated: 0, minCalibrationProcesses: 3 },
    });
    expect(doc.learned.programs[git]).toMatchObject({ processes: 1 });
    expect(doc.learned.programs[git].syscalls).toBe(doc.programs[git].baselineSyscalls.length);
  });

  it('a re-run on different inputs (a bigger repository, another directory) is clean', async () => {
    const big = repo('big', 60);
    const r = await runCli([
      'analyze',
      '-b',
      baseline,
      trace('git-2.strace', ['git', '--no-optional-locks', '-C', big, 'status']),
    ]);
    expect(r.stdout, r.stderr + r.stdout).toMatch(/^CLEAN/);
    expect(r.code).toBe(0);
    const ls = await runCli(['analyze', '-b', baseline, trace('ls-3.strace', ['ls', join(big, 'd3')])]);
    expect(ls.stdout, ls.stdout).toMatch(/^CLEAN/);
  });

  it('says rate limits come from timestamps when the input has them', async () => {
    const r = await runCli(['learn', '--no-sequence', trace('ls-tt.strace', ['ls', dir], ['-tt'])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^syscan: rate limits from timestamps: \d+ events, \d+ denied per window/m);
    expect(r.stderr).not.toMatch(/sequence model/);
    expect(JSON.parse(r.stdout).learned.timed).toBe(true);
  });

  it.skipIf(!hasCc)(
    'ls connecting (only git and python connect in normal runs) alerts naming ls',
    async () => {
      const py = trace('py.strace', [
        '/usr/bin/python3',
        '-c',
        'import socket\ntry:\n  socket.create_connection(("127.0.0.1", 9))\nexcept OSError:\n  pass',
      ]);
      const b2 = join(dir, 'with-python.json');
      const learned = await runCli(['learn', '--no-sequence', join(dir, 'ls-1.strace'), py, '-o', b2]);
      expect(learned.code, learned.stderr).toBe(0);
      expect(JSON.parse(readFileSync(b2, 'utf8')).baselineSyscalls).toContain('connect');
      const src = join(dir, 'beacon.c');
      writeFileSync(
        src,
        '#include <sys/socket.h>\n#include <netinet/in.h>\n#include <unistd.h>\n' +
          '__attribute__((constructor)) static void beacon(void) {\n' +
          '  int s = socket(AF_INET, SOCK_STREAM, 0);\n' +
          '  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = { htonl(0x7f000001) } };\n' +
          '  connect(s, (struct sockaddr *)&a, sizeof a);\n  close(s);\n}\n',
      );
      const so = join(dir, 'beacon.so');
      expect(spawnSync('cc', ['-shared', '-fPIC', '-o', so, src]).status).toBe(0);
      const evil = trace('ls-evil.strace', ['ls', dir], ['-E', `LD_PRELOAD=${so}`]);
      const r = await runCli(['analyze', '--format', 'json', '-b', b2, evil]);
      expect(r.code, r.stderr).toBe(1);
      const alerts = JSON.parse(r.stdout).alerts as Array<{ type: string; syscall: string; message: string }>;
      const connect = alerts.find((a) => a.type === 'unknown_syscall' && a.syscall === 'connect');
      expect(connect?.message).toMatch(/^unknown syscall 'connect' not in baseline of \/.*\/ls$/);
    },
  );
});

describe.skipIf(!hasStrace)('syscan learn says when a threshold cannot hold its false-alarm rate', () => {
  if (!hasStrace) it.skip('strace not installed; skipped', () => {});
  const runs: string[] = [];
  beforeAll(() => {
    for (let i = 0; i < 12; i++) runs.push(trace(`few-${i}.strace`, ['ls', '-la', i % 2 === 0 ? dir : '/']));
  });

  it('names the program, how many runs its threshold comes from and how often normal runs will pass it', async () => {
    const out = join(dir, 'few.json');
    const r = await runCli(['learn', ...runs, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^syscan: sequence model: 1 program learned from too few normal runs to hold 1 % false alarms: \S*\/ls \(12 runs: about 1 in 13 normal runs will alert\); learn 99 or more runs of each, or pass a higher --false-alarm-rate$/m,
    );
    const ls = Object.keys(JSON.parse(readFileSync(out, 'utf8')).programs)[0];
    expect(JSON.parse(readFileSync(out, 'utf8')).learned.sequence).toMatchObject({
      falseAlarmRate: 0.01,
      rateNotHeld: [{ program: ls, heldOutScores: 12, expectedFalseAlarmRate: 0.0769 }],
    });
  });

  it('is quiet when the rate asked for is one the runs can hold', async () => {
    const r = await runCli(['learn', '--false-alarm-rate', '0.1', ...runs, '-o', join(dir, 'few10.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^syscan: sequence model: 1 program, 1 calibrated$/m);
    expect(r.stderr).not.toMatch(/too few normal runs to hold/);
  });
});
