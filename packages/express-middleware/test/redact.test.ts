import { describe, expect, it } from 'vitest';
import { isRealSyscall, publicAlert, publicSample } from '../src/redact.js';

describe('publicSample rebuilds a sample from vetted parts only', () => {
  it.each([
    ['write(1, "secret\\n", 7) = 7', 'write', 'write(…)'],
    [
      'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
      'openat',
      'openat(…) = -1 EACCES',
    ],
    [
      '1234  12:00:01.123456 connect(3, {sa_family=AF_INET}, 16) = -1 EPERM (Operation not permitted) <0.000010>',
      'connect',
      'connect(…) = -1 EPERM',
    ],
    ['[pid  77] execve("/bin/sh", ["sh", "-c", "x"], 0x7f /* 3 vars */) = 0', 'execve', 'execve(…)'],
    [
      '99 read(0,  <unfinished ...>\n99 <... read resumed>"", 1) = -1 EINTR (Interrupted system call)',
      'read',
      'read(…) = -1 EINTR',
    ],
    // Crafted: text in the prefix, the arguments, the return value or the errno never passes.
    ['leaked text ptrace(x) = 0', 'ptrace', 'ptrace(…)'],
    ['ptrace(x) = 123456789', 'ptrace', 'ptrace(…)'],
    ['ptrace(x) = -1 EHUNTERTWO (secret)', 'ptrace', 'ptrace(…)'],
    [
      'type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=257 success=no exit=-13 comm="cat" key="k"',
      'openat',
      'openat(…)',
    ],
  ])('%s', (raw, name, want) => {
    expect(publicSample(raw, name)).toBe(want);
  });

  it('gives no sample when the syscall cannot be vouched for', () => {
    expect(publicSample('hunter2(x) = 0', undefined)).toBeUndefined();
  });
});

describe('publicAlert', () => {
  it('replaces a name that is no syscall anywhere', () => {
    expect(isRealSyscall('openat')).toBe(true);
    expect(isRealSyscall('hunter2')).toBe(false);
    expect(
      publicAlert({
        type: 'unknown_syscall',
        severity: 'medium',
        message: "unknown syscall 'hunter2' not in baseline",
        syscall: 'hunter2',
        count: 2,
        sample: 'hunter2(x) = 0',
        line: 3,
        pid: 9,
      }),
    ).toEqual({
      type: 'unknown_syscall',
      severity: 'medium',
      message: "unknown syscall '?' not in baseline",
      count: 2,
    });
  });

  it('keeps rate-alert facts', () => {
    expect(
      publicAlert({
        type: 'total_rate',
        severity: 'medium',
        message: 'total event rate 130 exceeds limit 120/min',
        count: 130,
        limit: 120,
      }),
    ).toEqual({
      type: 'total_rate',
      severity: 'medium',
      message: 'total event rate 130 exceeds limit 120/min',
      count: 130,
      limit: 120,
    });
  });
});
