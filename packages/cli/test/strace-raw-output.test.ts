import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

/**
 * strace's other ways of printing arguments: `-X raw` (constants as numbers), `-X verbose`
 * (numbers with their names in comments) and `-e raw=…` (no decoding at all). Each of them
 * once turned a key read, a metadata connect, a namespaced clone or a ptrace attach into a
 * CLEAN verdict: the rules compare names (`O_RDONLY`, `AF_INET`, `CLONE_NEWUSER`,
 * `PTRACE_ATTACH`) that the trace no longer printed.
 */
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-raw-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Reads the key named by argv[1], connects to the metadata address, makes a child in a new
// user namespace with a bare clone, and attaches to a second child with ptrace.
const MISCHIEF = `
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char buf[64];
  int fd = open(argv[1], O_RDONLY);
  if (fd >= 0) { read(fd, buf, sizeof buf); close(fd); }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
  inet_pton(AF_INET, "169.254.169.254", &a.sin_addr);
  connect(s, (struct sockaddr *)&a, sizeof a);
  close(s);
  long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (c == 0) _exit(0);
  if (c > 0) waitpid(c, 0, 0);
  pid_t t = fork();
  if (t == 0) { for (;;) pause(); }
  ptrace(PTRACE_ATTACH, t, 0, 0); /* EPERM under strace -f, which traces t already */
  kill(t, SIGKILL);
  waitpid(t, 0, 0);
  return argc > 2;
}
`;

const RULES = [
  'Read SSH private key',
  'Connect to cloud metadata service',
  'Process created in new namespaces',
  'Ptrace or memory access of another process',
];

interface Doc {
  alerts: Array<{ rule?: string; severity: string; message: string; details?: { reason?: string } }>;
}

describe.skipIf(!hasStrace || !hasCc)("analyze: strace's raw and verbose argument output", () => {
  const program = join(dir, 'mischief');
  const key = join(dir, 'home', '.ssh', 'id_rsa');

  beforeAll(() => {
    writeFileSync(join(dir, 'mischief.c'), MISCHIEF);
    const cc = spawnSync('cc', ['-O1', '-o', program, join(dir, 'mischief.c')], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
    writeFileSync(key, 'not really a key\n');
  });

  async function analyzed(options: string[]): Promise<Doc> {
    const out = join(dir, `trace${options.join('').replace(/\W+/g, '')}.strace`);
    const traced = spawnSync('strace', ['-f', '-o', out, ...options, program, key], { encoding: 'utf8' });
    expect(traced.status, traced.stderr).toBe(0);
    const r = await runCli(['analyze', '--format', 'json', out]);
    expect(r.code, r.stderr).toBe(1);
    return JSON.parse(r.stdout) as Doc;
  }

  for (const options of [[], ['-X', 'raw'], ['-X', 'verbose'], ['-e', 'raw=clone,ptrace']]) {
    it(`strace ${options.join(' ') || '(default)'}: every rule still fires`, async () => {
      const doc = await analyzed(options);
      const rules = new Set(doc.alerts.map((a) => a.rule));
      for (const rule of RULES) expect(rules, rule).toContain(rule);
    });
  }

  for (const option of ['raw=all', 'raw=openat', 'raw=connect']) {
    it(`strace -e ${option}: a critical trace_lost says paths or peers are printed as addresses`, async () => {
      const doc = await analyzed(['-e', option]);
      expect(doc.alerts).toContainEqual(
        expect.objectContaining({
          severity: 'critical',
          message: expect.stringMatching(
            /^the trace prints arguments raw \(strace -e raw=…; trace without it\)/,
          ),
          details: expect.objectContaining({ reason: 'raw_arguments' }),
        }),
      );
    });
  }
});
