import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditParser } from '../src/parse/audit/index.js';
import { createParser, parseRecords } from '../src/parse/index.js';
import { resolveParseOptions } from '../src/parse/line-parser.js';
import type { ParsedRecord, SyscallEvent } from '../src/types.js';

/**
 * Input shaped to stall or blow up the parser. Time is asserted by counting work (the audit
 * reader's `work`: characters its record readers may scan, plus EXECVE slots filled), never
 * by the clock: whatever the shape, work per input character stays below a constant.
 */

/** Runs one audit parser over `text`; its records and its work. */
function auditWork(text: string): { records: ParsedRecord[]; work: number } {
  const parser = new AuditParser(resolveParseOptions({ source: 'audit' }));
  const records: ParsedRecord[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) if (line.length > 0) parser.parseLine(line, ++lineNo, records);
  parser.end(records);
  return { records, work: parser.work };
}

/** A SYSCALL record without `key=` (so a search for it runs to the end of what it may scan). */
function syscallRecord(serial: number): string {
  return (
    `type=SYSCALL msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}): arch=c000003e ` +
    `syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=${serial} auid=1000 ` +
    'uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="cat"'
  );
}

/** One line of records, `bytes` long at least. */
function manyRecordsLine(bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let serial = 1; length < bytes; serial++) {
    const record = syscallRecord(serial);
    parts.push(record);
    length += record.length + 1;
  }
  return parts.join(' ');
}

describe('hostile audit input: linear work, bounded memory', () => {
  it('reads a line of many records once (1 MiB and 2 MiB cost in proportion)', () => {
    const small = manyRecordsLine(1 << 20);
    const large = manyRecordsLine(2 << 20);
    const a = auditWork(small);
    const b = auditWork(large);
    // Every record became its own event, carrying its own record as raw (not the whole line).
    const events = a.records.filter((r): r is SyscallEvent => r.kind === 'syscall');
    expect(events.length).toBe(small.split(' type=').length);
    expect(events[1]).toMatchObject({ syscall: 'openat', denied: true, errno: 'EACCES', pid: 2 });
    expect(Math.max(...events.map((e) => e.raw.length))).toBeLessThan(400);
    // Linear: twice the input, about twice the work; a few passes per character at most.
    expect(b.work / a.work).toBeLessThan(2.2);
    expect(a.work).toBeLessThan(4 * small.length);
  });

  it('caps EXECVE chunk and argument indices: a1[65535]= fills no array', () => {
    const far = 'type=EXECVE msg=audit(1700000000.000:7): argc=2 a0="x" a1[65535]=41 a4095=42';
    const { records, work } = auditWork(far);
    expect(work).toBeLessThan(far.length * 2);
    const event = records.find((r) => r.kind === 'audit');
    expect(event?.kind === 'audit' && event.audit.argv).toEqual(['x']);
    const issue = records.find((r) => r.kind === 'issue');
    expect(issue).toMatchObject({ code: 'malformed_audit_record' });
    expect(issue?.kind === 'issue' && issue.message).toContain('2 EXECVE argument fields skipped');

    // Many such records in one event: work stays proportional to the text.
    const fields = Array.from({ length: 20_000 }, (_, i) => `a${i % 4000}[${65535 - i}]=41`).join(' ');
    const flood = `type=EXECVE msg=audit(1700000000.000:8): argc=4000 ${fields}`;
    expect(auditWork(flood).work).toBeLessThan(flood.length * 2);
  });

  it('reports records past the caps of one event instead of dropping them silently', () => {
    const text = Array.from({ length: 100 }, () => syscallRecord(42)).join('\n');
    const { records } = auditWork(text);
    expect(records.filter((r) => r.kind === 'syscall')).toHaveLength(64);
    const issue = records.find((r) => r.kind === 'issue');
    expect(issue?.kind === 'issue' && issue.message).toContain(
      '36 records past the caps of one event not kept',
    );
  });

  it('still joins in-order chunks and arguments (a gap within the allowance is kept)', () => {
    const hex = (s: string) => Buffer.from(s).toString('hex');
    const line = `type=EXECVE msg=audit(1700000000.000:9): argc=3 a0="ls" a1_len=10 a1[0]=${hex('hello')} a1[1]=${hex('world')} a2="-l"`;
    const event = auditWork(line).records.find((r) => r.kind === 'audit');
    expect(event?.kind === 'audit' && event.audit.argv).toEqual(['ls', 'helloworld', '-l']);
  });
});

