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
});
