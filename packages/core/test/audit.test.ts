import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSession } from '../src/index.js';
import { createParser, parseRecords, parseSyscallEvents } from '../src/parse/index.js';
import { auditArgs, ptraceRequestName } from '../src/rules/syscall-args.js';
import type { AuditRecordEvent, ParsedRecord, SyscallEvent } from '../src/types.js';

const audit = (text: string, options = {}): ParsedRecord[] =>
  parseRecords(text, { source: 'audit', ...options });
const syscalls = (text: string): SyscallEvent[] =>
  audit(text).filter((r): r is SyscallEvent => r.kind === 'syscall');
const records = (text: string): AuditRecordEvent[] =>
  audit(text).filter((r): r is AuditRecordEvent => r.kind === 'audit');

describe('seed audit tests', () => {
  it('type=SYSCALL with a number is execve, not denied', () => {
    const events = parseSyscallEvents('type=SYSCALL msg=audit(1234): arch=c000003e syscall=59 success=yes');
    expect(events).toHaveLength(1);
    expect(events[0]!.syscall).toBe('execve');
    expect(events[0]!.denied).toBe(false);
  });
  it('audit: seccomp syscall=101 action=blocked denied → ptrace denied', () => {
    const events = parseSyscallEvents('audit: seccomp syscall=101 action=blocked denied');
    expect(events.map((e) => [e.syscall, e.denied])).toEqual([['ptrace', true]]);
  });
  it('seccomp: syscall=connect denied → connect denied', () => {
    const events = parseSyscallEvents('seccomp: syscall=connect denied');
    expect(events.map((e) => [e.syscall, e.denied])).toEqual([['connect', true]]);
  });
});

describe('seed defect 3: syscall numbers resolve through arch=', () => {
  it('x86_64 262 is newfstatat (the seed left "262")', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=262 success=yes exit=0',
    );
    expect(e!.syscall).toBe('newfstatat');
    expect(e!.nr).toBe(262);
    expect(e!.arch).toBe('x86_64');
  });
  it('aarch64 56 is openat (the seed said clone)', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(1700000000.000:2): arch=c00000b7 syscall=56 success=yes exit=3',
    );
    expect([e!.syscall, e!.arch]).toEqual(['openat', 'aarch64']);
  });
  it('i386 5 is open', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(1700000000.000:3): arch=40000003 syscall=5 success=yes exit=3',
    );
    expect([e!.syscall, e!.arch]).toEqual(['open', 'i386']);
  });
  it('a SECCOMP record from a 32-bit process (go-libaudit) resolves on i386', () => {
    const [e] = syscalls(
      'type=SECCOMP msg=audit(1433785727.186:10262): auid=20003 uid=22 gid=22 ses=21 pid=11217 comm="sshd" exe="/usr/sbin/sshd" sig=31 arch=40000003 syscall=132 compat=0 ip=0xb7670aac code=0x0',
    );
    expect([e!.syscall, e!.arch, e!.denied, e!.audit?.seccompAction]).toEqual([
      'getpgid',
      'i386',
      true,
      'kill_thread',
    ]);
  });
  it('x32 numbers on x86_64 use the x32 table', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(1700000000.000:4): arch=c000003e syscall=1073741824 success=yes exit=0',
    );
    expect([e!.syscall, e!.arch]).toEqual(['read', 'x32']);
  });
  it('interpreted names map to kernel names (ausearch -i pread → pread64)', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(11/28/26 08:18:04.715:138) : arch=x86_64 syscall=pread success=yes exit=8 pid=1 auid=unset uid=root comm=cat exe=/usr/bin/cat key=(null) ',
    );
    expect([e!.syscall, e!.nr, e!.audit?.auid]).toEqual(['pread64', 17, 4294967295]);
    expect(e!.time).toBe(Date.UTC(2026, 10, 28, 8, 18, 4, 715));
  });
});

