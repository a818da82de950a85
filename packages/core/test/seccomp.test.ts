import { describe, expect, it } from 'vitest';
import {
  buildSeccompProfile,
  isSyscanError,
  parseRecords,
  RUNTIME_START_SYSCALLS,
  SeccompProfileBuilder,
  type SeccompProfileOptions,
  syscallNumber,
} from '../src/index.js';

const LS = [
  'execve("/bin/ls", ["ls"], 0x7ffd /* 20 vars */) = 0',
  'brk(NULL)                               = 0x55d0c000',
  'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
  'read(3, "\\177ELF", 832) = 832',
  'write(1, "EPERM\\n", 6) = 6',
  'close(3) = 0',
  'exit_group(0) = ?',
  '+++ exited with 0 +++',
].join('\n');

function profileOf(text: string | string[], options: SeccompProfileOptions & { hostArch?: string } = {}) {
  const traces = (Array.isArray(text) ? text : [text]).map((t) => parseRecords(t));
  return buildSeccompProfile({ traces }, options);
}

function allowed(result: ReturnType<typeof profileOf>): string[] {
  return result.profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names);
}

function expectConfigError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(isSyscanError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a SyscanError');
}

describe('profile shape (moby default.json)', () => {
  it('denies with EPERM by default, covers x86_64 with its x86/x32 sub-arches, allows exactly what ran', () => {
    const r = profileOf(LS);
    expect(r.profile).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [
        {
          names: ['brk', 'close', 'execve', 'exit_group', 'openat', 'read', 'write'],
          action: 'SCMP_ACT_ALLOW',
        },
      ],
    });
    expect(Object.keys(r.profile)).toEqual(['defaultAction', 'defaultErrnoRet', 'archMap', 'syscalls']);
    expect(r.warnings).toEqual([]);
    expect(r.stats).toMatchObject({
      events: 7,
      traces: 1,
      baselines: 0,
      observedSyscalls: 7,
      arches: ['x86_64'],
    });
  });

  it('takes the errno by name or number and the default action in either spelling', () => {
    expect(profileOf(LS, { errno: 'ENOSYS' }).profile.defaultErrnoRet).toBe(38);
    expect(profileOf(LS, { errno: 'eacces' }).profile.defaultErrnoRet).toBe(13);
    expect(profileOf(LS, { errno: 95 }).profile.defaultErrnoRet).toBe(95);
    const kill = profileOf(LS, { defaultAction: 'kill_process' }).profile;
    expect(kill.defaultAction).toBe('SCMP_ACT_KILL_PROCESS');
    expect(kill).not.toHaveProperty('defaultErrnoRet');
    expect(profileOf(LS, { defaultAction: 'SCMP_ACT_LOG' }).profile.defaultAction).toBe('SCMP_ACT_LOG');
  });

  it('refuses options that make no sense, in one sentence', () => {
    expectConfigError(() => profileOf(LS, { errno: 'EWHAT' }), /unknown errno 'EWHAT'/);
    expectConfigError(() => profileOf(LS, { errno: 0 }), /between 1 and 4095/);
    expectConfigError(() => profileOf(LS, { defaultAction: 'allow' }), /would allow every call/);
    expectConfigError(() => profileOf(LS, { defaultAction: 'nope' }), /unknown default action 'nope'/);
    expectConfigError(
      () => profileOf(LS, { defaultAction: 'kill', errno: 'EPERM' }),
      /errno applies only to the SCMP_ACT_ERRNO/,
    );
    expectConfigError(() => profileOf('not a trace at all'), /no syscalls observed/);
  });

  it('writes the OCI architectures form on request', () => {
    const r = profileOf(LS, { archStyle: 'architectures' });
    expect(r.profile.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(r.profile).not.toHaveProperty('archMap');
  });
});

