import { createContextTracker, parseSyscallEvents } from '@syscan/core';
import { describe, expect, it } from 'vitest';
import { FirstExecve } from '../src/exec/first-execve.js';

/** The process the context tracker makes of `text`'s first line. */
function processOf(text: string) {
  const tracker = createContextTracker();
  const [event] = parseSyscallEvents(text).map((e) => tracker.observe(e));
  return event?.process;
}

const pass = (argv: string[], text: string, path = '/usr/bin:/bin'): string =>
  Buffer.from(new FirstExecve(argv, path).pass(Buffer.from(text))).toString('utf8');

describe('FirstExecve: the command strace could not decode (isolated, non-dumpable) is named', () => {
  const UNDECODED =
    '4     execve(0x7ffc56a3e470, 0x7ffc56a3fe30, 0x559378886a20) = 0\n4     brk(NULL) = 0x55\n';

  it('writes the path (looked up on PATH, as strace does) and argv into the undecoded first line', () => {
    const out = pass(['sh', '-c', 'echo hi'], UNDECODED);
    expect(out.split('\n')[1]).toBe('4     brk(NULL) = 0x55');
    expect(processOf(out)).toMatchObject({ exe: '/usr/bin/sh', comm: 'sh', argv: ['sh', '-c', 'echo hi'] });
  });

  it('escapes what strace escapes, and the tracker reads it back', () => {
    const argv = ['/bin/echo', 'a "quoted" \\ arg', 'tab\there', 'naïve ✓', 'line\nbreak'];
    expect(processOf(pass(argv, UNDECODED))).toMatchObject({ exe: '/bin/echo', argv });
  });

  it("waits for the line to end: strace writes an execve's entry and its return apart", () => {
    const first = new FirstExecve(['sh', '-c', 'echo hi'], '/usr/bin:/bin');
    const [head, tail] = [UNDECODED.slice(0, 40), UNDECODED.slice(40)];
    expect(first.pass(Buffer.from(head))).toHaveLength(0);
    const out = Buffer.from(first.pass(Buffer.from(tail))).toString();
    expect(processOf(out)).toMatchObject({ exe: '/usr/bin/sh', argv: ['sh', '-c', 'echo hi'] });
    // A trace that ends inside its first line hands that part on at the end, as it came.
    const cut = new FirstExecve(['sh'], '/bin');
    expect(cut.pass(Buffer.from(head))).toHaveLength(0);
    expect(Buffer.from(cut.flush()).toString()).toBe(head);
  });

  it('cuts a huge argv as strace would, keeping the line short', () => {
    const argv = ['/bin/true', 'x'.repeat(100_000), ...Array.from({ length: 1000 }, (_, i) => `a${i}`)];
    const out = pass(argv, UNDECODED);
    expect(out.length).toBeLessThan(10_000);
    expect(processOf(out)).toMatchObject({ exe: '/bin/true', argvTruncated: true });
  });

  it('leaves everything else alone: a decoded first line, a failed execve, later chunks', () => {
    const decoded = '4     execve("/bin/sh", ["sh"], 0x7ffd /* 2 vars */) = 0\n';
    expect(pass(['sh'], decoded)).toBe(decoded);
    const failed = '4     execve(0x7ffc, 0x7ffd, 0x5593) = -1 ENOENT (No such file or directory)\n';
    expect(pass(['sh'], failed)).toBe(failed);
    const first = new FirstExecve(['sh'], '/bin');
    first.pass(Buffer.from('4     brk(NULL) = 0x55\n'));
    expect(Buffer.from(first.pass(Buffer.from(UNDECODED))).toString()).toBe(UNDECODED);
    // A command that is not on PATH: strace fails to start it; nothing to name.
    expect(pass(['no-such-command-here'], UNDECODED)).toBe(UNDECODED);
  });
});
