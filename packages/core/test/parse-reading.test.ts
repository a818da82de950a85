import { describe, expect, it } from 'vitest';
import { createParser, parseRecords } from '../src/parse/index.js';
import type { AuditRecordEvent, ParsedRecord, SyscallEvent } from '../src/types.js';

/** Reading gaps found on real-world logs (issue 11), each with a line shaped like the original. */

const syscalls = (records: ParsedRecord[]) => records.filter((r): r is SyscallEvent => r.kind === 'syscall');
const audits = (records: ParsedRecord[]) => records.filter((r): r is AuditRecordEvent => r.kind === 'audit');

describe('audit: records and their grouping', () => {
  it('two records on one line keep their grouping, node= prefixes included (CWD not split off)', () => {
    const text = [
      'node=web01 type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="cat" exe="/bin/cat" key="sshd_config" node=web01 type=CWD msg=audit(1364481363.243:24287):  cwd="/home/shadowman"',
      'node=web01 type=PATH msg=audit(1364481363.243:24287): item=0 name="/etc/ssh/sshd_config" inode=409248 dev=fd:00 mode=0100600 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
      'node=web01 type=EOE msg=audit(1364481363.243:24287): ',
    ].join('\n');
    const records = parseRecords(text, { source: 'audit' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      kind: 'syscall',
      syscall: 'open',
      denied: true,
      host: 'web01',
      audit: { cwd: '/home/shadowman', paths: ['/etc/ssh/sshd_config'], key: 'sshd_config' },
    });
    expect(syscalls(records)[0]!.audit!.recordTypes).toEqual(['SYSCALL', 'CWD', 'PATH']);
  });

  it('keeps node= as the host of every event, and the same serial on two hosts stays two events', () => {
    const text = [
      'node=db1 type=USER_LOGIN msg=audit(1451781471.602:194894): pid=1321 uid=0 auid=1000 ses=1 msg=\'op=login acct="frodo" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.9 terminal=ssh res=failed\'',
      'node=db1 type=SYSCALL msg=audit(1451781471.700:7): arch=c000003e syscall=2 success=yes exit=3 pid=10 uid=0 auid=0 comm="a" exe="/a"',
      'node=db2 type=SYSCALL msg=audit(1451781471.700:7): arch=c000003e syscall=2 success=yes exit=3 pid=11 uid=0 auid=0 comm="b" exe="/b"',
    ].join('\n');
    const records = parseRecords(text, { source: 'audit' });
    expect(audits(records)[0]).toMatchObject({ host: 'db1', recordTypes: ['USER_LOGIN'] });
    expect(syscalls(records).map((e) => [e.host, e.pid])).toEqual([
      ['db1', 10],
      ['db2', 11],
    ]);
  });

  it("keeps a repeated serial's second SYSCALL record as its own event", () => {
    const text = [
      'type=SYSCALL msg=audit(1615114232.375:15558): arch=c000003e syscall=59 success=yes exit=0 a0=63b29337fd18 a1=63b293387d58 a2=63b29330e550 a3=0 items=2 ppid=1 pid=10 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="sh" exe="/bin/sh" key=(null)',
      'type=SYSCALL msg=audit(1615114232.375:15558): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=10 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="sh" exe="/bin/sh" key=(null)',
      'type=EOE msg=audit(1615114232.375:15558): ',
    ].join('\n');
    const events = syscalls(parseRecords(text, { source: 'audit' }));
    expect(events.map((e) => [e.syscall, e.denied, e.line])).toEqual([
      ['execve', false, 1],
      ['openat', true, 2],
    ]);
  });
});