describe('denials come from the record fields', () => {
  it('success=no exit=-13 is denied with errno EACCES (the seed said not denied)', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(1795853884.727:180): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 ppid=1 pid=7 auid=4294967295 uid=65534 comm="cat" exe="/usr/bin/cat" key="access"',
    );
    expect([e!.syscall, e!.denied, e!.errno, e!.ret, e!.audit?.exit, e!.audit?.success]).toEqual([
      'openat',
      true,
      'EACCES',
      '-13',
      -13,
      false,
    ]);
  });
  it('success=no exit=-2 is a failure, not a denial; deniedErrnos is configurable', () => {
    const line = 'type=SYSCALL msg=audit(1.000:5): arch=c000003e syscall=257 success=no exit=-2 pid=3';
    expect(syscalls(line)[0]).toMatchObject({ denied: false, errno: 'ENOENT' });
    const [e] = parseRecords(line, { source: 'audit', deniedErrnos: ['ENOENT'] });
    expect(e).toMatchObject({ kind: 'syscall', denied: true });
  });
  it('ausearch -i exit=EACCES(Permission denied) is denied', () => {
    const [e] = syscalls(
      'type=SYSCALL msg=audit(11/28/26 08:18:04.727:180) : arch=x86_64 syscall=openat success=no exit=EACCES(Permission denied) a0=AT_FDCWD pid=7 ',
    );
    expect([e!.denied, e!.errno, e!.audit?.exit]).toEqual([true, 'EACCES', -13]);
  });
  it('SECCOMP actions: kill/errno/trap block, log/allow do not', () => {
    const rec = (serial: number, code: string, sig = 0) =>
      `type=SECCOMP msg=audit(1.5:${serial}): auid=0 uid=0 pid=9 comm="x" sig=${sig} arch=c000003e syscall=101 compat=0 ip=0x1 code=${code}`;
    const events = syscalls(
      [
        rec(1, '0x80000000', 31),
        rec(2, '0x50001'),
        rec(3, '0x7ffc0000'),
        rec(4, '0x7fff0000'),
        rec(5, '0x30000'),
      ].join('\n'),
    );
    expect(events.map((e) => [e.audit?.seccompAction, e.denied, e.errno])).toEqual([
      ['kill_process', true, undefined],
      ['errno', true, 'EPERM'],
      ['log', false, undefined],
      ['allow', false, undefined],
      ['trap', true, undefined],
    ]);
  });
  it('an AVC denial in the same serial makes the syscall denied', () => {
    const text = [
      'type=AVC msg=audit(1767225600.100:77): avc:  denied  { read } for  pid=42 comm="httpd" name="shadow" dev="dm-0" ino=9 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
      'type=SYSCALL msg=audit(1767225600.100:77): arch=c000003e syscall=257 success=no exit=-13 pid=42 comm="httpd"',
      'type=EOE msg=audit(1767225600.100:77):',
    ].join('\n');
    const out = audit(text);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'syscall', syscall: 'openat', denied: true });
    expect((out[0] as SyscallEvent).audit?.avc).toEqual({
      lsm: 'selinux',
      result: 'denied',
      operation: 'read',
      profile: 'system_u:system_r:httpd_t:s0',
      name: 'shadow',
    });
  });
  it('an AppArmor AVC without SYSCALL is a denied audit record (laurel record-avc-apparmor)', () => {
    const [r] = records(
      'type=AVC msg=audit(1279948288.415:39): apparmor="DENIED" operation="open" parent=12332 profile="/usr/sbin/cupsd" name="/home/user/.ssh/" pid=12333 comm="ls" requested_mask="r" denied_mask="r" fsuid=0 ouid=1000',
    );
    expect(r).toMatchObject({ denied: true, pid: 12333, serial: 39, recordTypes: ['AVC'] });
    expect(r!.audit.avc).toEqual({
      lsm: 'apparmor',
      result: 'DENIED',
      operation: 'open',
      profile: '/usr/sbin/cupsd',
      name: '/home/user/.ssh/',
    });
  });
  it('AppArmor ALLOWED (complain mode) and SELinux permissive=1 are not denials', () => {
    const out = records(
      [
        'type=AVC msg=audit(1279968846.035:77): apparmor="ALLOWED" operation="open" parent=7014 profile="/tmp/cat" name="/etc/passwd" pid=21645 comm="cat"',
        'type=AVC msg=audit(1279968846.036:78): avc:  denied  { read } for  pid=1 comm="x" scontext=a tcontext=b tclass=file permissive=1',
      ].join('\n'),
    );
    expect(out.map((r) => r.denied)).toEqual([false, false]);
  });
});