describe('lookup tables: only own properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'sig=%s is no signal',
    (sig) => {
      const line =
        `type=SECCOMP msg=audit(1700000000.000:1): auid=1000 uid=1000 pid=5 comm="x" exe="/x" sig=${sig} ` +
        `arch=${sig} syscall=${sig} compat=0 ip=0x1 code=${sig}`;
      const [event] = parseRecords(line, { source: 'audit', auditFields: true });
      expect(event?.kind).toBe('syscall');
      if (event?.kind !== 'syscall') return;
      expect(event.audit?.signal).toBeUndefined();
      expect(event.audit?.seccompAction).toBeUndefined();
      expect(event.arch).toBeUndefined();
      expect(typeof event.syscall).toBe('string');
      expect(event.audit?.fields?.[`SECCOMP.sig`]).toBe(sig);
    },
  );

  it('exit=, type= and errno names from the input never reach an inherited property', () => {
    const records = parseRecords(
      [
        "type=constructor msg=audit(1700000000.000:2): pid=1 uid=0 msg='op=x'",
        'type=SYSCALL msg=audit(1700000000.000:3): arch=constructor syscall=__proto__ success=no exit=constructor pid=1',
        'type=EOE msg=audit(1700000000.000:3):',
      ].join('\n'),
      { source: 'audit' },
    );
    const syscall = records.find((r) => r.kind === 'syscall');
    expect(syscall).toMatchObject({ syscall: '__proto__', ret: 'constructor' });
    expect(syscall?.kind === 'syscall' && syscall.errno).toBeUndefined();
    expect(records.find((r) => r.kind === 'audit')).toMatchObject({ recordTypes: ['constructor'] });
  });
});

describe('truncated strace lines still name their call', () => {
  it('a line over maxLineLength gives its syscall, flagged truncated, plus the line_truncated issue', () => {
    const huge = `1234 openat(AT_FDCWD, "/etc/${'A'.repeat(5000)}", O_RDONLY) = -1 EACCES (Permission denied)`;
    const records = parseRecords(`${huge}\nclose(3) = 0\n`, { maxLineLength: 1000 });
    expect(records.map((r) => r.kind)).toEqual(['issue', 'syscall', 'syscall']);
    expect(records[0]).toMatchObject({ code: 'line_truncated', line: 1 });
    expect(records[1]).toMatchObject({
      syscall: 'openat',
      pid: 1234,
      truncated: true,
      line: 1,
      ret: undefined,
    });
    expect(records[2]).toMatchObject({ syscall: 'close', ret: '0' });
  });

  it('a cut <... resumed> line completes its pending half', () => {
    const text = [
      '[pid 7] read(3,  <unfinished ...>',
      `[pid 7] <... read resumed>"${'x'.repeat(3000)}", 4096) = 4096`,
      '[pid 7] close(3) = 0',
    ].join('\n');
    const events = parseRecords(text, { maxLineLength: 500 }).filter((r) => r.kind === 'syscall');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ syscall: 'read', pid: 7, truncated: true, line: 1 });
    expect(events[0]?.kind === 'syscall' && events[0].unfinished).toBeUndefined();
    expect(events[1]).toMatchObject({ syscall: 'close' });
  });

  it('a flood of cut lines cannot hide calls: each gives an event', () => {
    const line = `write(1, "${'z'.repeat(2000)}", 2000) = 2000\n`;
    const parser = createParser({ maxLineLength: 256 });
    const records = [...parser.push(line.repeat(50)), ...parser.end()];
    expect(records.filter((r) => r.kind === 'syscall' && r.truncated)).toHaveLength(50);
    expect(parser.stats.truncatedLines).toBe(50);
  });
});

