import { describe, expect, it } from 'vitest';
import {
  type Alert,
  analyzeStream,
  configLayer,
  createSession,
  DEFAULT_DANGEROUS_SYSCALLS,
  learnSequenceModel,
  mergeConfigs,
  onlyAllowedAtEntry,
  parseRecords,
  refusedAtEntry,
  SequenceLearner,
  SyscallAnomalyDetector,
  type SyscallEvent,
} from '../src/index.js';

const BASELINE = { baselineSyscalls: ['read', 'write', 'close'], maxAlertsPerMinute: 0 };
const fixedClock = { now: () => 1_000, timeSource: 'clock' as const };

describe('createSession', () => {
  it('gives a verdict per push and groups alerts across pushes, most severe first', () => {
    const session = createSession({ config: { ...BASELINE, ...fixedClock }, rules: false });
    session.beginInput('run.strace');
    expect(session.write('read(3, "x", 1) = 1\n').kind).toBe('clean');
    const v = session.write('openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)\n');
    expect(v.kind).toBe('alert');
    session.write('openat(AT_FDCWD, "/etc/gshadow", O_RDONLY) = -1 EACCES (Permission denied)\n');
    session.end();
    const s = session.summary();
    expect(s.verdict).toBe('alert');
    expect(s.events).toBe(3);
    expect(s.groups.map((g) => [g.type, g.syscall, g.alerts])).toEqual([
      ['denied_syscall', 'openat', 2],
      ['unknown_syscall', 'openat', 2],
    ]);
    expect(s.alerts.every((a) => a.input === 'run.strace')).toBe(true);
    expect(s.denied.bySyscall.openat).toEqual({ count: 2, errnos: { EACCES: 2 } });
    expect(s.inputs).toEqual([
      expect.objectContaining({ name: 'run.strace', lines: 3, events: 3, parseIssues: 0 }),
    ]);
    expect(s.syscalls).toEqual({ openat: 2, read: 1 });
  });

  it('counts the lines of an input that are neither strace nor audit (otherLines), read past but said', () => {
    const session = createSession({ config: { ...BASELINE, ...fixedClock }, rules: false });
    session.beginInput('padded.strace');
    session.write('read(3, "x", 1) = 1\nhello, this is prose\n\0\0\0\0\n\nread(3, "x", 1) = 1\n');
    session.end();
    expect(session.summary().inputs).toEqual([
      expect.objectContaining({ name: 'padded.strace', lines: 5, events: 2, parseIssues: 0, otherLines: 2 }),
    ]);
  });

  it('fails a gate at or above a severity, and always when alerts were held back', () => {
    const session = createSession({ config: { ...BASELINE, ...fixedClock } });
    session.analyze('getpid() = 12\n');
    expect(session.failing()).toBe(true);
    expect(session.failing('medium')).toBe(true);
    expect(session.failing('high')).toBe(false);

    const budget = createSession({ config: { ...BASELINE, ...fixedClock, maxAlertsPerMinute: 1 } });
    budget.analyze('getpid() = 12\n');
    budget.analyze('getppid() = 1\n');
    budget.analyze('getuid() = 0\n');
    expect(budget.summary().suppressed.heldBack).toBeGreaterThan(0);
    // A held-back alert has no known severity: it fails every gate (fail closed).
    expect(budget.failing('critical')).toBe(true);
  });

  it('judges one whole text as one verdict (the guard form) and shares a detector across sessions', () => {
    const detector = new SyscallAnomalyDetector({ ...BASELINE, ...fixedClock, maxAlertsPerMinute: 1 });
    const first = createSession({ detector });
    expect(first.analyze('getpid() = 1\ngetuid() = 0\n').kind).toBe('alert');
    const second = createSession({ detector });
    expect(second.analyze('getpid() = 1\n').kind).toBe('suppressed');
  });

  it('judges a list of texts exactly as their newline-joined text, in one verdict', () => {
    // A line split over two texts, a call resumed in the next text, and a cwd set in one and
    // used in the other: the list must read as the one trace it is.
    const texts = [
      '100 chdir("/root/.ssh") = 0\n100 openat(AT_FDCWD, "id_rsa", O_RDONLY <unfinished ...>',
      '100 <... openat resumed>) = 3\n200 getpid() = 200',
      '',
      '200 read(3, "x", 1) = 1',
    ];
    const run = (input: string | readonly string[]) => {
      const session = createSession({ config: { ...BASELINE, ...fixedClock } });
      const verdict = session.analyze(input);
      const { inputs, lines, bytes, events, syscalls, groups } = session.summary();
      return { verdict, inputs, lines, bytes, events, syscalls, rules: groups.map((g) => g.rule) };
    };
    const listed = run(texts);
    expect(listed).toEqual(run(texts.join('\n')));
    expect(listed.rules).toContain('Read SSH private key');
    expect(listed.events).toBe(4);
  });

  it('lets checks add alerts to the batch they belong to', () => {
    const check = {
      record(r: { kind: string }, out: Alert[]) {
        if (r.kind === 'exit')
          out.push({ type: 'process_crashed', severity: 'high', message: 'crashed', count: 1 });
      },
    };
    const session = createSession({
      config: { ...BASELINE, ...fixedClock },
      checks: [check],
      builtinChecks: false,
    });
    const v = session.push(parseRecords('+++ killed by SIGSEGV (core dumped) +++\n'));
    expect(v.kind === 'alert' && v.alerts.map((a) => a.type)).toEqual(['process_crashed']);
    expect(session.summary().severities.high).toBe(1);
  });

  it('judges the shipped rule pack by default, naming the rule', () => {
    const session = createSession({ config: { alertOnUnknownSyscall: false, ...fixedClock } });
    session.analyze('openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC) = 3\n');
    const rule = session.summary().groups.find((g) => g.type === 'rule');
    expect(rule?.rule).toBeDefined();
    expect(rule?.first.paths).toEqual(['/etc/shadow']);
    expect(
      createSession({ rules: false, config: { alertOnUnknownSyscall: false } }).analyze(
        'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 3\n',
      ).kind,
    ).toBe('clean');
  });

  /** A sequence model of six processes that open, read and close, 40 calls each. */
  const openReadCloseModel = () => {
    const normal = (pid: number) =>
      parseRecords(
        Array.from({ length: 40 }, (_, i) => `${pid} ${['openat', 'read', 'close'][i % 3]}(3) = 0`).join(
          '\n',
        ),
      ).filter((r) => r.kind === 'syscall') as SyscallEvent[];
    return learnSequenceModel([normal(1), normal(2), normal(3), normal(4), normal(5), normal(6)]);
  };

  it('scores processes with the learned sequence model of the config and explains the alert', () => {
    const model = openReadCloseModel();
    const session = createSession({
      config: { sequenceModel: model as never, alertOnUnknownSyscall: false },
    });
    const odd = Array.from(
      { length: 40 },
      (_, i) => `9 ${['socket', 'connect', 'dup2', 'execve'][i % 4]}(3) = 0`,
    );
    session.analyze(odd.join('\n'));
    session.end();
    const alert = session.summary().alerts.find((a) => a.type === 'sequence_anomaly');
    expect(alert).toBeDefined();
    expect(alert!.score).toBeGreaterThan(alert!.threshold!);
    expect(alert!.pid).toBe(9);
    expect(alert!.details).toBeDefined();
  });

  it('names the file or peer of each call of the explained window, in it and in the message', () => {
    const session = createSession({
      config: { sequenceModel: openReadCloseModel() as never, alertOnUnknownSyscall: false },
      rules: false,
    });
    const odd = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? '9 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 3'
        : '9 connect(4, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("10.0.0.5")}, 16) = 0',
    );
    const verdict = session.analyzeRun(odd.join('\n'));
    const alert = (verdict.kind === 'alert' ? verdict.alerts : []).find((a) => a.type === 'sequence_anomaly');
    expect(alert).toBeDefined();
    const details = alert!.details as { window: { calls: Array<{ syscall: string; target?: string }> } };
    const window = details.window.calls;
    expect(window.length).toBeGreaterThan(0);
    for (const call of window)
      expect(call.target).toBe(call.syscall === 'openat' ? '/etc/shadow' : '10.0.0.5:4444');
    // The call that took it over is named as any alert's call is: with its file or its peer.
    if (alert!.syscall === 'openat') expect(alert!.paths).toEqual(['/etc/shadow']);
    else expect(alert!.peer).toMatchObject({ address: '10.0.0.5', port: 4444 });
    expect(alert?.message).toMatch(
      /; in that window: (\/etc\/shadow \(openat :\d+\), 10\.0\.0\.5:4444 \(connect :\d+\)|10\.0\.0\.5:4444 \(connect :\d+\), \/etc\/shadow \(openat :\d+\))$/,
    );
  });

  it('analyzeRun judges a whole run, its end included: a short odd process no exit closed is not clean', () => {
    const model = openReadCloseModel();
    const config = { sequenceModel: model as never, alertOnUnknownSyscall: false };
    // Fewer calls than a window, and no exit record (strace -qq, or a plain trace's
    // unprefixed exit): only the end of input judges it.
    const odd = Array.from(
      { length: 10 },
      (_, i) => `9 ${['socket', 'connect', 'dup2', 'execve'][i % 4]}(3) = 0`,
    );
    expect(createSession({ config, rules: false }).analyze(odd).kind).toBe('clean');
    const run = createSession({ config, rules: false });
    const verdict = run.analyzeRun(odd);
    expect(verdict.kind).toBe('alert');
    expect(verdict.kind === 'alert' && verdict.alerts.map((a) => [a.type, a.pid])).toEqual([
      ['sequence_anomaly', 9],
    ]);
    expect(run.summary().verdict).toBe('alert');
    // A batch that alerts keeps its own alerts, with the end's after them.
    const both = createSession({
      config: { ...config, alertOnUnknownSyscall: true, baselineSyscalls: ['socket', 'connect', 'dup2'] },
      rules: false,
    });
    const joined = both.analyzeRun(odd);
    expect(joined.kind === 'alert' && joined.alerts.map((a) => a.type)).toEqual([
      'unknown_syscall',
      'sequence_anomaly',
    ]);
  });

  it('alerts on a process the scorer pushed out past its cap of open processes when it is pushed out, not at the end', () => {
    const model = openReadCloseModel();
    const session = createSession({
      config: { sequenceModel: model as never, alertOnUnknownSyscall: false },
      rules: false,
    });
    // Fewer calls than a window: judged only at its end. Then 5 000 other processes start
    // (an audit log has no exits), and the odd one, the least recently active, is pushed out.
    session.analyze(
      Array.from({ length: 10 }, (_, i) => `9 ${['socket', 'connect', 'dup2', 'execve'][i % 4]}(3) = 0`),
    );
    const crowd = session.analyze(Array.from({ length: 5000 }, (_, i) => `${100 + i} openat(3) = 0`));
    expect(crowd.kind).toBe('alert');
    const pushed = session.summary().alerts.find((a) => a.type === 'sequence_anomaly' && a.pid === 9);
    expect(pushed).toBeDefined();
  });

  it('alerts once per process, not per pid: a pid that execs another program, or is handed to a new process, alerts again', () => {
    // Two programs learned, both normally open, read and close.
    const learner = new SequenceLearner();
    for (let run = 0; run < 60; run++)
      for (const exe of ['/usr/bin/a', '/usr/bin/b']) {
        const pid = run + (exe === '/usr/bin/a' ? 1000 : 2000);
        for (let i = 0; i < 30 + (run % 7); i++)
          learner.observeCall(pid, exe, ['openat', 'read', 'close'][i % 3] as string);
      }
    learner.endTrace();
    const config = { sequenceModel: learner.toModel() as never, alertOnUnknownSyscall: false };
    const execve = (exe: string, argv: string) => `9 execve("${exe}", [${argv}], 0x7ffd0 /* 0 vars */) = 0`;
    const odd = Array.from(
      { length: 40 },
      (_, i) => `9 ${['socket', 'connect', 'dup2', 'getpid'][i % 4]}(3) = 0`,
    );
    const alertsOf = (lines: string[]) => {
      const verdict = createSession({ config, rules: false }).analyzeRun(lines.join('\n'));
      return (verdict.kind === 'alert' ? verdict.alerts : [])
        .filter((a) => a.type === 'sequence_anomaly')
        .map((a) => [a.pid, a.process?.exe, a.process?.argv?.join(' ')]);
    };
    // The odd process execs another program, which is odd too.
    expect(alertsOf([execve('/usr/bin/a', '"a"'), ...odd, execve('/usr/bin/b', '"b"'), ...odd])).toEqual([
      [9, '/usr/bin/a', 'a'],
      [9, '/usr/bin/b', 'b'],
    ]);
    // The odd process exits and its pid goes to a new one, odd as well.
    const exit = '9 +++ exited with 0 +++';
    expect(
      alertsOf([
        execve('/usr/bin/a', '"a"'),
        ...odd,
        exit,
        execve('/usr/bin/a', '"a", "again"'),
        ...odd,
        exit,
      ]),
    ).toEqual([
      [9, '/usr/bin/a', 'a'],
      [9, '/usr/bin/a', 'a again'],
    ]);
  });

  it('counts every target of merged alerts', () => {
    const session = createSession({ config: { ...BASELINE, ...fixedClock } });
    session.analyze(
      [
        'openat(AT_FDCWD, "/a", O_RDONLY) = -1 EACCES (Permission denied)',
        'openat(AT_FDCWD, "/b", O_RDONLY) = -1 EACCES (Permission denied)',
      ].join('\n'),
    );
    // Paths come from the context tracker; without it the alert has none to count.
    const group = session.summary().groups.find((g) => g.type === 'denied_syscall')!;
    expect(group.events).toBe(2);
  });

  it('names an open through a symlink by the link and the file (strace -y), so the target says what was read', () => {
    const session = createSession();
    session.analyze(
      [
        'execve("/usr/bin/cat", ["cat", "./k"], 0x7ffd /* 1 var */) = 0',
        'openat(AT_FDCWD</work>, "./k", O_RDONLY) = 3</root/.ssh/id_rsa>',
        'openat(AT_FDCWD</work>, "./j", O_RDONLY) = 3</root/.ssh/id_ed25519>',
      ].join('\n'),
    );
    const group = session.summary().groups.find((g) => g.rule === 'Read SSH private key')!;
    expect(group.first).toMatchObject({ paths: ['/work/k'], opened: '/root/.ssh/id_rsa' });
    expect(group.targets.map((t) => t.target)).toEqual([
      '/work/k → /root/.ssh/id_rsa',
      '/work/j → /root/.ssh/id_ed25519',
    ]);
  });
});

