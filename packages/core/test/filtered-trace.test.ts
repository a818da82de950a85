import { describe, expect, it } from 'vitest';
import { type Alert, createSession } from '../src/index.js';

/**
 * A trace that leaves calls out (`strace -e trace=%file`, `-z`, `-P PATH`): processes exit and
 * no exit or exit_group call is in it. Lines are what strace printed in each case (the CLI's
 * fail-closed tests run the real strace).
 */
function filtered(inputs: string[][]): Alert[] {
  const session = createSession({ rules: false });
  inputs.forEach((lines, i) => {
    session.beginInput(`t${i}`);
    session.write(`${lines.join('\n')}\n`);
  });
  session.end();
  return session.summary().alerts.filter((a) => a.details?.reason === 'filtered_trace');
}

describe('a trace filtered to some calls', () => {
  it('processes exit and no exit call is in it: one critical trace_lost at the first exit', () => {
    const alerts = filtered([
      [
        '41 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
        '41 clone(child_stack=NULL, flags=SIGCHLD) = 42',
        '42 openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3',
        '42 +++ exited with 0 +++',
        '41 +++ exited with 0 +++',
      ],
    ]);
    expect(alerts).toEqual([
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        line: 4,
        pid: 42,
        count: 2,
        message: expect.stringMatching(
          /^the trace leaves calls out \(strace -e trace=…, -z, -Z or -P; trace every call\): 2 processes exit and not one exit or exit_group call is in t0; a ptrace or mount outside the filter is not seen$/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', exits: 2 }),
      }),
    ]);
  });

  it('not in a trace of every call: the caller of exit_group shows it, the threads it ended need not', () => {
    expect(
      filtered([
        [
          '41 clone3({flags=CLONE_VM|CLONE_THREAD, …}, 88) = 43',
          '41 exit_group(0) = ?',
          '43 +++ exited with 0 +++',
          '41 +++ exited with 0 +++',
        ],
      ]),
    ).toEqual([]);
    // A thread's own file of an -ff set, judged with the leader's file.
    expect(filtered([['+++ exited with 0 +++'], ['exit_group(0) = ?', '+++ exited with 0 +++']])).toEqual([]);
    // Killed, not exited: no exit call is to be expected.
    expect(filtered([['openat(AT_FDCWD, "/x", O_RDONLY) = 3', '+++ killed by SIGKILL +++']])).toEqual([]);
    // No exit records at all (-qq, a cut trace): nothing to tell by.
    expect(filtered([['openat(AT_FDCWD, "/x", O_RDONLY) = 3']])).toEqual([]);
  });

  it('a filter that keeps the exits (trace=%process,%file): a library opened and never mapped', () => {
    const alerts = filtered([
      [
        'execve("/usr/bin/ls", ["ls"], 0x7ffd3c2a1e40 /* 1 var */) = 0',
        'access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)',
        'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
        'openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3',
        'exit_group(0) = ?',
        '+++ exited with 0 +++',
      ],
    ]);
    expect(alerts).toEqual([
      expect.objectContaining({
        severity: 'critical',
        line: 3,
        message: expect.stringMatching(
          /a shared library was opened and not one mmap, brk or mprotect call is in t0/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', tell: 'library_never_mapped' }),
      }),
    ]);
    // The whole trace maps what it opens.
    expect(
      filtered([
        [
          'openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3',
          'mmap(NULL, 2055640, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7f1c2a400000',
          'exit_group(0) = ?',
          '+++ exited with 0 +++',
        ],
      ]),
    ).toEqual([]);
    // A static program that maps nothing and opens no library (the corpus's i386 demo), or a failed open.
    expect(
      filtered([
        [
          'execve("./i386demo", ["./i386demo"], 0x7fff9edc6a80 /* 8 vars */) = 0',
          'open("/etc/hostname", O_RDONLY) = 3',
          'open("/nonexistent/libx.so", O_RDONLY) = -1 ENOENT (No such file or directory)',
          'exit(0) = ?',
          '+++ exited with 0 +++',
        ],
      ]),
    ).toEqual([]);
  });

  it('a filter to process calls (trace=%process): a program started and nothing but process calls', () => {
    const alerts = filtered([
      [
        '15737 execve("/usr/bin/sh", ["sh", "-c", "/bin/true"], 0x7fff58933438 /* 8 vars */) = 0',
        '15737 vfork() = 15738',
        '15738 execve("/bin/true", ["/bin/true"], 0x55f7d648f5b0 /* 8 vars */) = 0',
        '15738 exit_group(0) = ?',
        '15738 +++ exited with 0 +++',
        '15737 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 15738',
        '15737 kill(15737, 0) = 0',
        '15737 exit_group(0) = ?',
        '15737 +++ exited with 0 +++',
      ],
    ]);
    expect(alerts).toEqual([
      expect.objectContaining({
        severity: 'critical',
        line: 1,
        pid: 15737,
        message: expect.stringMatching(
          /\): a program started and t0 holds only calls that start, wait for, signal and end processes; a ptrace/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', tell: 'process_calls_only' }),
      }),
    ]);
    // -qq: no exit records, the same tell from the exit call; a trace cut right after the
    // execve (no end shown) is whole as far as it goes.
    const exec = 'execve("/bin/true", ["/bin/true"], 0x55f7d648f5b0 /* 8 vars */) = 0';
    expect(filtered([[exec, 'exit_group(0) = ?']])).toHaveLength(1);
    expect(filtered([[exec]])).toEqual([]);
    expect(
      filtered([
        [exec, 'brk(NULL) = 0x55d1c4a2b000', 'mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, -1, 0) = 0x7f00'],
      ]),
    ).toEqual([]);
    // One other call, as in every whole trace (the i386 demo writes), and it is not a filter.
    expect(
      filtered([
        [
          'execve("./i386demo", ["./i386demo"], 0x7fff9edc6a80 /* 8 vars */) = 0',
          'write(1, "hello from i386\\n", 16) = 16',
          'exit(3) = ?',
          '+++ exited with 3 +++',
        ],
      ]),
    ).toEqual([]);
    // A failed execve started nothing; an attached process (strace -p) shows no execve.
    expect(
      filtered([['execve("/nope", ["/nope"], 0x7f /* 1 var */) = -1 ENOENT (No such file or directory)']]),
    ).toEqual([]);
    expect(filtered([['wait4(-1, 0x7ffd19e81fac, 0, NULL) = 15738']])).toEqual([]);
  });

  it('a filter to process calls and one class (trace=%process,%network): nothing but those', () => {
    const started = 'execve("/usr/bin/curl", ["curl", "http://10.0.0.1/"], 0x7ffd /* 8 vars */) = 0';
    const network = [
      started,
      'socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5',
      'connect(5, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}, 16) = 0',
      'sendto(5, "GET / HTTP/1.1\\r\\n", 16, MSG_NOSIGNAL, NULL, 0) = 16',
      'exit_group(0) = ?',
      '+++ exited with 0 +++',
    ];
    expect(filtered([network])).toEqual([
      expect.objectContaining({
        severity: 'critical',
        line: 1,
        message: expect.stringMatching(
          /a program started and t0 holds only calls that start, wait for, signal and end processes and network calls, never a read/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', tell: 'one_class_of_calls' }),
      }),
    ]);
    // %memory, %signal alike; a shared memory segment is ipc and memory at once.
    for (const call of [
      'mprotect(0x7f00, 4096, PROT_READ) = 0',
      'rt_sigaction(SIGINT, {sa_handler=SIG_IGN}, NULL, 8) = 0',
      'shmat(3, NULL, 0) = 0x7f00',
    ])
      expect(filtered([[started, call, 'exit_group(0) = ?']])).toHaveLength(1);
    // A program of descriptor calls alone can be whole (an assembly hello world: write, exit).
    expect(
      filtered([[started, 'write(1, "hello\\n", 6) = 6', 'exit(0) = ?', '+++ exited with 0 +++']]),
    ).toEqual([]);
    // Two classes with nothing in common: whole.
    expect(filtered([[...network.slice(0, 2), 'brk(NULL) = 0x55d1c4a2b000', 'exit_group(0) = ?']])).toEqual(
      [],
    );
  });

  it('a filter that keeps descriptor calls (trace=%process,%desc): a library mapped as code, never protected', () => {
    // What strace -e trace=%process,%desc showed of `ls /`: the loader's mmaps are descriptor
    // calls, its mprotects (RELRO) are not.
    const loaded = [
      'execve("/usr/bin/ls", ["ls", "/"], 0x7ffc15576db0 /* 35 vars */) = 0',
      'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f8b5fcad000',
      'openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3',
      'read(3, "\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0\\0\\0\\0\\0"..., 832) = 832',
      'mmap(NULL, 1974096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7f8b5fa94000',
      'mmap(0x7f8b5faba000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f8b5faba000',
      'close(3) = 0',
      'write(1, "bin\\nboot\\n", 9) = 9',
    ];
    const end = ['exit_group(0) = ?', '+++ exited with 0 +++'];
    expect(filtered([[...loaded, ...end]])).toEqual([
      expect.objectContaining({
        severity: 'critical',
        line: 6,
        message: expect.stringMatching(
          /\): a library's code was mapped and not one mprotect call is in t0 \(a loader makes what it relocated read-only\); a ptrace/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', tell: 'library_never_protected' }),
      }),
    ]);
    // The whole trace protects what it relocated.
    const whole = [
      ...loaded.slice(0, 6),
      'mprotect(0x7f8b5fc63000, 16384, PROT_READ) = 0',
      ...loaded.slice(6),
    ];
    expect(filtered([[...whole, ...end]])).toEqual([]);
    // Cut before the end: whole as far as it goes.
    expect(filtered([loaded])).toEqual([]);
    // A loader that cannot find a library exits 127 before it protects anything.
    expect(
      filtered([
        [
          ...loaded.slice(0, 6),
          'writev(2, [{iov_base="./m", iov_len=3}, {iov_base=": ", iov_len=2}], 2) = 5',
          'exit_group(127) = ?',
          '+++ exited with 127 +++',
        ],
      ]),
    ).toEqual([]);
    // Code made at run time (a JIT: anonymous memory made executable) is not a library.
    expect(
      filtered([
        [
          loaded[0] as string,
          'mmap(NULL, 65536, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00',
          'write(1, "x", 1) = 1',
          ...end,
        ],
      ]),
    ).toEqual([]);
  });

  it('-qq (no exit records) and a filter without the exit calls: a traced child exits, no exit call shows', () => {
    // strace -o qq.log -qq -f -e trace=execve sh -c 'true; ls /nonexistent'
    const sigchld = (pid: number) =>
      `14409 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${pid}, si_uid=0, si_status=2, si_utime=0, si_stime=1 /* 0.01 s */} ---`;
    const shell =
      '14409 execve("/usr/bin/sh", ["sh", "-c", "true; ls /nonexistent"], 0x7ffdfc880540 /* 35 vars */) = 0';
    const child = '14410 execve("/usr/bin/ls", ["ls", "/nonexistent"], 0x56328e4cbb38 /* 35 vars */) = 0';
    expect(filtered([[shell, child, sigchld(14410)]])).toEqual([
      expect.objectContaining({
        severity: 'critical',
        line: 3,
        pid: 14409,
        message: expect.stringMatching(
          /\): a traced child exited \(its parent's SIGCHLD says so\) and not one exit or exit_group call is in t0; a ptrace/,
        ),
        details: expect.objectContaining({ reason: 'filtered_trace', tell: 'child_exit_unseen' }),
      }),
    ]);
    // Without -f the child is not traced: a shell's trace cut before its own exit is no filter.
    expect(filtered([[shell, sigchld(14416)]])).toEqual([]);
    // The whole trace shows the child's exit_group before its parent hears of it.
    const whole = [shell, '14409 brk(NULL) = 0x5563a1b2c000', child, '14410 write(2, "ls: cannot", 10) = 10'];
    expect(filtered([[...whole, '14410 exit_group(2) = ?', sigchld(14410)]])).toEqual([]);
    // A killed child makes no exit call.
    expect(filtered([[shell, child, sigchld(14410).replace('CLD_EXITED', 'CLD_KILLED')]])).toEqual([]);
  });

  it('an exit_group cut short by another process (unfinished) still counts', () => {
    expect(
      filtered([
        [
          '41 exit_group(0 <unfinished ...>',
          '42 getpid() = 42',
          '42 +++ exited with 0 +++',
          '41 +++ exited with 0 +++',
        ],
      ]),
    ).toEqual([]);
  });
});
