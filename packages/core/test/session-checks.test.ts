import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSession, type SessionAlert, type SessionSummary } from '../src/index.js';
import { corpusFiles, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

/** Every alert of one whole text, judged by a session with a permissive baseline. */
function alertsOf(text: string): SessionAlert[] {
  return summaryOf(text).alerts;
}

function summaryOf(text: string): SessionSummary {
  const session = createSession({ config: { alertOnUnknownSyscall: false, maxAlertsPerMinute: 0 } });
  session.analyze(text);
  session.end();
  return session.summary();
}

describe('built-in checks', () => {
  it('alerts an AppArmor denial that has no SYSCALL record, naming the path and the profile', () => {
    const alerts = alertsOf(
      'type=AVC msg=audit(1700000000.123:42): apparmor="DENIED" operation="open" profile="/usr/bin/evince" name="/etc/shadow" pid=812 comm="evince" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0\n',
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      type: 'access_denied',
      severity: 'high',
      message: 'apparmor denied open /etc/shadow (profile /usr/bin/evince)',
      paths: ['/etc/shadow'],
      pid: 812,
      line: 1,
    });
  });

  it('marks complain-mode and permissive records "would deny", at a lower severity, never denied', () => {
    const alerts = alertsOf(
      [
        'type=AVC msg=audit(1449442292.901:961): apparmor="ALLOWED" operation="open" profile="/usr/sbin/httpd" name="/srv/x" pid=8527 comm="httpd"',
        'type=AVC msg=audit(1170021493.977:293): avc:  denied  { read write } for  pid=13010 comm="pickup" name="maildrop" scontext=system_u:system_r:postfix_pickup_t:s0 tcontext=system_u:object_r:postfix_spool_maildrop_t:s0 tclass=dir permissive=1',
      ].join('\n'),
    );
    expect(alerts.map((a) => [a.type, a.severity])).toEqual([
      ['would_deny', 'medium'],
      ['would_deny', 'medium'],
    ]);
    expect(alerts[0]!.message).toContain('(complain mode)');
    expect(alerts[1]!.message).toContain('(permissive)');
  });

  it('alerts a process killed by seccomp (SIGSYS) or a crash, not one stopped by SIGKILL', () => {
    const alerts = alertsOf(
      [
        '123 +++ killed by SIGSYS (core dumped) +++',
        '124 +++ killed by SIGSEGV +++',
        '125 +++ killed by SIGKILL +++',
      ].join('\n'),
    );
    expect(alerts.map((a) => [a.type, a.signal, a.pid])).toEqual([
      ['process_crashed', 'SIGSYS', 123],
      ['process_crashed', 'SIGSEGV', 124],
    ]);
    expect(alerts[0]!.message).toContain('seccomp');
  });

  it('alerts ANOM_ABEND with the program and signal, and audit rule removal as tampering', () => {
    const alerts = alertsOf(
      [
        'type=ANOM_ABEND msg=audit(1795853884.715:140): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=12490 comm="seccompdemo" exe="/tmp/stw/bin/seccompdemo" sig=31 res=1',
        'type=CONFIG_CHANGE msg=audit(1492732670.795:141): auid=1001 ses=67 op="remove_rule" key="key=container-create" list=4 res=1',
        'type=CONFIG_CHANGE msg=audit(1492732670.795:142): auid=1001 ses=67 op=add_rule key="exec" list=4 res=1',
      ].join('\n'),
    );
    expect(alerts.map((a) => [a.type, a.severity, a.message])).toEqual([
      ['process_crashed', 'high', 'process crashed: /tmp/stw/bin/seccompdemo (SIGSYS)'],
      ['audit_tampering', 'high', 'audit rules changed (remove_rule, key "key=container-create")'],
      ['audit_tampering', 'low', 'audit rules changed (add_rule, key "exec")'],
    ]);
  });

  it('alerts audit settings that make the kernel drop events, the setup for a flood that hides a call', () => {
    const change = (n: number, fields: string) =>
      `type=CONFIG_CHANGE msg=audit(1700000000.100:${n}): op=set ${fields} auid=1000 ses=1 subj=unconfined res=1`;
    const alerts = alertsOf(
      [
        change(42, 'audit_backlog_limit=1 old=8192'),
        change(43, 'audit_rate_limit=1 old=0'),
        change(44, 'audit_failure=0 old=1'),
        change(45, 'audit_backlog_wait_time=0 old=60000'),
        change(46, 'audit_pid=0 old=812'),
        // Boot: raising the backlog, registering auditd.
        change(47, 'audit_backlog_limit=8192 old=64'),
        change(48, 'audit_pid=812 old=0'),
      ].join('\n'),
    );
    expect(alerts.map((a) => [a.type, a.severity, a.message])).toEqual([
      [
        'audit_tampering',
        'high',
        'audit backlog limit lowered (audit_backlog_limit 8192 → 1): the kernel drops events past it',
      ],
      [
        'audit_tampering',
        'high',
        'audit rate limit set (audit_rate_limit 0 → 1): the kernel drops events past 1 a second',
      ],
      [
        'audit_tampering',
        'high',
        'audit failures made silent (audit_failure 1 → 0): lost events go unreported',
      ],
      [
        'audit_tampering',
        'high',
        'audit backlog wait shortened (audit_backlog_wait_time 60000 → 0): the kernel drops events sooner',
      ],
      [
        'audit_tampering',
        'high',
        'audit daemon unregistered (audit_pid 812 → 0): events no longer reach the log',
      ],
      ['audit_tampering', 'low', 'audit rules changed (set)'],
      ['audit_tampering', 'low', 'audit rules changed (set)'],
    ]);
  });

  it('reads the same from the record when the event is auditctl’s syscall (auditctl -r 100)', () => {
    const alerts = alertsOf(
      [
        'type=CONFIG_CHANGE msg=audit(1700000000.200:60): op=set audit_rate_limit=100 old=0 auid=1000 ses=1 res=1',
        'type=SYSCALL msg=audit(1700000000.200:60): arch=c000003e syscall=44 success=yes exit=60 a0=3 a1=7ffd a2=3c a3=0 items=0 ppid=1 pid=4000 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)',
        'type=PROCTITLE msg=audit(1700000000.200:60): proctitle=617564697463746C002D7200313030',
        'type=EOE msg=audit(1700000000.200:60): ',
      ].join('\n'),
    );
    expect(alerts.map((a) => [a.type, a.severity, a.message])).toEqual([
      [
        'audit_tampering',
        'high',
        'audit rate limit set (audit_rate_limit 0 → 100): the kernel drops events past 100 a second',
      ],
    ]);
  });

  it('can be turned off (the seed detector alone)', () => {
    const session = createSession({ builtinChecks: false });
    expect(session.analyze('1 +++ killed by SIGSYS +++\n').kind).toBe('clean');
  });
});