describe('refusedAtEntry', () => {
  it('refuses dangerous calls outside a learned baseline exactly like the default policy', () => {
    // A learned baseline names no dangerous syscalls: the built-in list still applies.
    const learned = { baselineSyscalls: ['read', 'write'], learned: { events: 2 } };
    const refused = refusedAtEntry(learned, 'high');
    expect(refused).toContain('personality');
    expect(refused).toContain('ptrace');
    expect(refused.length).toBe(new Set(DEFAULT_DANGEROUS_SYSCALLS).size);
    // snake_case keys are read too.
    expect(refusedAtEntry({ forbidden_syscalls: ['getpid'] }, 'critical')).toContain('getpid');
    // What the baseline allows is not refused; nothing is below the threshold.
    expect(refusedAtEntry({ baselineSyscalls: ['ptrace'] }, 'high')).not.toContain('ptrace');
    expect(refusedAtEntry(learned, 'critical')).toContain('ptrace');
    expect(refusedAtEntry({ enabled: false }, 'high')).toEqual([]);
  });

  it('composes a policy with a learned baseline', () => {
    const merged = mergeConfigs(
      configLayer({ forbiddenSyscalls: ['kcmp'] }, 'policy'),
      configLayer({ baseline_syscalls: ['read'] }, 'baseline'),
    );
    const session = createSession({ config: merged });
    expect(session.refusedAtEntry('high')).toContain('kcmp');
    expect(session.config.baselineSyscalls).toEqual(['read']);
  });
});