describe('audit: SELinux and AppArmor verdicts', () => {
  const selinux = [
    'type=AVC msg=audit(1226874073.147:96): avc:  denied  { getattr } for  pid=2465 comm="httpd" path="/var/www/html/file1" dev=dm-0 ino=284133 scontext=unconfined_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:samba_share_t:s0 tclass=file',
    'type=AVC msg=audit(1226874073.147:96): avc:  denied  { read } for  pid=2465 comm="httpd" name="file2" dev=dm-0 ino=284134 scontext=unconfined_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:samba_share_t:s0 tclass=file',
    'type=AVC_PATH msg=audit(1226874073.147:96):  path="/var/www/html/file2"',
    'type=SYSCALL msg=audit(1226874073.147:96): arch=40000003 syscall=196 success=no exit=-13 a0=b98df198 a1=bfec85dc a2=54dff4 a3=2008171 items=0 ppid=2463 pid=2465 auid=502 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=6 comm="httpd" exe="/usr/sbin/httpd" subj=unconfined_u:system_r:httpd_t:s0 key=(null)',
    'type=EOE msg=audit(1226874073.147:96):',
  ].join('\n');

  it('keeps AVC_PATH paths and the AVC path=', () => {
    const [event] = syscalls(parseRecords(selinux, { source: 'audit' }));
    expect(event!.audit!.paths).toEqual(['/var/www/html/file2']);
    expect(event!.audit!.avc).toMatchObject({
      lsm: 'selinux',
      operation: 'getattr',
      path: '/var/www/html/file1',
    });
  });

  it('keeps a second AVC of an event in avcs', () => {
    const [event] = syscalls(parseRecords(selinux, { source: 'audit' }));
    expect(event!.audit!.avcs).toEqual([
      expect.objectContaining({ operation: 'getattr', path: '/var/www/html/file1' }),
      expect.objectContaining({ operation: 'read', name: 'file2', path: '/var/www/html/file2' }),
    ]);
  });

  it('reads the old kernel form `audit(…): type=1503 …` (stamp before type)', () => {
    const line =
      'Sep  7 17:47:53 gutsy-server kernel: [32339.774269] audit(1189201672.746:537): type=1503 operation="file_lock" requested_mask="k" denied_mask="k" name="/var/run/samba/unexpected.tdb" pid=4316 profile="/usr/sbin/nmbd"';
    const parser = createParser();
    const records = [...parser.push(line), ...parser.end()];
    expect(records).toEqual([
      expect.objectContaining({
        kind: 'audit',
        denied: true,
        pid: 4316,
        time: 1189201672746,
        serial: 537,
        recordTypes: ['APPARMOR_DENIED'],
        audit: expect.objectContaining({
          avc: {
            lsm: 'apparmor',
            result: 'DENIED',
            operation: 'file_lock',
            profile: '/usr/sbin/nmbd',
            name: '/var/run/samba/unexpected.tdb',
          },
        }),
      }),
    ]);
    expect(parser.stats.unrecognisedLines).toBe(0);
  });

  it('counts a bare `profile=` continuation line instead of dropping it silently', () => {
    const parser = createParser();
    parser.push(
      'Jun 12 10:01:02 host kernel: [ 52.1] audit: type=1400 audit(1686564062.100:88): apparmor="DENIED" operation="open" class="file"\n' +
        ' profile="/usr/bin/evince" name="/etc/shadow" pid=2101 comm="evince" requested_mask="r" denied_mask="r"\n',
    );
    parser.end();
    expect(parser.stats).toMatchObject({ lines: 2, otherRecords: 1, unrecognisedLines: 1 });
  });
});

describe('audit: SOCKADDR and --audit-fields', () => {
  const connect = [
    'type=SYSCALL msg=audit(1615150974.493:21029): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=77 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=2 comm="curl" exe=2F7573722F62696E2F6375726C20 key=(null)',
    'type=SOCKADDR msg=audit(1615150974.493:21029): saddr=02000050A9FEA9FE0000000000000000',
    'type=PROCTITLE msg=audit(1615150974.493:21029): proctitle=6375726C00687474703A2F2F3136392E3235342E3136392E3235342F',
    'type=EOE msg=audit(1615150974.493:21029): ',
  ].join('\n');

  it('keeps the raw saddr= hex in audit.saddr', () => {
    const [event] = syscalls(parseRecords(connect, { source: 'audit' }));
    expect(event).toMatchObject({ syscall: 'connect', audit: { saddr: '02000050A9FEA9FE0000000000000000' } });
  });

  it('--audit-fields decodes only the fields auditd hex-encodes', () => {
    const [event] = syscalls(parseRecords(connect, { source: 'audit', auditFields: true }));
    expect(event!.audit!.fields).toMatchObject({
      'SYSCALL.uid': '1000',
      'SYSCALL.arch': 'c000003e',
      'SYSCALL.a2': '10',
      'SYSCALL.exe': '/usr/bin/curl ',
      'SYSCALL.comm': 'curl',
      'SYSCALL.key': '(null)',
      'SOCKADDR.saddr': '02000050A9FEA9FE0000000000000000',
      'PROCTITLE.proctitle': 'curl\u0000http://169.254.169.254/',
    });
  });
});