describe('record forms', () => {
  it('groups a multi-record event and decodes hex proctitle, argv, cwd and paths (seed defect 4)', () => {
    const text = [
      'type=SYSCALL msg=audit(1795853884.639:9): arch=c000003e syscall=59 success=yes exit=0 a0=560bdf5973f0 items=2 ppid=12427 pid=12436 auid=4294967295 uid=0 comm="auditctl" exe="/usr/sbin/auditctl" key="exec"',
      'type=EXECVE msg=audit(1795853884.639:9): argc=3 a0="auditctl" a1="-b" a2=6869206D6F6D',
      'type=CWD msg=audit(1795853884.639:9): cwd="/root"',
      'type=PATH msg=audit(1795853884.639:9): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=338944',
      'type=PATH msg=audit(1795853884.639:9): item=0 name="/usr/sbin/auditctl" inode=15884290',
      'type=PROCTITLE msg=audit(1795853884.639:9): proctitle=617564697463746C002D620038313932',
      'type=EOE msg=audit(1795853884.639:9):',
    ].join('\n');
    const out = audit(text);
    expect(out).toHaveLength(1);
    const e = out[0] as SyscallEvent;
    expect(e).toMatchObject({
      syscall: 'execve',
      pid: 12436,
      time: 1795853884639,
      line: 1,
      raw: text.split('\n')[0],
    });
    expect(e.audit).toMatchObject({
      serial: 9,
      recordTypes: ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PATH', 'PROCTITLE'],
      argv: ['auditctl', '-b', 'hi mom'],
      cwd: '/root',
      paths: ['/usr/sbin/auditctl', '/lib64/ld-linux-x86-64.so.2'],
      proctitle: 'auditctl -b 8192',
      exe: '/usr/sbin/auditctl',
      comm: 'auditctl',
      key: 'exec',
      uid: 0,
      auid: 4294967295,
    });
  });

  it('joins EXECVE a1_len / a1[i] chunks across records (laurel record-execve-long)', () => {
    const chunk = (s: string) => Buffer.from(s).toString('hex').toUpperCase();
    const text = [
      'type=SYSCALL msg=audit(1615150974.493:21028): arch=c000003e syscall=59 success=yes exit=0 pid=8832 comm="echo"',
      `type=EXECVE msg=audit(1615150974.493:21028): argc=2 a0="/bin/echo" a1_len=12 a1[0]=${chunk('hello ')}`,
      `type=EXECVE msg=audit(1615150974.493:21028):  a1[1]=${chunk('world!')}`,
      'type=EOE msg=audit(1615150974.493:21028):',
    ].join('\n');
    expect(syscalls(text)[0]!.audit?.argv).toEqual(['/bin/echo', 'hello world!']);
  });

  it('groups out-of-order records and completes events without EOE', () => {
    const text = [
      'type=PROCTITLE msg=audit(1.000:10): proctitle="sh"',
      'type=SYSCALL msg=audit(1.000:11): arch=c000003e syscall=57 success=yes exit=5 pid=2',
      'type=SYSCALL msg=audit(1.000:10): arch=c000003e syscall=59 success=yes exit=0 pid=1',
      'type=CWD msg=audit(1.000:11): cwd="/tmp"',
      'type=CWD msg=audit(1.000:10): cwd="/"',
    ].join('\n');
    const out = syscalls(text);
    expect(out.map((e) => [e.audit?.serial, e.syscall, e.audit?.cwd])).toEqual([
      [10, 'execve', '/'],
      [11, 'fork', '/tmp'],
    ]);
    expect(out[0]!.audit?.proctitle).toBe('sh');
  });

  it('emits a held event once later records show it is over (streaming)', () => {
    const parser = createParser({ source: 'audit' });
    parser.push('type=SYSCALL msg=audit(100.000:1): arch=c000003e syscall=0 success=yes exit=1 pid=1\n');
    let out: ParsedRecord[] = [];
    // 2 s of audit time later, the first event is complete.
    out = parser.push(
      'type=SYSCALL msg=audit(103.000:2): arch=c000003e syscall=1 success=yes exit=1 pid=1\n',
    );
    expect(out.map((r) => r.kind === 'syscall' && r.syscall)).toEqual(['read']);
    expect(parser.end().map((r) => r.kind === 'syscall' && r.syscall)).toEqual(['write']);
  });

  it('keeps the pending set bounded', () => {
    const parser = createParser({ source: 'audit' });
    let emitted = 0;
    for (let i = 0; i < 2000; i++) {
      // Same second, interleaved serials that never get an EOE.
      emitted += parser.push(`type=CWD msg=audit(5.000:${i}): cwd="/"\n`).length;
    }
    expect(emitted).toBeGreaterThan(2000 - 300);
    expect(emitted + parser.end().length).toBe(2000);
  });

  it('reads node= prefixes, numeric types and kernel/journal/dmesg prefixes', () => {
    const text = [
      'node=work type=SYSCALL msg=audit(1615114232.375:15558): arch=c000003e syscall=59 success=yes exit=0 pid=10884',
      'Nov 28 08:18:04 host kernel: audit: type=1326 audit(1700000000.123:45): auid=1000 uid=1000 gid=1000 ses=1 pid=77 comm="a.out" exe="/tmp/a.out" sig=31 arch=c000003e syscall=101 compat=0 ip=0x7f code=0x80000000',
      '[  176.385388] audit: type=1400 audit(1666891380.570:78): apparmor="DENIED" operation="userns_create" class="namespace" profile="/usr/bin/userns_child_exec" pid=1785 comm="userns_child_ex" requested="userns_create" denied="userns_create"',
      'Dec 15 17:32:17 kinetic kernel: [4835959.046111] audit: type=1107 audit(1671125537.724:209): pid=7308 uid=0 auid=4294967295 ses=4294967295 msg=\'apparmor="DENIED" operation="dbus_method_call" bus="session" path="/org/freedesktop/DBus"\'',
    ].join('\n');
    const out = audit(text);
    const kinds = out.map((r) =>
      r.kind === 'syscall'
        ? `${r.syscall}:${r.denied}`
        : r.kind === 'audit'
          ? `${r.recordTypes.join()}:${r.denied}`
          : r.kind,
    );
    expect(kinds.sort()).toEqual(['AVC:true', 'USER_AVC:true', 'execve:false', 'ptrace:true'].sort());
    const seccomp = out.find((r) => r.kind === 'syscall' && r.syscall === 'ptrace') as SyscallEvent;
    expect(seccomp.time).toBe(1700000000123);
  });

  it('prefers raw fields over ENRICHED ones, and uses ENRICHED only where raw is missing', () => {
    const [e] = syscalls(
      'type=SECCOMP msg=audit(1795853884.715:139): auid=4294967295 uid=0 pid=12490 comm="seccompdemo" sig=31 arch=c000003e syscall=101 compat=0 code=0x80000000\x1dAUID="unset" UID="root" ARCH=x86_64 SYSCALL=unknown-syscall(-1)',
    );
    expect(e!.syscall).toBe('ptrace');
    const [f] = syscalls(
      'type=SYSCALL msg=audit(1.000:1): success=yes exit=0 pid=1\x1dARCH=aarch64 SYSCALL=openat',
    );
    expect([f!.syscall, f!.arch, f!.nr]).toEqual(['openat', 'aarch64', 56]);
  });

  it('reads the user names an ENRICHED log (auditd’s default) or ausearch -i gives, beside the numbers', () => {
    const [sudo] = syscalls(
      'type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=0 a3=0 items=0 ppid=1 pid=7 auid=1000 uid=0 gid=0 euid=0 ses=3 comm="cat" exe="/usr/bin/cat" key=(null)\x1dARCH=x86_64 SYSCALL=openat AUID="alice" UID="root" GID="root" EUID="root"',
    );
    expect(sudo!.audit).toMatchObject({ uid: 0, auid: 1000, user: 'root', loginUser: 'alice' });
    // Never logged in (unset), or no such user on the log's host: no name.
    const [daemon] = syscalls(
      'type=SYSCALL msg=audit(1.000:3): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=0 a3=0 items=0 ppid=1 pid=8 auid=4294967295 uid=1234 ses=4294967295 comm="x" exe="/x" key=(null)\x1dAUID="unset" UID="unknown(1234)"',
    );
    expect(daemon!.audit?.user).toBeUndefined();
    expect(daemon!.audit?.loginUser).toBeUndefined();
    // ausearch -i writes the names in place of the numbers.
    const [interpreted] = parseRecords(
      'type=SYSCALL msg=audit(11/28/26 08:18:04.715:4) : arch=x86_64 syscall=openat success=no exit=EACCES(Permission denied) a0=AT_FDCWD a1=0x1 a2=O_RDONLY a3=0x0 items=1 ppid=1 pid=9 auid=alice uid=nobody gid=nogroup euid=nobody ses=3 comm=cat exe=/usr/bin/cat key=(null)',
      { source: 'audit' },
    );
    expect((interpreted as SyscallEvent).audit).toMatchObject({ user: 'nobody', loginUser: 'alice' });
    // A subject record of its own (ANOM_ABEND, AVC, USER_*) too.
    const [abend] = parseRecords(
      'type=ANOM_ABEND msg=audit(1.000:5): auid=1000 uid=0 gid=0 ses=3 pid=10 comm="x" exe="/x" sig=11 res=1\x1dAUID="alice" UID="root" GID="root"',
      { source: 'audit' },
    );
    expect((abend as AuditRecordEvent).audit).toMatchObject({ user: 'root', loginUser: 'alice' });
  });

  it("reads user records with msg='…' and emits them at once", () => {
    const parser = createParser({ source: 'audit' });
    const out = parser.push(
      'type=USER_CMD msg=audit(1767225601.000:30): pid=4 uid=1000 auid=1000 ses=3 subj=unconfined msg=\'cwd="/home/alice" cmd=636174202F6574632F736861646F77 exe="/usr/bin/sudo" terminal=pts/0 res=success\'\x1dUID="alice"\n',
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'audit', recordTypes: ['USER_CMD'], denied: false, pid: 4 });
    expect((out[0] as AuditRecordEvent).audit).toMatchObject({ exe: '/usr/bin/sudo', uid: 1000, auid: 1000 });
    const [withFields] = parseRecords(
      "type=USER_CMD msg=audit(1767225601.000:30): pid=4 uid=1000 msg='cmd=636174202F6574632F736861646F77 res=success'",
      { source: 'audit', auditFields: true },
    );
    expect((withFields as AuditRecordEvent).audit.fields).toMatchObject({
      'USER_CMD.cmd': 'cat /etc/shadow',
      'USER_CMD.res': 'success',
    });
  });

  it('reads two records on one line', () => {
    const out = audit(
      'type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=2 success=yes exit=3 pid=1 type=PATH msg=audit(1.000:7): item=0 name="/etc/hosts" type=EOE msg=audit(1.000:7):',
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      syscall: 'open',
      audit: { paths: ['/etc/hosts'], recordTypes: ['SYSCALL', 'PATH'] },
    });
  });

  it('recognises ausearch ---- and time-> separators without output', () => {
    expect(audit('----\ntime->Sat Nov 28 08:17:40 2026\n----')).toEqual([]);
  });

  it('reports a record with an unreadable stamp as an issue', () => {
    const out = audit(
      'type=AVC msg=audit(12799========================8288.415:39): apparmor="DENIED" operation="open"',
    );
    expect(out).toMatchObject([{ kind: 'issue', code: 'malformed_audit_record', line: 1 }]);
  });

  it('does not claim non-audit lines', () => {
    expect(audit('openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3')).toEqual([]);
    expect(audit('just some text')).toEqual([]);
  });
});