describe('onlyAllowedAtEntry', () => {
  const learned = {
    baselineSyscalls: ['read', 'write', 'execve'],
    programs: { '/usr/bin/curl': { baselineSyscalls: ['read', 'socket', 'connect'] } },
  };

  it('lets run only the calls some baseline knows when every other call alerts at the threshold', () => {
    // unknown_syscall is medium by default: enforcing at medium, every unknown call kills.
    expect(onlyAllowedAtEntry(learned, 'medium')).toEqual(['connect', 'execve', 'read', 'socket', 'write']);
    expect(createSession({ config: learned }).onlyAllowedAtEntry('low')).toEqual([
      'connect',
      'execve',
      'read',
      'socket',
      'write',
    ]);
  });

  it('is undefined where an unknown call would not kill: above its severity, unknown calls not alerted, detector off', () => {
    expect(onlyAllowedAtEntry(learned, 'high')).toBeUndefined();
    expect(onlyAllowedAtEntry({ ...learned, severity: { unknown_syscall: 'high' } }, 'high')).toEqual([
      'connect',
      'execve',
      'read',
      'socket',
      'write',
    ]);
    expect(onlyAllowedAtEntry({ ...learned, alertOnUnknownSyscall: false }, 'info')).toBeUndefined();
    expect(onlyAllowedAtEntry({ ...learned, enabled: false }, 'info')).toBeUndefined();
  });
});

