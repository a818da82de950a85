import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession } from '../src/index.js';
import { createParser } from '../src/parse/index.js';
import { syscallTable } from '../src/syscalls/index.js';
import type { ParsedRecord, SyscallEvent } from '../src/types.js';
import { corpusDir, corpusFiles, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

/** Parses a file in uneven byte chunks, as a stream would deliver it. */
function parseFile(file: string): { records: ParsedRecord[]; lines: number } {
  const bytes = readFileSync(file);
  const parser = createParser({ source: 'audit' });
  const records: ParsedRecord[] = [];
  for (let i = 0; i < bytes.length; i += 4093) records.push(...parser.push(bytes.subarray(i, i + 4093)));
  records.push(...parser.end());
  return { records, lines: parser.stats.lines };
}

/** Lines carrying a syscall record: a `syscall=` field in an audit record line. */
function syscallRecordLines(file: string): number[] {
  const out: number[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/(^|\s)syscall=/.test(line) && line.includes('audit(')) out.push(i + 1);
    });
  return out;
}

const files = corpusFiles('audit');

describe.skipIf(!hasCorpus)(
  `audit corpus (${hasCorpus ? `${files.length} files` : corpusSkipReason})`,
  () => {
    it.each(files)('%s: every syscall record becomes a named syscall event', (rel, file) => {
      const { records, lines } = parseFile(file);
      const syscalls = records.filter((r): r is SyscallEvent => r.kind === 'syscall');
      const audits = records.filter((r) => r.kind === 'audit').length;
      const issues = records.filter((r) => r.kind === 'issue');
      console.log(
        `${rel}: ${lines} lines, ${syscalls.length} syscall events, ${audits} audit events, ${issues.length} issues`,
      );
      // Every line with a syscall record is the raw line of an event, or part of its serial's event.
      const covered = new Set<number>();
      for (const e of syscalls) covered.add(e.line!);
      const serials = new Set(syscalls.map((e) => e.audit?.serial));
      const text = readFileSync(file, 'utf8').split('\n');
      for (const n of syscallRecordLines(file)) {
        if (covered.has(n)) continue;
        const serial = /audit\([^)]*:(\d+)\)/.exec(text[n - 1]!)?.[1];
        expect(
          serial !== undefined && serials.has(Number(serial)),
          `${rel}:${n} not in any syscall event`,
        ).toBe(true);
      }
      for (const e of syscalls) {
        expect(e.syscall, `${rel}:${e.line}`).toMatch(/^[a-z_][a-z0-9_]*$/);
        expect(e.syscall, `${rel}:${e.line}`).not.toMatch(/^syscall_\d+$/);
        if (e.nr !== undefined && e.arch !== undefined) {
          const table = syscallTable(e.arch);
          const known = table?.get(e.nr);
          if (known !== undefined) expect(e.syscall).toBe(known);
        }
      }
      // Issues are reported, never thrown; only lines with a broken stamp may produce one.
      for (const i of issues) expect(i.kind === 'issue' && i.code).toBe('malformed_audit_record');
    });

    it('names aarch64 and ppc64 events (go-libaudit aucoalesce, laurel) by their arch', () => {
      const events = (name: string) =>
        parseFile(files.find(([rel]) => rel.endsWith(name))![1]).records.filter(
          (r): r is SyscallEvent => r.kind === 'syscall',
        );
      const arm = events('aucoalesce-ubuntu-24.04-linux-6.8.0.log');
      expect(arm.map((e) => [e.arch, e.nr, e.syscall])).toEqual([['aarch64', 37, 'linkat']]);
      const fork = events('fork-sleep-exec.txt').filter((e) => e.arch === 'aarch64');
      expect(new Set(fork.map((e) => e.syscall))).toEqual(new Set(['execve', 'clone']));
      expect(events('record-login.txt').map((e) => [e.arch, e.syscall])).toContainEqual(['aarch64', 'write']);
      const ppc = events('record-bind-ipv4-bigendian.txt');
      expect(ppc.map((e) => [e.arch, e.nr, e.syscall])).toEqual([['ppc64', 327, 'bind']]);
    });

    it('groups out-of-order records (laurel shell-proc-trace-reordered) into one event per serial', () => {
      const [, file] = files.find(([rel]) => rel.endsWith('shell-proc-trace-reordered.txt'))!;
      const { records } = parseFile(file);
      const syscalls = records.filter((r): r is SyscallEvent => r.kind === 'syscall');
      const serials = syscalls.map((e) => e.audit!.serial);
      expect(new Set(serials).size).toBe(serials.length);
      // No auxiliary record is left over as an event of its own.
      expect(records.filter((r) => r.kind === 'audit')).toEqual([]);
      const execs = syscalls.filter((e) => e.syscall === 'execve');
      expect(execs.length).toBeGreaterThan(3);
      for (const e of execs) {
        expect(e.audit?.argv?.length).toBeGreaterThan(0);
        expect(e.audit?.cwd).toBeDefined();
      }
    });

    it('reads the ENRICHED log, its RAW twin and ausearch -i output to the same syscalls', () => {
      const names = (suffix: string) =>
        parseFile(files.find(([rel]) => rel.endsWith(suffix))![1])
          .records.filter((r): r is SyscallEvent => r.kind === 'syscall')
          .map((e) => `${e.audit!.serial} ${e.syscall} ${e.denied}`)
          .sort();
      const enriched = names('audit-enriched.log');
      expect(enriched.length).toBeGreaterThan(100);
      expect(names('audit-raw-derived.log')).toEqual(enriched);
      expect(names('ausearch-default.txt')).toEqual(enriched);
      expect(names('ausearch-interpreted.txt')).toEqual(enriched);
    });
  },
);

describe.skipIf(!hasCorpus)('audit: the shipped rules read open flags from the SYSCALL record itself', () => {
  const log = join(corpusDir, 'audit', 'local-generated', 'audit-enriched.log');

  it('each openat of /etc/shadow (su, cat, node) is a rule alert naming the command, without auditFields', () => {
    const session = createSession({});
    session.write(readFileSync(log));
    session.end();
    const shadow = session.summary().alerts.filter((a) => a.rule === 'Read shadow password file');
    expect(shadow.map((a) => a.process?.exe)).toEqual([
      '/usr/bin/su',
      '/usr/bin/su',
      '/usr/bin/cat',
      '/usr/bin/cat',
      '/usr/bin/node',
    ]);
    expect(shadow[0]?.message).toContain('command=su nobody -s /bin/sh -c cat /etc/shadow');
  });

  it("every SYSCALL event keeps its a0..a3 as logged (registers), and they are the record's own", () => {
    const events = parseFile(log).records.filter(
      (r): r is SyscallEvent => r.kind === 'syscall' && !r.raw.includes('type=SECCOMP'),
    );
    expect(events.length).toBeGreaterThan(100);
    for (const e of events) {
      const reg = e.audit?.registers;
      expect(reg, e.raw).toMatch(/^a0=[0-9a-f]+ a1=[0-9a-f]+ a2=[0-9a-f]+ a3=[0-9a-f]+$/);
      expect(e.raw).toContain(` ${reg} `);
    }
  });
});