describe('ParseStats.unrecognisedLines', () => {
  it('counts non-blank lines that no reader recognised', () => {
    const parser = createParser();
    parser.push('hello world\nopenat(AT_FDCWD, "/x", O_RDONLY) = 3\n\n   \nrandom text 12 files\n');
    parser.push(
      'type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=2 success=yes exit=3 pid=1\n',
    );
    parser.end();
    expect(parser.stats.unrecognisedLines).toBe(2);
    expect(parser.stats.lines).toBe(6);
  });

  it('equals the non-blank lines when nothing is telemetry', () => {
    const parser = createParser();
    parser.push('\u0000\u0001binary\nplain text\n{"MESSAGE":"hi"}\n');
    parser.end();
    expect(parser.stats).toMatchObject({ lines: 3, unrecognisedLines: 3, syscallEvents: 0, otherRecords: 0 });
  });
});

/** Adversarial audit shapes: everything a log line can hold that a reader must not choke on. */
const hostileRecord: fc.Arbitrary<string> = fc.oneof(
  // Huge or far chunk/argument indices.
  fc
    .tuple(fc.nat(5000), fc.integer({ min: 0, max: 1 << 20 }))
    .map(([n, c]) => `type=EXECVE msg=audit(1.000:1): argc=2 a${n}[${c}]=41 a${n}=x a${n}_len=9`),
  // Deeply repeated keys.
  fc
    .tuple(
      fc.constantFrom('uid=', 'key=', 'name=', 'msg=', 'a0=', 'proctitle=', 'syscall='),
      fc.integer({ min: 1, max: 400 }),
    )
    .map(([k, n]) => `type=SYSCALL msg=audit(1.000:2): ${`x${k}1 `.repeat(n)}${k}2`),
  // Odd stamps and times far out of range.
  fc
    .constantFrom(
      'audit(1e300:1)',
      `audit(${'9'.repeat(320)}.000:1)`,
      'audit(:)',
      'audit(1.000:)',
      'audit(01/02/99 99:99:99.999:5)',
      'audit(1.000:99999999999999999999)',
      'audit(',
      'audit(1.000:1',
    )
    .map((stamp) => `type=SYSCALL msg=${stamp}: arch=c000003e syscall=1 pid=1`),
  // Property names of Object.prototype as values.
  fc
    .constantFrom('__proto__', 'constructor', 'toString', 'prototype')
    .map(
      (w) => `type=SECCOMP msg=audit(1.000:3): sig=${w} code=${w} arch=${w} syscall=${w} exit=${w} type=${w}`,
    ),
  // Nested msg='…' parts, unclosed quotes and braces.
  fc
    .string({
      unit: fc.constantFrom("'", '"', '{', '}', '(', ')', '=', ' ', 'a', 'msg', 'type', ':'),
      maxLength: 60,
    })
    .map((s) => `type=USER_AVC msg=audit(1.000:4): pid=1 msg='${s}`),
  // Records glued onto one line, with or without node=.
  fc
    .array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 })
    .map((serials) =>
      serials.map((s) => `node=h${s % 3} type=PATH msg=audit(1.000:${s}): item=0 name="/x"`).join(' '),
    ),
);

describe('fast-check: adversarial audit shapes', () => {
  it('never throw and cost linear work', () => {
    fc.assert(
      fc.property(
        fc.array(hostileRecord, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        (records, oneLine) => {
          const text = records.join(oneLine ? ' ' : '\n');
          const { work } = auditWork(text);
          expect(work).toBeLessThanOrEqual(4 * text.length + 64);
          // And through the public parser, with every field kept.
          const parser = createParser({ auditFields: true });
          parser.push(text);
          parser.end();
        },
      ),
      { numRuns: 300 },
    );
  });
});