describe('detector time', () => {
  it('ignores an implausible event time instead of freezing the clock (1e300)', () => {
    const detector = new SyscallAnomalyDetector({
      baselineSyscalls: ['read'],
      maxAlertsPerMinute: 2,
      alertCooldownSecs: 20,
      timeSource: 'event',
    });
    const at = (t: number) => ({
      kind: 'syscall' as const,
      syscall: 'getpid',
      denied: false,
      raw: 'x',
      source: 'audit' as const,
      time: t,
    });
    detector.observe(at(1_700_000_000_000));
    detector.observe(at(1e300));
    detector.observe(at(1_700_000_001_000));
    // Budget spent: cooling down for 20 s of event time…
    expect(detector.observe(at(1_700_000_002_000)).kind).toBe('suppressed');
    // …and event time still moves: two minutes later alerts flow again.
    expect(detector.observe(at(1_700_000_130_000)).kind).toBe('alert');
    expect(detector.stats().rejectedTimes).toBe(1);
  });
});

describe('analyzeStream', () => {
  it('is built on the session and returns its summary', async () => {
    async function* chunks() {
      yield 'read(3, "", 1) = 0\n';
      yield 'ptrace(PTRACE_TRACEME) = 0\n';
    }
    const it = analyzeStream(chunks(), { config: { ...BASELINE, ...fixedClock } });
    const verdicts = [];
    let step = await it.next();
    while (!step.done) {
      verdicts.push(step.value);
      step = await it.next();
    }
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]!.verdict.kind).toBe('alert');
    expect(step.value.parse.lines).toBe(2);
    expect(step.value.session.groups[0]!.severity).toBe('critical');
  });
});

describe('a sequence model learned from too few runs', () => {
  it('does not score its program: one run says nothing about what 1 % of normal runs do', () => {
    const run = (pid: number, calls: string[]) =>
      parseRecords(calls.map((c) => `${pid} ${c}(3) = 0`).join('\n')).filter(
        (r) => r.kind === 'syscall',
      ) as SyscallEvent[];
    const once = Array.from({ length: 30 }, (_, i) => ['openat', 'read', 'close'][i % 3]!);
    const model = learnSequenceModel([run(1, once)]);
    const session = createSession({
      config: { sequenceModel: model as never, alertOnUnknownSyscall: false },
    });
    session.analyze(
      run(2, [...once.slice(0, 10), 'mmap', ...once.slice(10)])
        .map((e) => e.raw)
        .join('\n'),
    );
    session.end();
    expect(session.summary().alerts.filter((a) => a.type === 'sequence_anomaly')).toEqual([]);
  });
});