describe('robustness', () => {
  it('random lines never throw and yield only known kinds', () => {
    const piece = fc.constantFrom(
      'type=',
      'SYSCALL',
      'msg=audit(',
      '1.5:',
      '7',
      '): ',
      'syscall=',
      '59',
      'arch=',
      'c000003e',
      ' ',
      '"',
      "'",
      '\x1d',
      'a0[',
      ']',
      '_len=',
      'EOE',
      'node=x ',
      'apparmor="DENIED"',
      'avc:  denied  {',
      '}',
      'exit=-13',
      'success=no',
      'code=0x',
      '(',
      ')',
      '/',
      ':',
      '=',
      'proctitle=',
      'ZZ',
      '00',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 40 }), (parts) => {
        const out = parseRecords(parts.join(''), { source: 'audit', auditFields: true });
        for (const r of out) expect(['syscall', 'audit', 'issue']).toContain(r.kind);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const parser = createParser({ source: 'audit' });
        parser.push(bytes);
        parser.end();
      }),
      { numRuns: 300 },
    );
  });
});

describe('audit SYSCALL registers (a0..a3)', () => {
  const open = (flags: string) =>
    `type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1234 a2=${flags} a3=0 items=1 ppid=1 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="cat" exe="/usr/bin/cat" key=(null)\n` +
    'type=PATH msg=audit(1700000000.123:42): item=0 name="/etc/shadow" inode=1 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n' +
    'type=EOE msg=audit(1700000000.123:42): \n';

  it('are kept on the event as logged, without auditFields', () => {
    const [event] = parseRecords(open('80000'), { source: 'audit' }) as SyscallEvent[];
    expect(event?.audit?.registers).toBe('a0=ffffff9c a1=7ffd1234 a2=80000 a3=0');
  });

  it('give the shipped rules the open mode: a read of /etc/shadow alerts, a write-only open does not read it', () => {
    const rules = (flags: string) => {
      const session = createSession({});
      session.write(open(flags));
      session.end();
      return session.summary().alerts.flatMap((a) => (a.rule ? [a.rule] : []));
    };
    expect(rules('80000')).toContain('Read shadow password file'); // O_RDONLY|O_CLOEXEC
    expect(rules('80001')).not.toContain('Read shadow password file'); // O_WRONLY|O_CLOEXEC
  });
});

