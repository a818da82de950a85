#!/usr/bin/env node
// Tiny stand-ins for the three bench corpora (../shared/bench: strace-f.log, strace-plain.log,
// audit.log, ~200 MB each), so that every bench can run in seconds in CI (BENCH_SMOKE=1):
//
//   BENCH_SMOKE=1 BENCH_DATA=$(node scripts/bench-smoke.mjs) node packages/core/bench/run.mjs
//
// Prints the folder it wrote (a new temp folder, or the one given as the first argument).
// Generated, deterministic, about 100-200 KB each: the same shapes as the real corpora (pid
// prefix, -tt timestamps, -T durations, -y fd paths, unfinished/resumed halves, clones and
// exits, denials; multi-record audit events with hex proctitles, failures, an AVC), nothing
// measured on them means anything: a smoke run only shows that a bench still runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repetitions of each workload: enough for a few hundred 64-line chunks. */
const REPEAT = 200;

/** One made-up run of a small shell pipeline, as `strace -f -tt -T -y` writes it. */
function straceRun(i, decorated) {
  const parent = 1000 + i * 3;
  const child = parent + 1;
  let us = i * 1000;
  const lines = [];
  const at = (pid, text) => {
    us += 37;
    const t = `10:00:${String(Math.floor(us / 1e6) % 60).padStart(2, '0')}.${String(us % 1e6).padStart(6, '0')}`;
    lines.push(decorated ? `${pid} ${t} ${text}` : text);
  };
  const fd = (n, path) => (decorated ? `${n}<${path}>` : String(n));
  const dur = (s) => (decorated ? ` <0.0000${s}>` : '');
  at(
    parent,
    `execve("/usr/bin/sh", ["sh", "-c", "cat /etc/hosts | wc -l"], 0x7ffd /* 12 vars */) = 0${dur(9)}`,
  );
  at(parent, `brk(NULL) = 0x55d0c000${dur(2)}`);
  at(
    parent,
    `openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = ${fd(3, '/etc/ld.so.cache')}${dur(5)}`,
  );
  at(
    parent,
    `newfstatat(${fd(3, '/etc/ld.so.cache')}, "", {st_mode=S_IFREG|0644, st_size=20000, ...}, AT_EMPTY_PATH) = 0${dur(3)}`,
  );
  at(
    parent,
    `mmap(NULL, 20000, PROT_READ, MAP_PRIVATE, ${fd(3, '/etc/ld.so.cache')}, 0) = 0x7f0000000000${dur(4)}`,
  );
  at(parent, `close(${fd(3, '/etc/ld.so.cache')}) = 0${dur(2)}`);
  at(
    parent,
    `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = ${child}${dur(80)}`,
  );
  if (decorated) {
    at(parent, `wait4(-1,  <unfinished ...>`);
  }
  at(child, `execve("/usr/bin/cat", ["cat", "/etc/hosts"], 0x7ffd /* 12 vars */) = 0${dur(9)}`);
  at(child, `openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = ${fd(3, '/etc/hosts')}${dur(6)}`);
  at(child, `read(${fd(3, '/etc/hosts')}, "127.0.0.1 localhost\\n", 131072) = 20${dur(3)}`);
  at(child, `write(${fd(1, 'pipe:[1234]')}, "127.0.0.1 localhost\\n", 20) = 20${dur(3)}`);
  at(child, `read(${fd(3, '/etc/hosts')}, "", 131072) = 0${dur(2)}`);
  if (i % 10 === 0)
    at(child, `openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC) = -1 EACCES (Permission denied)${dur(4)}`);
  at(child, `close(${fd(3, '/etc/hosts')}) = 0${dur(2)}`);
  at(child, `exit_group(0) = ?`);
  if (decorated) at(child, `+++ exited with 0 +++`);
  if (decorated) {
    at(parent, `<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = ${child}${dur(90)}`);
    at(
      parent,
      `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${child}, si_uid=1000, si_status=0, si_utime=0, si_stime=0} ---`,
    );
  } else {
    at(parent, `wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = ${child}`);
  }
  at(parent, `write(${fd(1, '/dev/pts/0')}, "1\\n", 2) = 2${dur(3)}`);
  at(parent, `exit_group(0) = ?`);
  if (decorated) at(parent, `+++ exited with 0 +++`);
  return lines;
}

/** One audit event per call: SYSCALL, CWD, PATH, PROCTITLE and EOE with one stamp. */
function auditRun(i) {
  const lines = [];
  const pid = 2000 + (i % 97);
  const hex = (s) => Buffer.from(s).toString('hex').toUpperCase();
  const calls = [
    [257, 'openat', '/etc/hosts', 'yes', 3],
    [0, 'read', undefined, 'yes', 20],
    [
      257,
      'openat',
      i % 10 === 0 ? '/etc/shadow' : '/etc/passwd',
      i % 10 === 0 ? 'no' : 'yes',
      i % 10 === 0 ? -13 : 3,
    ],
    [59, 'execve', '/usr/bin/cat', 'yes', 0],
    [3, 'close', undefined, 'yes', 0],
  ];
  calls.forEach(([nr, , path, success, exit], k) => {
    const serial = i * 10 + k + 1;
    const stamp = `audit(1767225600.${String((i * 5 + k) % 1000).padStart(3, '0')}:${serial})`;
    lines.push(
      `type=SYSCALL msg=${stamp}: arch=c000003e syscall=${nr} success=${success} exit=${exit} a0=ffffff9c a1=7ffd0000 a2=0 a3=0 items=${path ? 1 : 0} ppid=1 pid=${pid} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat" subj=unconfined key=(null)\x1dARCH=x86_64 SYSCALL=openat AUID="alice" UID="alice" GID="alice"`,
      `type=CWD msg=${stamp}: cwd="/home/alice"`,
    );
    if (path) {
      lines.push(
        `type=PATH msg=${stamp}: item=0 name="${path}" inode=1234 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
      );
    }
    lines.push(`type=PROCTITLE msg=${stamp}: proctitle=${hex('cat\0/etc/hosts')}`, `type=EOE msg=${stamp}: `);
  });
  if (i % 25 === 0) {
    const stamp = `audit(1767225601.000:${i * 10 + 9})`;
    lines.push(
      `type=AVC msg=${stamp}: avc:  denied  { read } for  pid=${pid} comm="cat" name="shadow" dev="dm-0" ino=42 scontext=user_u:user_r:user_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0`,
    );
  }
  return lines;
}

/** Writes the three corpora into `dir` (created when missing); returns `dir`. */
export function writeSmokeData(dir = mkdtempSync(join(tmpdir(), 'syscan-bench-smoke-'))) {
  mkdirSync(dir, { recursive: true });
  const corpus = (make) => `${Array.from({ length: REPEAT }, (_, i) => make(i).join('\n')).join('\n')}\n`;
  writeFileSync(
    join(dir, 'strace-f.log'),
    corpus((i) => straceRun(i, true)),
  );
  writeFileSync(
    join(dir, 'strace-plain.log'),
    corpus((i) => straceRun(i, false)),
  );
  writeFileSync(join(dir, 'audit.log'), corpus(auditRun));
  return dir;
}

/**
 * Runs one bench script with BENCH_SMOKE=1 (and `env`) to completion, killed after
 * `timeoutMs`; returns its exit status and what it printed (stdout and stderr, in that order).
 */
export function runBench(script, { args = [], env = {}, timeoutMs = 60_000 } = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { ...process.env, BENCH_SMOKE: '1', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1 << 26,
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(writeSmokeData(process.argv[2]));
