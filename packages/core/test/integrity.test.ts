import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, traceIntegrity } from '../src/index.js';
import { corpusDir, hasCorpus } from './helpers/corpus.js';

const config = {
  baselineSyscalls: ['read', 'write', 'clone', 'clone3', 'exit_group'],
  alertOnUnknownSyscall: false,
};

function run(text: string, expectExits = true) {
  const integrity = traceIntegrity({ expectExits });
  const session = createSession({ config, checks: [integrity], parse: { source: 'strace' } });
  session.write(text);
  session.end();
  return { summary: session.summary(), integrity, session };
}

describe('trace integrity check', () => {
  it('a complete trace is clean', () => {
    const { summary } = run('10 read(0, "", 1) = 0\n10 exit_group(0) = ?\n10 +++ exited with 0 +++\n');
    expect(summary.verdict).toBe('clean');
  });

  it('a pid whose calls stop without an exit record is trace_lost, critical', () => {
    const { summary, session } = run(
      '10 read(0, "", 1) = 0\n11 write(1, "x", 1) = 1\n10 exit_group(0) = ?\n10 +++ exited with 0 +++\n',
    );
    const lost = summary.alerts.find((a) => a.type === 'trace_lost');
    expect(lost?.severity).toBe('critical');
    expect(lost?.pid).toBe(11);
    expect(lost?.details).toMatchObject({ reason: 'missing_exit', pids: [11] });
    expect(session.failing('critical')).toBe(true);
  });

  it('without expectExits (a -qq trace) missing exits are not reported', () => {
    expect(run('10 read(0, "", 1) = 0\n', false).summary.verdict).toBe('clean');
  });

  it('missing exits after the caller ended the trace (a kill) are expected', () => {
    const integrity = traceIntegrity({ expectExits: true });
    const session = createSession({ config, checks: [integrity], parse: { source: 'strace' } });
    session.write('10 read(0, "", 1) = 0\n');
    integrity.endedByCaller('killed');
    session.end();
    expect(session.summary().verdict).toBe('clean');
  });

  it('a line the trace ends inside stays critical, and says so; after a kill it says the kill cut it', () => {
    const cutText = '10 read(0, "", 1) = 0\n10 sendto(3, "secret", 6, 0, {sa_family=AF_INET, ';
    const cut = run(cutText, false).summary.alerts.find((a) => a.type === 'trace_lost');
    expect(cut).toMatchObject({ severity: 'critical', line: 2, details: { reason: 'line_unreadable' } });
    expect(cut?.message).toContain('the trace ends inside it');
    const integrity = traceIntegrity({ expectExits: true });
    const session = createSession({ config, checks: [integrity], parse: { source: 'strace' } });
    session.write(cutText);
    integrity.endedByCaller('policy');
    session.end();
    const killed = session.summary().alerts.find((a) => a.type === 'trace_lost');
    // A call under way when the run was killed may still have sent: it is not played down.
    expect(killed).toMatchObject({ severity: 'critical', line: 2, details: { reason: 'cut_when_stopped' } });
    expect(killed?.message).toBe(
      'the trace ends inside line 2, cut when the run was stopped (policy): the call it shows was under way and may have taken effect',
    );
    expect(killed?.sample).toContain('sendto(3, "secret"');
  });

  it("a child counts from its parent's clone return: one silent until the end is lost too", () => {
    const { summary } = run(
      '10 clone(child_stack=NULL, flags=SIGCHLD) = 12\n10 exit_group(0) = ?\n10 +++ exited with 0 +++\n',
    );
    const lost = summary.alerts.find((a) => a.type === 'trace_lost');
    expect(lost?.details).toMatchObject({ reason: 'missing_exit', pids: [12] });
    expect(
      run(
        '10 clone(child_stack=NULL, flags=SIGCHLD) = 12\n10 exit_group(0) = ?\n10 +++ exited with 0 +++\n12 +++ exited with 0 +++\n',
      ).summary.verdict,
    ).toBe('clean');
  });

  it('clone with CLONE_UNTRACED is an untraced_child alert naming the child', () => {
    const { summary } = run(
      '10 clone(child_stack=0x7f00, flags=CLONE_UNTRACED|SIGCHLD) = 12\n10 +++ exited with 0 +++\n',
    );
    const a = summary.alerts.find((x) => x.type === 'untraced_child');
    expect(a).toMatchObject({ severity: 'critical', syscall: 'clone', pid: 10 });
    expect(a?.message).toContain('pid 12');
  });

  it('an io_uring set up is a trace_lost naming the process (what goes through the ring is not in the trace), once per process', () => {
    const setup = (pid: number, ret: string) =>
      `${pid} io_uring_setup(4, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=4, cq_entries=8}) = ${ret}\n`;
    const { summary } = run(
      `10 execve("/tmp/x", ["x"], 0x7ffd /* 3 vars */) = 0\n${setup(10, '3')}${setup(10, '4')}10 +++ exited with 0 +++\n`,
    );
    const rings = summary.alerts.filter((x) => x.details?.reason === 'io_uring');
    expect(rings).toHaveLength(1);
    expect(rings[0]).toMatchObject({
      type: 'trace_lost',
      severity: 'critical',
      syscall: 'io_uring_setup',
      pid: 10,
      line: 2,
    });
    expect(rings[0]?.message).toBe(
      '/tmp/x set up an io_uring: the files it opens and reads, and the peers it connects to, through the ring are not syscalls, so the trace does not show them',
    );
    // Refused (io_uring_disabled, seccomp): nothing goes through it.
    const refused = run(`${setup(11, '-1 EPERM (Operation not permitted)')}11 +++ exited with 0 +++\n`);
    expect(refused.summary.alerts.some((x) => x.details?.reason === 'io_uring')).toBe(false);
  });

  it('reads CLONE_UNTRACED in -X raw hex (0x800000), and never inside a string argument', () => {
    const hex = run(
      '10 clone(child_stack=NULL, flags=0x800011, child_tidptr=0x7f96) = 12\n10 +++ exited with 0 +++\n',
    );
    expect(hex.summary.alerts.some((x) => x.type === 'untraced_child')).toBe(true);
    const quoted = run(
      '10 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 13\n13 +++ exited with 0 +++\n10 +++ exited with 0 +++\n',
    );
    expect(quoted.summary.alerts.some((x) => x.type === 'untraced_child')).toBe(false);
  });

  it('an unreadable line and a cut line are trace_lost', () => {
    const integrity = traceIntegrity({ expectExits: false });
    const session = createSession({
      config,
      checks: [integrity],
      parse: { source: 'strace', maxLineLength: 200 },
    });
    session.write(`10 read(0, "${'A'.repeat(400)}", 400) = 400\n`);
    session.write('10 read(0, \n');
    session.end();
    const reasons = session
      .summary()
      .alerts.filter((a) => a.type === 'trace_lost')
      .map((a) => a.details?.reason);
    expect(reasons).toContain('line_truncated');
    expect(integrity.linesLost).toBeGreaterThanOrEqual(1);
  });

  it('caps the alerts about lost lines, still counting them', () => {
    const integrity = traceIntegrity({ maxLineAlerts: 3 });
    const session = createSession({
      config,
      checks: [integrity],
      parse: { source: 'strace', maxLineLength: 50 },
    });
    for (let i = 0; i < 10; i++) session.write(`10 write(1, "${'B'.repeat(100)}", 100) = 100\n`);
    session.end();
    expect(integrity.linesLost).toBe(10);
    expect(session.summary().severities.critical).toBeLessThanOrEqual(3);
  });
});

