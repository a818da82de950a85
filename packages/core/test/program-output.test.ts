import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Alert, createSession } from '../src/index.js';

/**
 * The traced program's output inside its trace (`strace CMD 2>trace`): a write whose data
 * reappears after its last argument. Lines here are what strace printed in each case, the
 * forged ones as a program that knows strace's syntax makes them (see the CLI's fail-closed
 * tests for the real strace runs).
 */
function alertsOf(lines: string[]): Alert[] {
  const verdict = createSession({ rules: false }).analyzeRun(`${lines.join('\n')}\n`);
  return verdict.kind === 'alert' ? verdict.alerts : [];
}
const echoes = (lines: string[]) =>
  alertsOf(lines).filter((a) => a.details?.reason === 'program_output_in_trace');

const FORGED_WRITE = 'write(2, ") = 32\\nchdir(\\"/tmp\\") = 0\\ngetpid(", 32) = 32';

describe('the traced program writing into its own trace', () => {
  it('a write whose text closed its own line and the forged lines after it: one critical trace_lost, on the write', () => {
    const alerts = echoes(['chdir("/etc") = 0', FORGED_WRITE, 'chdir("/tmp") = 0', 'getpid() = 32']);
    expect(alerts).toEqual([
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        syscall: 'write',
        line: 2,
        sample: FORGED_WRITE,
        details: expect.objectContaining({ lineBreaks: 2, data: ') = 32\nchdir("/tmp") = 0\ngetpid(' }),
      }),
    ]);
  });

  it("the same write in a trace of its own (strace -o): the next line is strace's, so nothing is raised", () => {
    expect(echoes(['chdir("/etc") = 0', FORGED_WRITE, 'openat(AT_FDCWD, "shadow", O_RDONLY) = 3'])).toEqual(
      [],
    );
  });

  it("a line the reader cannot take right after such a write is the program's too", () => {
    const write = 'write(2, ") = 24\\n# not a call\\ngetpid(", 24) = 24';
    expect(echoes([write, '# not a call', 'getpid() = 24'])).toHaveLength(1);
  });

  it('with strace -f pids: the forged line carries the pid it claims', () => {
    const write = '41 write(2, ") = 28\\n41 chdir(\\"/tmp\\") = 0\\n41 getpid(", 28) = 28';
    expect(echoes([write, '41 chdir("/tmp") = 0', '41 getpid() = 28'])).toHaveLength(1);
  });

  it('ordinary output on the same stream: the reader joins it to the write, and that is raised', () => {
    expect(echoes(['write(1, "hello-err\\n", 10hello-err', ')             = 10'])).toHaveLength(1);
    expect(echoes(['write(2, "cat: ", 5cat: )        = 5'])).toHaveLength(1);
    // Cut by -s: what is shown of it follows the count.
    expect(
      echoes(['write(2, "usage: prog [-h] [-v"..., 40usage: prog [-h] [-v] [--long-option]) = 40']),
    ).toHaveLength(1);
  });

  it("never on a true trace: data that merely starts like strace's own text, short or cut data, writev and sendto", () => {
    expect(
      echoes([
        'write(1, ")", 1)                        = 1',
        'write(1, "))", 2)                       = 2',
        'write(2, ") = 6\\n", 6)                  = 6',
        'write(1, "abc"..., 100)                = 100',
        'write(1, ")"..., 100)                  = 100',
        'writev(2, [{iov_base="x\\n", iov_len=2}], 1) = 2',
        'sendto(3, "GET / HTTP/1.1\\r\\n", 16, MSG_NOSIGNAL, NULL, 0) = 16',
        'pwrite64(3, "data", 4, 0)              = 4',
        'writev(2, [{iov_base="", iov_len=0}, {iov_base="x\\n", iov_len=2}], 2) = 2',
        'sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ping\\n", iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 5',
        // Data that starts with the offset's last digits and ends nowhere near the line's end.
        'pwrite64(3, "3", 1, 123)               = 1',
        'pwrite64(3, "23\\n", 3, 123)           = 3',
      ]),
    ).toEqual([]);
  });

  it('reads any write line without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 30 }), fc.nat(99), (data, tail, n) => {
        const quoted = JSON.stringify(data).slice(1, -1);
        alertsOf([`write(2, "${quoted}", ${n}${tail}) = ${n}`, tail]);
      }),
    );
  });

  it('data split over buffers is read whole: an empty first iovec hides nothing (writev, pwritev2, sendmsg)', () => {
    const writev =
      'writev(2, [{iov_base="", iov_len=0}, {iov_base=") = 32\\nchdir(\\"/tmp\\") = 0\\ngetpid(", iov_len=32}], 2) = 32';
    expect(echoes([writev, 'chdir("/tmp") = 0', 'getpid() = 32'])).toEqual([
      expect.objectContaining({
        syscall: 'writev',
        line: 1,
        details: expect.objectContaining({ lineBreaks: 2 }),
      }),
    ]);
    const split =
      'pwritev2(2, [{iov_base=") = 3", iov_len=5}, {iov_base="2\\nchdir(\\"/tmp\\") = 0\\ngetpid(", iov_len=27}], 2, -1, RWF_APPEND) = 32';
    expect(echoes([split, 'chdir("/tmp") = 0', 'getpid() = 32'])).toHaveLength(1);
    // A socket on stderr (a Node parent's stdio): sendmsg's data is in msg_iov.
    const sendmsg =
      'sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=") = 32\\nchdir(\\"/tmp\\") = 0\\ngetpid(", iov_len=32}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 32';
    expect(echoes([sendmsg, 'chdir("/tmp") = 0', 'getpid() = 32'])).toHaveLength(1);
  });

  it("data that starts with digits runs into the count, and is still the program's (`, 337) = 33`)", () => {
    const cut = 'write(2, "7) = 33\\nchdir(\\"/tmp\\") = 0\\ngetpid"..., 337) = 33';
    expect(echoes([cut, 'chdir("/tmp") = 0', 'getpid() = 33'])).toHaveLength(1);
    const whole = 'write(2, "7) = 26\\nchdir(\\"/tmp\\") = 0\\ng(", 267) = 26';
    expect(echoes([whole, 'chdir("/tmp") = 0', 'g() = 26'])).toHaveLength(1);
    // The same write in a trace of its own: the next line is strace's.
    expect(echoes([cut, 'openat(AT_FDCWD, "shadow", O_RDONLY) = 3'])).toEqual([]);
  });
  it('reads any writev, sendmsg or sendfile line without throwing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
        fc.string({ maxLength: 20 }),
        fc.nat(99),
        (bufs, tail, n) => {
          const iov = bufs
            .map((b) => `{iov_base="${JSON.stringify(b).slice(1, -1)}", iov_len=${b.length}}`)
            .join(', ');
          alertsOf([
            `writev(2, [${iov}], ${bufs.length}${tail}) = ${n}`,
            `sendmsg(2, {msg_iov=[${iov}], msg_iovlen=${bufs.length}}, 0${tail}) = ${n}`,
            `sendfile(${tail}, 3, NULL, ${n}) = ${n}`,
            `dup2(${tail}, ${n}) = ${n}`,
            `fcntl(2, F_DUPFD${tail}, ${n}) = ${tail}`,
            `close(${tail}) = 0`,
            `clone(${tail}) = ${tail}`,
            tail,
          ]);
        },
      ),
    );
  });
});