describe('merging runs and baselines', () => {
  it('is the union of every trace and baseline, named as the kernel names them', () => {
    const other =
      'getdents64(3, 0x5581 /* 2 entries */, 32768) = 48\nsyscall_0x1b6(3, 4, 0) = -1 EPERM (Operation not permitted)';
    const builder = new SeccompProfileBuilder();
    builder.beginTrace();
    builder.observe(parseRecords(LS));
    builder.beginTrace();
    builder.observe(parseRecords(other));
    // An audit-userspace name (pread) becomes the kernel's (pread64).
    builder.addBaseline({ baselineSyscalls: ['futex', 'pread', 'read'] }, 'base.json');
    const r = builder.toProfile();
    expect(allowed(r)).toEqual([
      'brk',
      'close',
      'execve',
      'exit_group',
      'futex',
      'getdents64',
      'openat',
      // strace's name for a number its tables lack: 0x1b6 = 438
      'pidfd_getfd',
      'pread64',
      'read',
      'write',
    ]);
    expect(r.stats).toMatchObject({ traces: 2, baselines: 1, events: 9 });
  });

  it('names what it left out: unknown names, unread lines', () => {
    const builder = new SeccompProfileBuilder();
    builder.observe(parseRecords(`${LS}\n[pid 12] ???(garbage`));
    builder.addBaseline({ baselineSyscalls: ['read', 'frobnicate'] }, 'b.json');
    const r = builder.toProfile();
    expect(r.warnings.join('\n')).toMatch(
      /left out syscall names no arch table knows: frobnicate \(b\.json\)/,
    );
    expect(r.warnings.join('\n')).toMatch(/1 trace line\(s\) could not be read \(first: line 9\)/);
  });

  it('rejects a file that is no baseline', () => {
    const b = new SeccompProfileBuilder();
    expectConfigError(
      () => b.addBaseline({ syscalls: ['read'] }, 'x.json'),
      /x\.json: baselineSyscalls must be a list/,
    );
    expectConfigError(() => b.addBaseline(null), /baselineSyscalls must be a list/);
  });
});

describe('arch mapping', () => {
  const auditLine = (arch: string, nr: number, serial: number) =>
    `type=SYSCALL msg=audit(1700000000.${serial}:${serial}): arch=${arch} syscall=${nr} success=yes exit=0 a0=3 a1=0 a2=0 a3=0 items=0 ppid=1 pid=${100 + serial} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="x" exe="/bin/x" key=(null)`;

  it('reads audit arch= per record: i386 joins the x86_64 entry, aarch64 gets arm', () => {
    // i386 5 = open, x86_64 0 = read, aarch64 56 = openat
    const r = profileOf(
      [auditLine('40000003', 5, 1), auditLine('c000003e', 0, 2), auditLine('c00000b7', 56, 3)].join('\n'),
    );
    expect(r.profile.archMap).toEqual([
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    ]);
    expect(allowed(r)).toEqual(['open', 'openat', 'read']);
    expect(r.stats.arches).toEqual(['aarch64', 'i386', 'x86_64']);
  });

  it('says which arch libseccomp cannot name, and fails when none is left', () => {
    // 28 = big-endian arm (armeb): the kernel logs it, libseccomp has no SCMP_ARCH for it.
    const r = profileOf([auditLine('28', 3, 1), auditLine('c000003e', 0, 2)].join('\n'));
    expect(r.warnings).toEqual([
      expect.stringMatching(/^armeb is not in the profile: libseccomp has no name/),
    ]);
    expect(r.profile.archMap!.map((e) => e.architecture)).toEqual(['SCMP_ARCH_X86_64']);
    expectConfigError(
      () => profileOf(auditLine('28', 3, 1)),
      /no arch seen that libseccomp can name \(armeb\)/,
    );
  });

  it('gives a 32-bit machine its own entry when the host is not its 64-bit kin', () => {
    const r = profileOf(auditLine('40000003', 5, 1), { hostArch: 'aarch64' });
    expect(r.profile.archMap).toEqual([{ architecture: 'SCMP_ARCH_X86', subArchitectures: [] }]);
  });

  it("follows strace's per-pid personality notices", () => {
    const trace = [
      '100   execve("./a32", ["./a32"], 0x7ffc /* 3 vars */) = 0',
      '[ Process PID=100 runs in 32 bit mode. ]',
      '100   mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f00000',
      '100   _llseek(3, 0, [0], SEEK_SET) = 0',
      '101   getpid() = 101',
      '100   exit_group(0) = ?',
    ].join('\n');
    const r = profileOf(trace);
    expect(r.stats.arches).toEqual(['i386', 'x86_64']);
    expect(allowed(r)).toEqual(['_llseek', 'execve', 'exit_group', 'getpid', 'mmap2']);
    expect(r.warnings).toEqual([]);
  });

  it('applies a notice to the lines without a pid that follow it (strace of one process)', () => {
    const r = profileOf(
      'execve("./a32", ["./a32"], 0x7ffc /* 3 vars */) = 0\n[ Process PID=7 runs in 32 bit mode. ]\nwrite(1, "hi", 2) = 2\n',
    );
    expect(r.stats.arches).toEqual(['i386', 'x86_64']);
    const back = profileOf(
      '[ Process PID=7 runs in 32 bit mode. ]\n[ Process PID=7 runs in 64 bit mode. ]\nread(0, "", 1) = 0',
    );
    expect(back.stats.arches).toEqual(['x86_64']);
  });

  it('tells the ABI from -n numbers and from names only a compat ABI has', () => {
    // [  3] read is i386's read (x86_64 read is 0); socketcall exists on i386 only.
    const r = profileOf('[  0] read(0, "", 1) = 0\n[  3] read(0, "", 1) = 0\nsocketcall(1, [2, 1, 0]) = 3');
    expect(r.stats.arches).toEqual(['i386', 'x86_64']);
    expect(allowed(r)).toEqual(['read', 'socketcall']);
    // A number that matches no ABI's table for the name is not trusted.
    expect(profileOf('[  0] read(0, "", 1) = 0\n[ 999] read(0, "", 1) = 0').warnings.join()).toMatch(
      /read \(line 2\)/,
    );
  });

  it('maps an aarch64 host trace with arm sub-arch and leaves x86-only runtime calls out', () => {
    const r = profileOf('openat(AT_FDCWD, "/x", O_RDONLY) = 3', { hostArch: 'arm64', mode: 'safe' });
    expect(r.profile.archMap).toEqual([
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ]);
    expect(allowed(r)).not.toContain('arch_prctl');
    expect(allowed(r)).toContain('capset');
  });
});