describe('audit SYSCALL registers as the arguments rules read (evt.arg.*)', () => {
  const call = (nr: number, a0: string, a1: string) =>
    `type=SYSCALL msg=audit(1700000000.123:43): arch=c000003e syscall=${nr} success=yes exit=0 a0=${a0} a1=${a1} a2=0 a3=0 items=0 ppid=1 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="gdb" exe="/usr/bin/gdb" key=(null)\n` +
    'type=EOE msg=audit(1700000000.123:43): \n';
  const alerts = (text: string) => {
    const session = createSession({});
    session.write(text);
    session.end();
    return session.summary().alerts.filter((a) => a.rule === 'Ptrace or memory access of another process');
  };

  it('ptrace(PTRACE_ATTACH, pid) logged as a0=10 is the memory-access rule, naming the request and the target', () => {
    const [alert, ...more] = alerts(call(101, '10', '2a3d'));
    expect(more).toEqual([]);
    expect(alert?.message).toContain('request=PTRACE_ATTACH target_pid=10813');
    expect(alert?.process?.exe).toBe('/usr/bin/gdb');
  });

  it('clone with CLONE_NEWUSER (a0=10000011) is "Process created in new namespaces", its flags named; a plain fork is not', () => {
    const newNs = (a0: string) => {
      const session = createSession({});
      session.write(call(56, a0, '0'));
      session.end();
      return session.summary().alerts.filter((a) => a.rule === 'Process created in new namespaces');
    };
    const [alert] = newNs('10000011');
    expect(alert?.message).toContain('args=flags=CLONE_NEWUSER, 0, 0, 0');
    expect(newNs('1200011')).toEqual([]); // CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD: fork()
  });

  it('PTRACE_TRACEME (a0=0) is not, and a register past 2^53 is read whole, not rounded', () => {
    expect(alerts(call(101, '0', '0'))).toEqual([]);
    const [event] = parseRecords(call(101, 'ffffffffffffff9c', '1'), { source: 'audit' }) as SyscallEvent[];
    expect(event?.audit?.registers).toContain('a0=ffffffffffffff9c');
    expect(auditArgs(event?.audit)).toEqual(['18446744073709551516', '1', '0', '0']);
    expect([
      ptraceRequestName('16'),
      ptraceRequestName('0x4206'),
      ptraceRequestName('PTRACE_CONT'),
      ptraceRequestName('99'),
    ]).toEqual(['PTRACE_ATTACH', 'PTRACE_SEIZE', 'PTRACE_CONT', '99']);
  });
});