describe('output into stderr that the trace cannot show', () => {
  const unseen = (lines: string[]) =>
    alertsOf(lines).filter((a) => a.details?.reason === 'program_output_unseen');

  it('sendfile, copy_file_range, splice or tee into fd 2: one critical trace_lost naming the call and the bytes', () => {
    for (const line of [
      'sendfile(2, 3, NULL, 32) = 32',
      'sendfile(2, 3, [0] => [32], 32) = 32',
      'copy_file_range(3, NULL, 2, NULL, 32, 0) = 32',
      'splice(4, NULL, 2, NULL, 32, 0) = 32',
      'tee(4, 2, 32, 0) = 32',
      '41 copy_file_range(3</tmp/forged>, NULL, 2<pipe:[7710]>, NULL, 32, 0) = 32',
    ]) {
      const alerts = unseen(['chdir("/etc") = 0', line, 'chdir("/tmp") = 0']);
      expect(alerts, line).toEqual([
        expect.objectContaining({
          type: 'trace_lost',
          severity: 'critical',
          line: 2,
          message: expect.stringMatching(
            /^\w+ moved 32 bytes into the program's stderr unseen: if this trace is on that stream/,
          ),
          details: expect.objectContaining({ reason: 'program_output_unseen', bytes: 32 }),
        }),
      ]);
    }
  });

  it("into a copy of stderr: dup, dup2, fcntl(F_DUPFD), and a forked child's inherited copy", () => {
    const into = (setup: string[], line: string) => unseen([...setup, line]).length;
    expect(into(['dup(2) = 5'], 'sendfile(5, 3, NULL, 32) = 32')).toBe(1);
    expect(into(['dup2(2, 9) = 9'], 'copy_file_range(3, NULL, 9, NULL, 32, 0) = 32')).toBe(1);
    expect(into(['fcntl(2, F_DUPFD_CLOEXEC, 10) = 10'], 'splice(4, NULL, 10, NULL, 32, 0) = 32')).toBe(1);
    expect(
      into(
        ['7 dup(2) = 5', '7 clone(child_stack=NULL, flags=SIGCHLD) = 8'],
        '8 sendfile(5, 3, NULL, 32) = 32',
      ),
    ).toBe(1);
    // Closed, or made something else: no longer stderr.
    expect(into(['dup(2) = 5', 'close(5) = 0'], 'sendfile(5, 3, NULL, 32) = 32')).toBe(0);
    expect(into(['dup(2) = 5', 'dup2(3, 5) = 5'], 'sendfile(5, 4, NULL, 32) = 32')).toBe(0);
    // A shell's `2>log`: the child's fd 2 is a file of its own, not the stream strace writes to.
    expect(
      into(
        ['9 openat(AT_FDCWD, "log", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3', '9 dup2(3, 2) = 2'],
        '9 sendfile(2, 4, NULL, 32) = 32',
      ),
    ).toBe(0);
    // Another process's copies are its own.
    expect(into(['7 dup(2) = 5'], '8 sendfile(5, 3, NULL, 32) = 32')).toBe(0);
  });

  it('not when nothing went to stderr: another fd, stdout, an error, no bytes, or stderr on /dev/null', () => {
    expect(
      unseen([
        'sendfile(4, 3, NULL, 32) = 32',
        'copy_file_range(3, NULL, 1, NULL, 9223372035781033984, 0) = 6',
        'copy_file_range(2, NULL, 4, NULL, 32, 0) = 32',
        'sendfile(2, 3, NULL, 32) = -1 EPIPE (Broken pipe)',
        'splice(4, NULL, 2, NULL, 32, 0) = 0',
        'sendfile(2</dev/null>, 3</tmp/x>, NULL, 32) = 32',
      ]),
    ).toEqual([]);
  });
});