describe("trace integrity: strace's summary table against the calls the trace shows", () => {
  const HEADER = '% time     seconds  usecs/call     calls    errors syscall';
  const RULE = '------ ----------- ----------- --------- --------- ----------------';
  /** A `-c` table: what strace counted, without one call line. */
  const table = (rows: Array<[number, number, string]>): string => {
    const total = rows.reduce((n, r) => n + r[0], 0);
    const errors = rows.reduce((n, r) => n + r[1], 0);
    const row = (calls: number, errs: number, name: string): string =>
      `  0.00    0.000000           0 ${String(calls).padStart(9)} ${errs ? String(errs).padStart(9) : ' '.repeat(9)} ${name}`;
    return [
      HEADER,
      RULE,
      ...rows.map((r) => row(...r)),
      RULE,
      `100.00    0.000100           1 ${String(total).padStart(9)} ${String(errors).padStart(9)} total`,
      '',
    ].join('\n');
  };
  const lostBySummary = (s: ReturnType<typeof createSession>) =>
    s
      .summary()
      .alerts.filter((a) => a.type === 'trace_lost' && a.details?.reason === 'summary_without_calls');

  it('a -c trace (counts, no calls) is trace_lost naming what was counted, fewest calls first', () => {
    const session = createSession({ config, parse: { source: 'strace' } });
    session.write(
      table([
        [649, 83, 'newfstatat'],
        [1, 1, 'ptrace'],
        [14, 7, 'wait4'],
      ]),
    );
    session.end();
    const [alert, ...more] = lostBySummary(session);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      severity: 'critical',
      count: 664,
      line: 7,
      sample: expect.stringContaining('664'),
      details: {
        check: 'trace_integrity',
        counted: 664,
        shown: 0,
        syscalls: [
          { syscall: 'ptrace', calls: 1, errors: 1 },
          { syscall: 'wait4', calls: 14, errors: 7 },
          { syscall: 'newfstatat', calls: 649, errors: 83 },
        ],
      },
    });
    expect(alert?.message).toContain('summary only (-c): 664 calls counted, none shown');
    expect(alert?.message).toContain('1 ptrace, 14 wait4, 649 newfstatat');
    expect(session.summary().verdict).toBe('alert');
  });

  it('a -C trace (the calls, then their table) is clean: strace counts no more than it printed', () => {
    const session = createSession({ config, parse: { source: 'strace' } });
    session.write('read(0, "", 1) = 0\nwrite(1, "x", 1) = 1\nwrite(1, "y", 1) = 1\n');
    session.write(
      table([
        [1, 0, 'read'],
        [2, 0, 'write'],
      ]),
    );
    session.end();
    expect(lostBySummary(session)).toEqual([]);
    expect(session.summary().verdict).toBe('clean');
  });

  it('a table counting more calls than the trace shows says how many are missing', () => {
    const session = createSession({ config, parse: { source: 'strace' } });
    session.write('read(0, "", 1) = 0\nwrite(1, "x", 1) = 1\n');
    session.write(
      table([
        [1, 0, 'read'],
        [4, 0, 'write'],
      ]),
    );
    session.end();
    const [alert] = lostBySummary(session);
    expect(alert).toMatchObject({ count: 3, details: { counted: 5, shown: 2 } });
    expect(alert?.message).toContain('5 calls and the trace shows 2: 3 calls are missing');
  });

  it('-U without a calls column: none shown is still blind (how many is not said)', () => {
    const session = createSession({ config, parse: { source: 'strace' } });
    session.write(
      [
        'syscall             errors',
        '---------------- ---------',
        'read                      ',
        'ptrace                   1',
        '---------------- ---------',
        'total                    1',
        '',
      ].join('\n'),
    );
    session.end();
    const [alert] = lostBySummary(session);
    expect(alert).toMatchObject({
      count: 2,
      details: {
        counted: null,
        shown: 0,
        syscalls: [
          { syscall: 'read', calls: null },
          { syscall: 'ptrace', calls: null, errors: 1 },
        ],
      },
    });
    expect(alert?.message).toContain('calls of 2 syscalls counted, none shown');
  });

  it("compares each input with its own table: another file's calls do not cover a -c file", () => {
    const session = createSession({ config, parse: { source: 'strace' } });
    session.beginInput('full.strace');
    session.write('read(0, "", 1) = 0\n'.repeat(10));
    session.beginInput('counts.strace');
    session.write(table([[3, 0, 'read']]));
    session.end();
    const alerts = lostBySummary(session);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ input: 'counts.strace', details: { counted: 3, shown: 0 } });
  });

  it.skipIf(!hasCorpus)(
    'real tables: summary-c.log and summary-c-w-S.log alert, summary-C.log does not',
    () => {
      const lost = (name: string) => {
        const session = createSession({ config });
        session.write(readFileSync(join(corpusDir, 'strace', name)));
        session.end();
        return lostBySummary(session);
      };
      expect(lost('summary-c.log')).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ shown: 0, counted: 5357 }) }),
      ]);
      expect(lost('summary-c-w-S.log')).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ shown: 0, counted: 5231 }) }),
      ]);
      expect(lost('summary-C.log')).toEqual([]);
    },
  );
});