describe('audit EXECVE argc against the arguments that arrived', () => {
  const execve = (fields: string) =>
    'type=SYSCALL msg=audit(1700000000.123:50): arch=c000003e syscall=59 success=yes exit=0 a0=55d a1=55e a2=55f a3=0 items=2 ppid=1 pid=4243 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="crontab" exe="/usr/bin/crontab" key=(null)\n' +
    `type=EXECVE msg=audit(1700000000.123:50): ${fields}\n` +
    'type=PATH msg=audit(1700000000.123:50): item=0 name="/usr/bin/crontab" inode=1 dev=08:01 mode=0104755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL\n' +
    'type=PATH msg=audit(1700000000.123:50): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=2 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL\n' +
    'type=EOE msg=audit(1700000000.123:50): \n';
  const issues = (text: string) => audit(text).filter((r) => r.kind === 'issue');

  it('fewer arguments than argc (an EXECVE record lost) is an issue, and the alert says so', () => {
    expect(issues(execve('argc=4 a0="crontab" a1="-l"'))).toEqual([
      expect.objectContaining({
        code: 'malformed_audit_record',
        message: expect.stringContaining('argc=4 but 2 of the arguments never arrived'),
      }),
    ]);
    const session = createSession({});
    session.write(execve('argc=4 a0="crontab" a1="-l"'));
    session.end();
    const lost = session.summary().alerts.find((a) => a.type === 'trace_lost');
    expect(lost?.message).toContain(
      'the audit event at line 1 is incomplete or in doubt (audit event 50: EXECVE says argc=4',
    );
    expect(lost?.details?.reason).toBe('audit_event_incomplete');
  });

  it('fewer PATH records than items= (a record lost): an issue, since the files it acted on are unknown', () => {
    const [syscall, execveLine, , , eoe] = execve('argc=2 a0="crontab" a1="-l"').split('\n');
    expect(issues([syscall, execveLine, eoe].join('\n'))).toEqual([
      expect.objectContaining({
        code: 'malformed_audit_record',
        message: expect.stringContaining(
          'audit event 50: SYSCALL says items=2 but no PATH records arrived (a record lost): the files it acted on are unknown',
        ),
      }),
    ]);
    const [, , first, second] = execve('argc=2 a0="crontab" a1="-l"').split('\n');
    expect(issues([syscall, execveLine, first, eoe].join('\n'))).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('items=2 but 1 PATH record arrived (a record lost): not every file'),
      }),
    ]);
    expect(second).toContain('item=1');
  });

  it('all arguments there, chunked ones included, is no issue', () => {
    expect(issues(execve('argc=2 a0="crontab" a1="-l"'))).toEqual([]);
    expect(issues(execve('argc=2 a0="echo" a1_len=6 a1[0]="abc" a1[1]="def"'))).toEqual([]);
  });
});