describe('--safe: what runtimes call between loading the filter and exec', () => {
  it('adds the runtime calls not observed, in their own commented rule', () => {
    const r = profileOf(LS, { mode: 'safe' });
    expect(r.profile.syscalls).toHaveLength(2);
    const [observed, runtime] = r.profile.syscalls;
    expect(observed!.names).toContain('execve');
    expect(runtime!.comment).toMatch(/runc and crun/);
    for (const name of [
      'capget',
      'capset',
      'prctl',
      'setgroups',
      'setresuid',
      'setresgid',
      'chdir',
      'fchdir',
      'close_range',
    ])
      expect(runtime!.names).toContain(name);
    expect(runtime!.names).not.toContain('execve');
    expect(r.stats.runtimeSyscalls).toBe(runtime!.names.length);
    for (const group of RUNTIME_START_SYSCALLS) {
      expect(group.source.length).toBeGreaterThan(20);
      // A typo would silently drop a call the runtime needs.
      for (const name of group.names) expect(syscallNumber(name, 'x86_64'), name).toBeTypeOf('number');
    }
  });
});

describe('argument filters', () => {
  const net = [
    'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3',
    'socket(AF_UNIX, SOCK_STREAM, 0) = 4',
    'socket(0xa /* AF_INET6 */, SOCK_DGRAM, 0) = 5',
    'personality(0xffffffff) = 0 (PER_LINUX)',
    'personality(PER_LINUX32|ADDR_NO_RANDOMIZE) = 0 (PER_LINUX)',
    'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01) = 7',
    'clone3({flags=CLONE_VM|CLONE_VFORK|CLONE_NEWNET, exit_signal=SIGCHLD, stack=0x7f02, stack_size=0x9000}, 88) = 8',
  ].join('\n');

  it('allows socket per family, personality per value, clone without unused namespace flags', () => {
    const r = profileOf(net, { argFilters: true });
    const rules = r.profile.syscalls;
    expect(rules.find((x) => x.args === undefined && x.action === 'SCMP_ACT_ALLOW')).toBeUndefined();
    expect(rules.filter((x) => x.names[0] === 'socket').map((x) => x.args)).toEqual([
      [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }],
      [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }],
      [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }],
    ]);
    expect(rules.filter((x) => x.names[0] === 'personality').map((x) => x.args![0]!.value)).toEqual([
      0x40008, 0xffffffff,
    ]);
    // moby's mask 2114060288 less CLONE_NEWNET, which clone3 used.
    expect(rules.find((x) => x.names[0] === 'clone')!.args).toEqual([
      { index: 0, value: 2114060288 - 0x40000000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
    ]);
    expect(rules.find((x) => x.names[0] === 'clone3')).toMatchObject({
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
    });
    expect(r.warnings).toEqual([]);
  });

  it('adds a filtered clone when only clone3 was seen (libc falls back to it on ENOSYS)', () => {
    const r = profileOf('clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD}, 88) = 9', {
      argFilters: true,
    });
    expect(r.profile.syscalls.map((x) => [x.names[0], x.action])).toEqual([
      ['clone', 'SCMP_ACT_ALLOW'],
      ['clone3', 'SCMP_ACT_ERRNO'],
    ]);
    expect(r.profile.syscalls[0]!.args![0]!.value).toBe(2114060288);
  });

  it('drops the clone3 rule when the default already answers ENOSYS', () => {
    const r = profileOf('clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 9', {
      argFilters: true,
      errno: 'ENOSYS',
    });
    expect(r.profile.syscalls.map((x) => x.names[0])).toEqual(['clone']);
  });

  it('makes no filter it cannot read, and says why', () => {
    const r = profileOf('socket(PF_WEIRD, SOCK_STREAM, 0) = 3\nsocket(AF_INET, SOCK_STREAM, 0) = 4', {
      argFilters: true,
    });
    expect(r.profile.syscalls).toEqual([{ names: ['socket'], action: 'SCMP_ACT_ALLOW' }]);
    expect(r.warnings).toEqual(['socket: no argument filter (an argument syscan could not read (line 1))']);
    const b = new SeccompProfileBuilder();
    b.observe(parseRecords('socket(AF_INET, SOCK_STREAM, 0) = 4'));
    b.addBaseline({ baselineSyscalls: ['socket'] }, 'b.json');
    expect(b.toProfile({ argFilters: true }).warnings).toEqual([
      'socket: no argument filter (b.json names it without arguments)',
    ]);
  });

  it('ORs the namespace flags of every clone seen (audit a0), however many distinct values', () => {
    const clone = (serial: number, a0: string) =>
      `type=SYSCALL msg=audit(1700000000.${serial}:${serial}): arch=c000003e syscall=56 success=yes exit=1 a0=${a0} a1=0 a2=0 a3=0 items=0 ppid=1 pid=9 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="x" exe="/bin/x" key=(null)`;
    // 40 distinct flag words, all without namespace bits but one with CLONE_NEWUTS (0x4000000).
    const lines = Array.from({ length: 40 }, (_, i) => clone(i + 1, (0x1200011 + i * 0x100).toString(16)));
    lines.push(clone(99, '4000011'));
    const r = buildSeccompProfile(
      { traces: [parseRecords(lines.join('\n'), { auditFields: true })] },
      { argFilters: true },
    );
    expect(r.profile.syscalls[0]!.args).toEqual([
      { index: 0, value: 2114060288 - 0x4000000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
    ]);
  });

  it('reads audit a0 when the parser kept the fields', () => {
    const line =
      'type=SYSCALL msg=audit(1700000000.1:7): arch=c000003e syscall=41 success=yes exit=3 a0=a a1=80002 a2=0 a3=0 items=0 ppid=1 pid=9 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="x" exe="/bin/x" key=(null)';
    const r = buildSeccompProfile(
      { traces: [parseRecords(line, { auditFields: true })] },
      { argFilters: true },
    );
    expect(r.profile.syscalls).toEqual([
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
    ]);
  });

  it('leaves filters out unless asked', () => {
    const r = profileOf(net);
    expect(r.profile.syscalls).toEqual([
      { names: ['clone', 'clone3', 'personality', 'socket'], action: 'SCMP_ACT_ALLOW' },
    ]);
  });
});