describe("trace integrity, expectExits 'auto' (the CLI's): exits are expected of a trace that prints them", () => {
  function auto(inputs: Array<[string, string]>) {
    const session = createSession({
      config,
      checks: [traceIntegrity({ expectExits: 'auto' })],
      parse: { source: 'strace' },
    });
    for (const [name, text] of inputs) {
      session.beginInput(name);
      session.write(text);
    }
    session.end();
    return session.summary().alerts.filter((a) => a.details?.reason === 'missing_exit');
  }

  it('a -f trace that showed one exit and not the other: the other was lost', () => {
    const lost = auto([
      [
        'cut.strace',
        '10 read(0, "", 1) = 0\n11 write(1, "x", 1) = 1\n11 +++ exited with 0 +++\n10 read(0, "", 1) = 0\n',
      ],
    ]);
    expect(lost).toEqual([
      expect.objectContaining({
        pid: 10,
        severity: 'critical',
        details: expect.objectContaining({ pids: [10] }),
      }),
    ]);
    expect(lost[0]?.message).toContain('trace cut.strace ended without an exit record for 1 process');
  });

  it('a -qq trace (no exit record at all) is not held to them', () => {
    expect(auto([['qq.strace', '10 read(0, "", 1) = 0\n11 write(1, "x", 1) = 1\n']])).toEqual([]);
  });

  it('without -f (no pids) a forked child is not followed, so no exit is expected of it', () => {
    expect(
      auto([
        [
          'plain.strace',
          'clone(child_stack=NULL, flags=SIGCHLD) = 77\nexit_group(0) = ?\n+++ exited with 0 +++\n',
        ],
      ]),
    ).toEqual([]);
  });

  it("strace to stderr drops [pid N] once one process is left: that process's unprefixed exit ends it", () => {
    const trace = [
      'clone(child_stack=NULL, flags=SIGCHLD) = 11',
      '[pid 11] exit_group(0) = ?',
      '[pid 10] wait4(-1,  <unfinished ...>',
      '[pid 11] +++ exited with 0 +++',
      '<... wait4 resumed>NULL, 0, NULL) = 11',
      'exit_group(0) = ?',
      '+++ exited with 0 +++',
      '',
    ].join('\n');
    expect(auto([['stderr.strace', trace]])).toEqual([]);
  });

  it('strace -p stopped with Ctrl-C: a process it says it detached from ended on purpose', () => {
    const trace =
      '10 read(0, "", 1) = 0\n11 exit_group(0) = ?\n11 +++ exited with 0 +++\nstrace: Process 10 detached\n';
    expect(auto([['attached.strace', trace]])).toEqual([]);
  });

  it('each input is held to what it prints: a -qq file beside a full one is not', () => {
    const full = '10 read(0, "", 1) = 0\n10 +++ exited with 0 +++\n';
    expect(
      auto([
        ['full.strace', full],
        ['qq.strace', '20 read(0, "", 1) = 0\n'],
      ]),
    ).toEqual([]);
  });

  it("a -ff file alone: children seen only in their parent's clone are named, with the hint to give all files", () => {
    const parent =
      '10 clone(child_stack=NULL, flags=SIGCHLD) = 11\n10 exit_group(0) = ?\n10 +++ exited with 0 +++\n';
    const [lost] = auto([['trace.10', parent]]);
    expect(lost).toMatchObject({ details: { pids: [11] } });
    expect(lost?.message).toContain('shows 1 process started (pid 11) and not one line of its own');
    expect(lost?.message).toContain('strace -ff');
    const child = '11 read(0, "", 1) = 0\n11 +++ exited with 0 +++\n';
    expect(
      auto([
        ['trace.10', parent],
        ['trace.11', child],
      ]),
    ).toEqual([]);
  });

  it("a thread's execve supersedes its leader: the thread's pid ends there, the leader runs on to its exit", () => {
    const trace = [
      '10 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 11',
      '11 execve("/bin/true", ["true"], 0x7ffe /* 3 vars */ <unfinished ...>',
      '10 +++ superseded by execve in pid 11 +++',
      '10 <... execve resumed>) = 0',
      '10 exit_group(0) = ?',
      '10 +++ exited with 0 +++',
      '',
    ].join('\n');
    expect(auto([['exec-thread.strace', trace]])).toEqual([]);
    // The runner's mode (every exit expected) reads it the same way.
    const { summary } = run(trace);
    expect(summary.alerts.filter((a) => a.details?.reason === 'missing_exit')).toEqual([]);
    // Cut before the new program's exit: the leader, still running it, is the one lost.
    const cut = auto([['exec-thread-cut.strace', trace.split('\n').slice(0, 4).join('\n')]]);
    expect(cut.map((a) => a.details?.pids)).toEqual([[10]]);
  });

  it('audit events are not followed for exits (audit has no exit records)', () => {
    const session = createSession({ config, checks: [traceIntegrity({ expectExits: 'auto' })] });
    session.write('10 +++ exited with 0 +++\n');
    session.write(
      'type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=0 success=yes exit=3 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=4242 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="cat" exe="/usr/bin/cat" key=(null)\ntype=EOE msg=audit(1700000000.123:42): \n',
    );
    session.end();
    expect(session.summary().alerts.filter((a) => a.details?.reason === 'missing_exit')).toEqual([]);
  });

  it('a cut line and a lost process are two findings, grouped apart', () => {
    const session = createSession({
      config,
      checks: [traceIntegrity({ expectExits: 'auto' })],
      parse: { source: 'strace' },
    });
    session.write(
      '10 read(0, "", 1) = 0\n11 write(1, "x", 1) = 1\n11 exit_group(0) = ?\n11 +++ exited with 0 +++\n10 read(0, \n',
    );
    session.end();
    const groups = session.summary().groups.filter((g) => g.type === 'trace_lost');
    expect(groups.map((g) => g.first.details?.reason).sort()).toEqual(['line_unreadable', 'missing_exit']);
  });
});