describe('strace -Y', () => {
  it('keeps the comm as process: { pid, comm }', () => {
    const records = parseRecords(
      '15782<ls> openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3\n[pid 15783<cat>] read(3,  <unfinished ...>\n15784 close(3) = 0\n',
      { source: 'strace' },
    );
    expect(syscalls(records).map((e) => e.process)).toEqual([
      { pid: 15782, comm: 'ls' },
      undefined,
      { pid: 15783, comm: 'cat' },
    ]);
  });
});

describe('strace -ff -o PREFIX files', () => {
  it('give the pid of the file name to lines that show none (stracePid)', () => {
    const text =
      'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)\nread(3,  <unfinished ...>\n+++ exited with 1 +++\n';
    const records = parseRecords(text, { source: 'strace', stracePid: 812 });
    expect(records.map((r) => [r.kind, 'pid' in r ? r.pid : undefined])).toEqual([
      ['syscall', 812],
      ['syscall', 812],
      ['exit', 812],
    ]);
    expect(syscalls(parseRecords(text, { source: 'strace' }))[0]!.pid).toBeUndefined();
  });
});

describe('journalctl -o json exports', () => {
  it('reads MESSAGE with JSON escapes undone, rebuilding the audit head of the audit transport', () => {
    const entries = [
      {
        __CURSOR: 's=1;i=2',
        __REALTIME_TIMESTAMP: '1700000000123456',
        _TRANSPORT: 'audit',
        _AUDIT_TYPE: '1400',
        _AUDIT_TYPE_NAME: 'AVC',
        _AUDIT_ID: '321',
        _SOURCE_REALTIME_TIMESTAMP: '1700000000120000',
        _HOSTNAME: 'box',
        MESSAGE:
          'AVC apparmor="DENIED" operation="open" class="file" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=812 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
      },
      {
        _TRANSPORT: 'kernel',
        MESSAGE:
          'audit: type=1400 audit(1700000001.500:322): apparmor="DENIED" operation="exec" profile="snap.x" name="/usr/bin/nc" pid=900 comm="sh" requested_mask="x" denied_mask="x" fsuid=1000 ouid=0',
      },
      { _TRANSPORT: 'stdout', MESSAGE: 'Started Session 3 of user root.' },
    ];
    const parser = createParser();
    const records = [
      ...parser.push(`${entries.map((e) => JSON.stringify(e)).join('\n')}\n`),
      ...parser.end(),
    ];
    const events = audits(records);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      denied: true,
      serial: 321,
      time: 1700000000120,
      pid: 812,
      line: 1,
      audit: { avc: { lsm: 'apparmor', result: 'DENIED', profile: '/usr/sbin/cupsd', name: '/etc/shadow' } },
    });
    expect(events[0]!.raw).toMatch(/^type=AVC msg=audit\(1700000000\.120:321\): apparmor="DENIED"/);
    expect(events[1]).toMatchObject({ serial: 322, line: 2, audit: { avc: { name: '/usr/bin/nc' } } });
    expect(parser.stats).toMatchObject({ lines: 3, unrecognisedLines: 1 });
  });

  it('decodes a MESSAGE given as bytes, and counts JSON without MESSAGE as unrecognised', () => {
    const message = Buffer.from(
      'type=SYSCALL msg=audit(1.000:5): arch=c000003e syscall=2 success=yes exit=3 pid=4 comm="x"',
    );
    const parser = createParser();
    const records = [
      ...parser.push(`${JSON.stringify({ MESSAGE: [...message] })}\n{"PRIORITY":"6"}\n`),
      ...parser.end(),
    ];
    expect(syscalls(records)).toEqual([expect.objectContaining({ syscall: 'open', pid: 4 })]);
    expect(parser.stats.unrecognisedLines).toBe(1);
  });
});
