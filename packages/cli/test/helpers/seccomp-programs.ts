import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A program whose argv picks calls beyond its normal run: the "attacks" the profile must refuse. */
const PROBE = `
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(const char *what, long r) {
  if (r < 0) printf("%s: errno %d %s\\n", what, errno, strerrorname_np(errno));
  else printf("%s: ok\\n", what);
}

int main(int argc, char **argv) {
  printf("probe ran\\n");
  for (int i = 1; i < argc; i++) {
    const char *m = argv[i];
    if (!strcmp(m, "sysinfo")) { struct sysinfo s; report(m, syscall(SYS_sysinfo, &s)); }
    else if (!strcmp(m, "inet")) report(m, socket(AF_INET, SOCK_DGRAM, 0));
    else if (!strcmp(m, "inet6")) report(m, socket(AF_INET6, SOCK_DGRAM, 0));
    else if (!strcmp(m, "spawn")) {
      pid_t pid; char *args[] = {"/bin/true", NULL};
      int e = posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ);
      int status = -1;
      if (e == 0) waitpid(pid, &status, 0);
      printf("spawn: %s status %d\\n", e == 0 ? "ok" : strerrorname_np(e), status);
    }
    else if (!strcmp(m, "newns")) {
      long r = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
      if (r == 0) _exit(0);
      if (r > 0) waitpid((pid_t) r, NULL, 0);
      report(m, r);
    }
  }
  fflush(stdout);
  return 0;
}
`;

/** Compiles PROBE into `dir/probe` and returns its path; throws with the compiler's words when it fails. */
export function compileProbe(dir: string): string {
  const src = join(dir, 'probe.c');
  writeFileSync(src, PROBE);
  const bin = join(dir, 'probe');
  const cc = spawnSync('cc', ['-O1', '-o', bin, src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc probe.c failed: ${cc.stderr}`);
  return bin;
}

/** Traces `argv` with the real strace (-f), as a user would, into `dir/name`. */
export function traceInto(dir: string, name: string, argv: string[]): string {
  const out = join(dir, name);
  const r = spawnSync('strace', ['-f', '-o', out, ...argv], { encoding: 'utf8', cwd: dir });
  if (!existsSync(out)) throw new Error(`strace failed: ${r.stderr}`);
  return out;
}