describe.skipIf(!hasCorpus)('built-in checks on the corpus', () => {
  it('alerts every AppArmor test-suite log that holds a DENIED, ALLOWED, REJECTING or PERMITTING record', () => {
    const files = corpusFiles('audit/apparmor-testsuite').filter(([, path]) =>
      /apparmor="(?:DENIED|ALLOWED)"|\b(?:REJECTING|PERMITTING)\b/.test(readFileSync(path, 'latin1')),
    );
    expect(files.length).toBeGreaterThan(30);
    // Each alerts, or (a record whose stamp is mangled) is reported as unreadable: never silent.
    // Pre-2.6 complain-mode logs say PERMITTING: "would deny" too.
    const silent = files.filter(([, path]) => {
      const s = summaryOf(readFileSync(path, 'latin1'));
      return (
        !s.alerts.some((a) => ['access_denied', 'denied_syscall', 'would_deny'].includes(a.type)) &&
        s.parseIssues.count === 0
      );
    });
    expect(silent.map(([name]) => name)).toEqual([]);
  });
});

if (!hasCorpus) it.skip(corpusSkipReason, () => {});

describe('alertJsonSchema', () => {
  it('names every field an alert can carry, and every alert type', async () => {
    const { alertJsonSchema, ALERT_TYPES } = await import('../src/index.js');
    const props = (alertJsonSchema as { properties: Record<string, { enum?: unknown[] }> }).properties;
    expect(props.type!.enum).toEqual([...ALERT_TYPES]);
    const alert = alertsOf(
      'type=AVC msg=audit(1700000000.123:42): apparmor="DENIED" operation="open" profile="/usr/bin/x" name="/etc/shadow" pid=812 comm="x"\n',
    )[0]!;
    for (const key of Object.keys(alert)) expect(props).toHaveProperty([key]);
  });
});

