import { describe, expect, it } from 'vitest';
import { createSession } from '../src/index.js';

/** The raw_arguments alerts of a session over `lines` (what strace -e raw=… printed). */
function raw(lines: string[]) {
  const session = createSession({ rules: false });
  session.beginInput('t0');
  session.write(`${lines.join('\n')}\n`);
  session.end();
  return session.summary().alerts.filter((a) => a.details?.reason === 'raw_arguments');
}

describe('a trace printed with strace -e raw=…', () => {
  it('a call that succeeded with its path printed as an address: one critical trace_lost', () => {
    const alerts = raw([
      '20001 execve("/usr/bin/cat", ["cat", "/root/.ssh/id_rsa"], 0x7ffd3c2a1e40 /* 1 var */) = 0',
      '20001 openat(0xffffff9c, 0x7ffc749ddad2, 0, 0) = 0x3',
      '20001 read(0x3, 0x7fe1fdc7c000, 0x20000) = 0x2',
      '20001 openat(0xffffff9c, 0x7ffc749ddae0, 0, 0) = 0x4',
    ]);
    expect(alerts).toEqual([
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        line: 2,
        pid: 20001,
        syscall: 'openat',
        message: expect.stringMatching(
          /^the trace prints arguments raw \(strace -e raw=…; trace without it\): openat\(\) names its file by address in t0/,
        ),
        process: expect.objectContaining({ exe: '/usr/bin/cat' }),
      }),
    ]);
  });

  it('a connect whose peer is an address (-e raw=connect), even one still in progress', () => {
    expect(
      raw(['438 connect(0x3, 0x7ffe836b3040, 0x10) = -1 EINPROGRESS (Operation now in progress)']),
    ).toEqual([
      expect.objectContaining({
        severity: 'critical',
        message: expect.stringMatching(
          /\): connect\(\) names its peer by address in t0, so no rule on paths or peers/,
        ),
      }),
    ]);
  });

  it('a sendto or sendmsg whose peer is an address (-e raw=sendto,sendmsg)', () => {
    for (const line of [
      '10529 sendto(0x3, 0x7ff3b3351f70, 0x1, 0, 0x7fff66a2b460, 0x10) = 0x1',
      '10529 sendmsg(0x3, 0x7fff66a2b420, 0) = 0x1',
    ])
      expect(raw([line])).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/\): send(to|msg)\(\) names its peer by address/),
        }),
      ]);
    // Decoded: a buffer (which may hold ", 0x…") and a NULL peer on a connected socket.
    expect(
      raw([
        'sendto(3, "a, b, c, 0x1234", 14, 0, NULL, 0) = 14',
        'sendto(3, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, 16) = 1',
        'sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1',
      ]),
    ).toEqual([]);
  });

  it('a move into place whose paths are addresses (-e raw=renameat2): the rules on persistence are blind too', () => {
    expect(raw(['5405 renameat2(0xffffff9c, 0x7ffd64851ad4, 0xffffff9c, 0x7ffd64851ae0, 0x1) = 0'])).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/\): renameat2\(\) names its file by address/),
      }),
    ]);
  });

  it('not for a bad pointer the kernel refused (EFAULT), nor for -X raw, whose paths are quoted', () => {
    expect(
      raw([
        'openat(AT_FDCWD, 0xdeadbeef, O_RDONLY) = -1 EFAULT (Bad address)',
        'open(0x1, O_RDONLY) = -1 EFAULT (Bad address)',
        'connect(3, 0x10, 16) = -1 EFAULT (Bad address)',
        'connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}, 16) = 0',
        'openat(-100, "/etc/hostname", 0) = 3',
        'execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0',
      ]),
    ).toEqual([]);
  });
});
