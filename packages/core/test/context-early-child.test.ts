/**
 * A child's first lines before its parent's clone returns (`strace -f` prints them so for
 * vfork and posix_spawn always, and for fork or a thread when the child runs first): they
 * belong to the child of the one pending clone, with what it inherited, not to nobody.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContextTracker, parseRecords, type SyscallEvent } from '../src/index.js';

function track(lines: string[]): SyscallEvent[] {
  const tracker = createContextTracker();
  return parseRecords(lines.join('\n'))
    .map((r) => tracker.observe(r))
    .filter((r): r is SyscallEvent => r.kind === 'syscall');
}
const at = (events: SyscallEvent[], line: number): SyscallEvent => events.find((e) => e.line === line)!;

const PARENT = [
  '100 execve("/usr/bin/python3", ["python3", "prog.py"], 0x7ffd /* 5 vars */) = 0',
  '100 chdir("/home/u") = 0',
];

describe('context: a child seen before its parent’s clone returns', () => {
  it('fork: its early chdir and relative open are resolved from the parent’s cwd, and name the parent’s program', () => {
    const events = track([
      ...PARENT,
      '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>',
      '101 chdir("sub") = 0',
      '101 openat(AT_FDCWD, "../data.txt", O_RDONLY|O_CLOEXEC) = 3',
      '100 <... clone resumed>, child_tidptr=0x7f) = 101',
      '101 openat(AT_FDCWD, "x.txt", O_RDONLY) = 4',
    ]);
    for (const line of [4, 5, 7]) {
      expect(at(events, line).process).toMatchObject({
        pid: 101,
        ppid: 100,
        comm: 'python3',
        exe: '/usr/bin/python3',
      });
    }
    expect(at(events, 4).paths).toEqual(['/home/u/sub']);
    expect(at(events, 5).paths).toEqual(['/home/u/data.txt']);
    // After the clone returned, what the child did early still holds.
    expect(at(events, 7).paths).toEqual(['/home/u/sub/x.txt']);
    expect(at(events, 7).process?.cwd).toBe('/home/u/sub');
  });

  it('vfork (posix_spawn): the child’s dup2, chdir and execve all come before the parent resumes', () => {
    const events = track([
      ...PARENT,
      '100 vfork( <unfinished ...>',
      '102 chdir("work") = 0',
      '102 execve("/bin/cat", ["cat", "notes"], 0x7ffd /* 5 vars */) = 0',
      '102 openat(AT_FDCWD, "notes", O_RDONLY) = 3',
      '100 <... vfork resumed>) = 102',
      '102 read(3, "x", 1) = 1',
    ]);
    expect(at(events, 4).process).toMatchObject({ pid: 102, ppid: 100, comm: 'python3' });
    expect(at(events, 5).process).toMatchObject({ ppid: 100, exe: '/bin/cat', argv: ['cat', 'notes'] });
    expect(at(events, 6).paths).toEqual(['/home/u/work/notes']);
    expect(at(events, 8).process).toMatchObject({ pid: 102, ppid: 100, comm: 'cat', cwd: '/home/u/work' });
  });

  it('a thread (CLONE_THREAD) seen first is a thread of its parent’s process', () => {
    const events = track([
      ...PARENT,
      '100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00, tls=0x7f} <unfinished ...>',
      '103 openat(AT_FDCWD, "cache", O_RDONLY) = 5',
      '100 <... clone3 resumed> => {parent_tid=[103]}, 88) = 103',
      '100 read(5, "x", 1) = 1',
    ]);
    expect(at(events, 4).process).toMatchObject({ pid: 100, comm: 'python3' });
    expect(at(events, 4).paths).toEqual(['/home/u/cache']);
    // The fd the thread opened is the process's: the parent's read of it names the file.
    expect(at(events, 6).paths).toEqual(['/home/u/cache']);
  });

  it('two clones pending: which child is whose is unknown, so none is guessed; the returns still adopt them', () => {
    const events = track([
      ...PARENT,
      '200 execve("/usr/bin/make", ["make"], 0x7ffd /* 5 vars */) = 0',
      '100 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
      '200 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
      '104 chdir("a") = 0',
      '100 <... clone resumed>) = 104',
      '200 <... clone resumed>) = 105',
      '104 openat(AT_FDCWD, "f", O_RDONLY) = 3',
    ]);
    expect(at(events, 6).process?.comm).toBeUndefined();
    expect(at(events, 9).process).toMatchObject({ ppid: 100, comm: 'python3', cwd: '/home/u/a' });
    expect(at(events, 9).paths).toEqual(['/home/u/a/f']);
  });

  it('a hint never overrides a pid already known (a reused pid is not re-parented)', () => {
    const events = track([
      ...PARENT,
      '300 execve("/usr/bin/sleep", ["sleep", "9"], 0x7ffd /* 5 vars */) = 0',
      '100 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
      '300 nanosleep({tv_sec=9, tv_nsec=0}, NULL) = 0',
      '100 <... clone resumed>) = 106',
    ]);
    expect(at(events, 5).process).toMatchObject({ pid: 300, comm: 'sleep' });
    expect(at(events, 5).process?.ppid).toBeUndefined();
  });
});

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasPython = spawnSync('python3', ['-c', 'import subprocess']).status === 0;

describe.skipIf(!hasStrace || !hasPython)('context: Python subprocess (vfork) under real strace -f', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'syscan-early-child-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a child started with cwd="sub" opens sub/data.txt, named as cat with its parent, every run', () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'data.txt'), 'data\n');
    const script = join(dir, 'spawn.py');
    writeFileSync(
      script,
      "import os, subprocess, sys\nos.chdir(sys.argv[1])\nfor _ in range(3): subprocess.run(['cat', 'data.txt'], cwd='sub', stdout=subprocess.DEVNULL, check=True)\n",
    );
    const out = join(dir, 'trace.log');
    const r = spawnSync('strace', ['-f', '-o', out, 'python3', script, dir]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const events = track(readFileSync(out, 'utf8').split('\n'));
    const opens = events.filter((e) => e.syscall === 'openat' && e.args?.includes('"data.txt"'));
    expect(opens).toHaveLength(3);
    for (const open of opens) {
      expect(open.paths).toEqual([join(dir, 'sub', 'data.txt')]);
      expect(open.process).toMatchObject({ comm: 'cat', cwd: join(dir, 'sub') });
      expect(open.process?.ppid).toBeDefined();
    }
    // The chdir each child made before its execve, too.
    const chdirs = events.filter((e) => e.syscall === 'chdir' && e.args === '"sub"');
    expect(chdirs.map((e) => e.paths)).toEqual(Array(3).fill([join(dir, 'sub')]));
  });
});
