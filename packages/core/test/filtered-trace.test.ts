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
          /^the trace leaves calls out \(strace -e trace=…, -z, -Z or -P\).*; 2 processes exit and not one exit or exit_group call is in t0; trace every call$/,
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
