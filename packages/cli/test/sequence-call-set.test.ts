import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, runCli } from './helpers/cli.js';
import { straceInto } from './helpers/strace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-call-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A forking server. `serve N FILE`: N children, each serving a few requests (open, stat,
 * read, close, write a reply, check access). `stager N FILE`: the same, but its last child is
 * a command loop on a pipe (poll, read, write): a handful of the server's own calls, in the
 * server's process, with none of its work.
 */
const SERVER = `
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
static void serve(const char *path, int requests) {
  char buf[256];
  struct stat st;
  for (int i = 0; i < requests; i++) {
    int fd = open(path, O_RDONLY);
    fstat(fd, &st);
    read(fd, buf, sizeof buf);
    close(fd);
    int out = open("/dev/null", O_WRONLY);
    write(out, buf, 16);
    close(out);
    access(path, R_OK);
    getppid();
  }
}
static void command_loop(int rounds) {
  int p[2];
  char c = 'x';
  pipe(p);
  struct pollfd f = {p[0], POLLIN, 0};
  for (int i = 0; i < rounds; i++) {
    write(p[1], &c, 1);
    poll(&f, 1, 0);
    read(p[0], &c, 1);
  }
}
int main(int argc, char **argv) {
  int children = atoi(argv[2]);
  for (int k = 0; k < children; k++) {
    pid_t child = fork();
    if (child == 0) {
      if (strcmp(argv[1], "stager") == 0 && k == children - 1) command_loop(60);
      else serve(argv[3], 2 + k % 5);
      _exit(0);
    }
    waitpid(child, 0, 0);
  }
  return 0;
}
`;

function trace(name: string, argv: string[]): string {
  return straceInto(dir, name, argv);
}

interface Scored {
  program: string;
  pid: number;
  score: number;
  overThreshold: boolean;
  explanation?: {
    summary: string;
    callSet?: {
      distance: number;
      rarity: number;
      distinct: number;
      normalDistinct: number;
      missing: string[];
    };
  };
}

describe.skipIf(!hasStrace || !hasCc)('the call set of a process, on real strace traces', () => {
  if (!hasStrace || !hasCc)
    it.skip('strace or a C compiler missing (apt-get install strace gcc); call-set tests skipped', () => {});
  const baseline = join(dir, 'baseline.json');
  let heldOut = '';
  let attack = '';

  beforeAll(async () => {
    writeFileSync(join(dir, 'server.c'), SERVER);
    const cc = spawnSync('cc', ['-O1', '-o', join(dir, 'server'), join(dir, 'server.c')], {
      encoding: 'utf8',
    });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
    writeFileSync(join(dir, 'page.html'), 'x'.repeat(2000));
    const server = join(dir, 'server');
    const run = (name: string, mode: string, children: number) =>
      trace(name, [server, mode, String(children), join(dir, 'page.html')]);
    // 5 runs of 14 children: past the 50 normal processes the nearest-neighbour channels need.
    const normal = [1, 2, 3, 4, 5].map((i) => run(`normal-${i}.strace`, 'serve', 14));
    heldOut = run('held-out.strace', 'serve', 14);
    attack = run('stager.strace', 'stager', 14);
    const r = await runCli(['learn', ...normal, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('scores the command loop above every held-out child, and says which of the server’s calls it lacks', async () => {
    const held = ndjson((await runCli(['score', '-b', baseline, heldOut])).stdout)[0];
    expect(held?.overThreshold).toBe(false);
    const r = await runCli(['score', '-b', baseline, '--explain', attack]);
    const [line] = ndjson(r.stdout);
    const processes = (line?.processes ?? []) as Scored[];
    const loop = processes.reduce((a, b) => (b.score > a.score ? b : a));
    expect(loop.overThreshold).toBe(true);
    expect(loop.score).toBeGreaterThan(held?.score as number);
    const set = loop.explanation?.callSet;
    expect(set, JSON.stringify(loop.explanation)).toBeDefined();
    expect(set!.distinct).toBeLessThan(set!.normalDistinct);
    expect(set!.missing).toEqual(expect.arrayContaining(['close']));
    expect(set!.rarity).toBeGreaterThanOrEqual(1);
    expect(loop.explanation?.summary).toMatch(
      /\d+ distinct call\(s\) against \d+ of the nearest normal run \(whole run, cosine distance 0\.\d+\), lacking .*close/,
    );
  });
});