/**
 * The kernel writes one CWD and one PROCTITLE per event, and numbers its PATH items once
 * each. A second one is a line that is not the kernel's (a syslog line forged with `logger`,
 * a crafted log): with the first CWD winning, a forged `cwd="/tmp"` ahead of the real one
 * sent the relative open of `shadow` to /tmp/shadow, CLEAN.
 */
describe('audit records an event holds once, repeated, or after its end', () => {
  const stamp = 'audit(1700000000.123:42)';
  const openShadow = (extra: { before?: string; after?: string; path?: string }) =>
    [
      extra.before,
      `type=SYSCALL msg=${stamp}: arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=4242 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="cat" exe="/usr/bin/cat" key=(null)`,
      `type=CWD msg=${stamp}: cwd="/etc"`,
      `type=PATH msg=${stamp}: item=0 name="shadow" inode=1 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
      extra.path,
      extra.after,
      `type=EOE msg=${stamp}: `,
    ]
      .filter((l) => l !== undefined)
      .join('\n');
  const issues = (text: string) => audit(`${text}\n`).filter((r) => r.kind === 'issue');

  it('a forged CWD before the real one is an issue, and the session says the event is in doubt (not clean)', () => {
    const text = openShadow({ before: `type=CWD msg=${stamp}: cwd="/tmp"` });
    expect(issues(text)).toEqual([
      expect.objectContaining({
        code: 'malformed_audit_record',
        message: expect.stringContaining('(first: a second CWD): a line that is not the kernel'),
      }),
    ]);
    const verdict = createSession({}).analyzeRun(`${text}\n`);
    expect(verdict.kind).toBe('alert');
    expect(verdict.kind === 'alert' && verdict.alerts.map((a) => a.type)).toContain('trace_lost');
  });

  it('a second PROCTITLE or SOCKADDR, and a PATH item number given twice, are issues too', () => {
    const proctitle = `type=PROCTITLE msg=${stamp}: proctitle="cat"`;
    expect(issues(openShadow({ after: `${proctitle}\n${proctitle}` }))).toHaveLength(1);
    // A forged peer ahead of the real one (the metadata service) would win.
    const sockaddr = (hex: string) => `type=SOCKADDR msg=${stamp}: saddr=${hex}`;
    const peers = `${sockaddr('020000507F0000010000000000000000')}\n${sockaddr('02000050A9FEA9FE0000000000000000')}`;
    expect(issues(openShadow({ after: peers }))[0]?.message).toContain('a second SOCKADDR');
    expect(issues(openShadow({ after: sockaddr('02000050A9FEA9FE0000000000000000') }))).toEqual([]);
    const again = `type=PATH msg=${stamp}: item=0 name="/tmp/x" inode=2 dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`;
    expect(issues(openShadow({ path: again }))[0]?.message).toContain('a second PATH item=0');
  });

  it("records after the event's EOE (a forged EOE cut it in two) are an issue, and the open is not clean", () => {
    const eoe = `type=EOE msg=${stamp}: `;
    const [syscall, ...rest] = openShadow({}).split('\n');
    const text = [syscall, eoe, ...rest].join('\n');
    // The first half, ended early, lacks the PATH record its items= announced; the second
    // came after the end.
    expect(issues(text)).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('SYSCALL says items=1 but no PATH records'),
      }),
      expect.objectContaining({
        code: 'malformed_audit_record',
        message: expect.stringContaining('records came after the event had ended (its EOE)'),
      }),
    ]);
    const verdict = createSession({}).analyzeRun(`${text}\n`);
    expect(verdict.kind === 'alert' && verdict.alerts.map((a) => a.type)).toContain('trace_lost');
    // A stray EOE before any record of its event ends nothing.
    expect(issues(`${eoe}\n${openShadow({})}`)).toEqual([]);
  });

  it('the real event, and PATH items 0…3 of a rename, are no issue', () => {
    expect(issues(openShadow({}))).toEqual([]);
    const item = (n: number) =>
      `type=PATH msg=${stamp}: item=${n} name="/tmp/f${n}" inode=${n + 2} dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`;
    expect(issues(openShadow({ path: [1, 2, 3].map(item).join('\n') }))).toEqual([]);
  });
});
