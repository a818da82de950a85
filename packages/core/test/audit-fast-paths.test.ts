// The audit reader's shortcuts for auditd's usual records (type names compared in place, the
// previous record's event taken without a look-up, numbers read in one walk) must read
// near-miss and odd records exactly as the general path does.
import { describe, expect, it } from 'vitest';
import { parseRecords } from '../src/parse/index.js';
import type { AuditRecordEvent, SyscallEvent } from '../src/types.js';

const read = (lines: string[]) => parseRecords(lines.join('\n'), { source: 'audit' });
const stamp = (serial: number) => `msg=audit(1700000000.000:${serial}):`;

describe('audit reader shortcuts', () => {
  it('reads a type name one letter off a usual one as that other type', () => {
    const names = [
      'SYSCALLX',
      'SYSCAL',
      'PATHS',
      'PROCTITLES',
      'SOCKADDRX',
      'SECCOMPS',
      'CWDX',
      'EXECVEX',
      'AVCS',
    ];
    const fields = 'arch=c000003e syscall=2 success=yes exit=3 pid=10 auid=1000 uid=0 comm="x" exe="/bin/x"';
    const out = read(names.map((t, i) => `type=${t} ${stamp(i + 1)} ${fields}`));
    expect(out.map((r) => r.kind)).toEqual(names.map(() => 'audit'));
    expect(out.map((r) => (r as AuditRecordEvent).recordTypes[0])).toEqual(names);
    expect((out[0] as AuditRecordEvent).audit).toMatchObject({
      exe: '/bin/x',
      comm: 'x',
      uid: 0,
      auid: 1000,
    });
  });

  it('reads numbers that are not plain decimals as the general path does', () => {
    const out = read([
      `type=SYSCALL ${stamp(1)} arch=c000003e syscall=open success=yes exit=3 pid=12x auid=unset uid=1234567890123456`,
      `type=SYSCALL ${stamp(2)} arch=c000003e syscall=2x success=no exit=-13 pid=-5 auid=4294967295 uid=0`,
      `type=SYSCALL ${stamp(3)} arch=c000003e syscall=2\tsuccess=yes exit=0 pid=7(x y) auid= uid=1`,
    ]) as SyscallEvent[];
    expect(out.map((e) => [e.syscall, e.nr, e.pid, e.audit?.uid, e.audit?.auid])).toEqual([
      ['open', 2, 12, 1234567890123456, 4294967295],
      ['2x', undefined, -5, 0, 4294967295],
      ['open', 2, 7, 1, undefined],
    ]);
    expect(out[1]!.denied).toBe(true);
  });

  it('keeps interleaved events of two hosts with one serial apart', () => {
    const sys = 'arch=c000003e success=yes exit=0 pid=1 auid=0 uid=0';
    const out = read([
      `node=a type=SYSCALL ${stamp(5)} syscall=2 ${sys}`,
      `node=b type=SYSCALL ${stamp(5)} syscall=59 ${sys}`,
      `node=a type=PATH ${stamp(5)} item=0 name="/a"`,
      `node=b type=CWD ${stamp(5)} cwd="/b"`,
      `node=a type=EOE ${stamp(5)} `,
      `node=b type=PATH ${stamp(5)} item=0 name="/b"`,
      `type=PROCTITLE ${stamp(6)} proctitle="quoted"`,
      `type=SYSCALL ${stamp(6)} syscall=2 ${sys} key=(null)`,
      `type=PROCTITLE ${stamp(6)} proctitle=(null)`,
    ]);
    // The kernel writes one PROCTITLE per event: the second is read past, and said.
    expect(out.filter((r) => r.kind === 'issue')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('a second PROCTITLE') }),
    ]);
    const events = out.filter((r) => r.kind === 'syscall') as SyscallEvent[];
    expect(
      events.map((e) => [e.host, e.syscall, e.audit?.recordTypes, e.audit?.paths, e.audit?.cwd]),
    ).toEqual([
      ['a', 'open', ['SYSCALL', 'PATH'], ['/a'], undefined],
      ['b', 'execve', ['SYSCALL', 'CWD', 'PATH'], ['/b'], '/b'],
      [undefined, 'open', ['PROCTITLE', 'SYSCALL', 'PROCTITLE'], undefined, undefined],
    ]);
    expect(events[2]!.audit).toMatchObject({ proctitle: 'quoted' });
    expect(events[2]!.audit?.key).toBeUndefined();
  });
});