describe('audit tampering inside an auditctl event', () => {
  it('reads what the change did from the auditctl command its SYSCALL event carries', () => {
    const event = (serial: number, args: string[]) =>
      [
        `type=CONFIG_CHANGE msg=audit(1795853884.639:${serial}): auid=4294967295 ses=4294967295 op=${serial === 8 ? 'add_rule' : 'remove_rule'} key="exec" list=4 res=1`,
        `type=SYSCALL msg=audit(1795853884.639:${serial}): arch=c000003e syscall=44 success=yes exit=1060 a0=4 a1=7ffd a2=424 a3=0 items=0 ppid=1 pid=12434 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=4294967295 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)`,
        `type=PROCTITLE msg=audit(1795853884.639:${serial}): proctitle=${Buffer.from(args.join('\0')).toString('hex').toUpperCase()}`,
        `type=EOE msg=audit(1795853884.639:${serial}):`,
      ].join('\n');
    const alerts = alertsOf(
      `${event(8, ['auditctl', '-a', 'always,exit', '-S', 'execve'])}\n${event(9, ['auditctl', '-D'])}\n`,
    ).filter((a) => a.type === 'audit_tampering');
    expect(alerts.map((a) => a.severity)).toEqual(['low', 'high']);
    expect(alerts[1]!.message).toBe('audit rules changed (remove_rule, key "exec")');
    expect(alerts[1]!.process?.argv).toEqual(['auditctl', '-D']);
  });

  it('three rules removed in one event: one alert that counts them', () => {
    const serial = 20;
    const alerts = alertsOf(
      [
        ...['exec', 'access', 'shadow'].map(
          (key) =>
            `type=CONFIG_CHANGE msg=audit(1795853884.639:${serial}): auid=1000 ses=3 op=remove_rule key="${key}" list=4 res=1`,
        ),
        `type=SYSCALL msg=audit(1795853884.639:${serial}): arch=c000003e syscall=44 success=yes exit=1060 a0=4 a1=7ffd a2=424 a3=0 items=0 ppid=1 pid=12434 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)`,
        `type=PROCTITLE msg=audit(1795853884.639:${serial}): proctitle=617564697463746C002D44`,
        `type=EOE msg=audit(1795853884.639:${serial}):`,
      ].join('\n'),
    ).filter((a) => a.type === 'audit_tampering');
    expect(alerts.map((a) => [a.severity, a.message])).toEqual([
      ['high', 'audit rules changed (remove_rule, key "exec", and 2 more changes in the event)'],
    ]);
  });

  it('one send that adds a rule and switches auditing off: judged by the worst of its changes', () => {
    // A program's sendto can carry several netlink messages: one event, a CONFIG_CHANGE each.
    const event = (changes: string[]) =>
      [
        ...changes.map((c) => `type=CONFIG_CHANGE msg=audit(1700000200.100:77): ${c}`),
        'type=SYSCALL msg=audit(1700000200.100:77): arch=c000003e syscall=44 success=yes exit=2000 a0=3 a1=7ffc a2=7d0 a3=0 items=0 ppid=100 pid=4343 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="python3" exe="/usr/bin/python3.11" key=(null)',
        'type=EOE msg=audit(1700000200.100:77): ',
      ].join('\n');
    const add = 'auid=1000 ses=3 op=add_rule key="decoy" list=4 res=1';
    const off = 'op=set audit_enabled=0 old=1 auid=1000 ses=3 res=1';
    const mixed = alertsOf(event([add, off])).filter((a) => a.type === 'audit_tampering');
    expect(mixed.map((a) => [a.severity, a.message])).toEqual([['high', 'auditing disabled']]);
    // Past the records kept (8), rule loads alone are not taken as routine: what came after is unread.
    const many = alertsOf(event(Array.from({ length: 12 }, () => add))).filter(
      (a) => a.type === 'audit_tampering',
    );
    expect(many.map((a) => [a.severity, a.details?.reason])).toEqual([['high', 'config_changed']]);
    // A few rule loads in one send are what they say.
    const few = alertsOf(event([add, add])).filter((a) => a.type === 'audit_tampering');
    expect(few.map((a) => [a.severity, a.message])).toEqual([
      ['low', 'audit rules changed (add_rule, key "decoy", and 1 more change in the event)'],
    ]);
  });

  it('any program’s own netlink message (not auditctl): what it did comes from the CONFIG_CHANGE record', () => {
    // What a program that talks to the audit netlink socket itself leaves (python3 /tmp/x.py,
    // no auditctl in its argv): the removal of the rule keyed "shadow", then auditing off.
    const event = (serial: number, change: string) =>
      [
        `type=CONFIG_CHANGE msg=audit(1700000100.200:${serial}): ${change}`,
        `type=SYSCALL msg=audit(1700000100.200:${serial}): arch=c000003e syscall=44 success=yes exit=1072 a0=3 a1=7ffc a2=430 a3=0 items=0 ppid=100 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="python3" exe="/usr/bin/python3.11" key=(null)`,
        `type=PROCTITLE msg=audit(1700000100.200:${serial}): proctitle=707974686F6E33002F746D702F782E7079`,
        `type=EOE msg=audit(1700000100.200:${serial}): `,
      ].join('\n');
    const log = [
      event(901, 'auid=1000 ses=3 subj=unconfined op=remove_rule key="shadow" list=4 res=1'),
      event(902, 'op=set audit_enabled=0 old=1 auid=1000 ses=3 subj=unconfined res=1'),
      event(903, 'op=set audit_backlog_limit=1 old=8192 auid=1000 ses=3 subj=unconfined res=1'),
    ].join('\n');
    const alerts = alertsOf(log).filter((a) => a.type === 'audit_tampering');
    expect(alerts.map((a) => [a.severity, a.message, a.key])).toEqual([
      ['high', 'audit rules changed (remove_rule, key "shadow")', 'shadow'],
      ['high', 'auditing disabled', undefined],
      ['high', expect.stringMatching(/^audit backlog limit lowered/), undefined],
    ]);
    expect(alerts[0]!.process).toMatchObject({ exe: '/usr/bin/python3.11', argv: ['python3', '/tmp/x.py'] });
    // Each kind of change is its own entry of a report: "auditing disabled" is not folded
    // under the rule change before it.
    expect(alerts.map((a) => a.details?.reason)).toEqual([
      'rules_removed',
      'auditing_disabled',
      'setting_weakened',
    ]);
    expect(summaryOf(log).groups.filter((g) => g.type === 'audit_tampering')).toHaveLength(3);
  });
});

describe('a permissive SELinux AVC on a call that succeeded', () => {
  it('is "would deny", never "denied syscall" with errno ?', () => {
    const alerts = alertsOf(
      [
        'type=AVC msg=audit(1700000000.100:7): avc:  denied  { execute } for  pid=900 comm="sh" name="ls" dev="dm-0" ino=1 scontext=user_u:user_r:user_t:s0 tcontext=system_u:object_r:bin_t:s0 tclass=file',
        'type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=899 pid=900 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="ls" exe="/usr/bin/ls" key=(null)',
        'type=EOE msg=audit(1700000000.100:7):',
      ].join('\n'),
    );
    expect(alerts.map((a) => a.type)).toEqual(['would_deny']);
    expect(alerts[0]!.syscall).toBe('execve');
  });
});
