import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listArches, resolveArch, syscallName, syscallNumber, syscallTable } from '../src/syscalls/index.js';
import { corpusDir, corpusFiles, corpusSkipReason, hasCorpus, sharedDir } from './helpers/corpus.js';

describe('syscall look-ups', () => {
  it('names x86_64 numbers by default (seed defect 3: more than ten numbers)', () => {
    expect(syscallName(262)).toBe('newfstatat');
    expect(syscallName(59)).toBe('execve');
    expect(syscallName(435)).toBe('clone3');
    expect(syscallNumber('openat')).toBe(257);
  });

  it('resolves audit arch ids and names', () => {
    expect(resolveArch('c000003e')).toBe('x86_64');
    expect(resolveArch('40000003')).toBe('i386');
    expect(resolveArch('c00000b7')).toBe('aarch64');
    expect(resolveArch('80000015')).toBe('ppc64');
    expect(resolveArch('c0000015')).toBe('ppc64le');
    expect(resolveArch('8')).toBe('mips');
    expect(resolveArch('28')).toBe('armeb');
    expect(resolveArch('0xC000003E')).toBe('x86_64');
    expect(resolveArch('x86_64')).toBe('x86_64');
    expect(resolveArch('amd64')).toBe('x86_64');
    expect(resolveArch('arm64')).toBe('aarch64');
    expect(resolveArch('armeb')).toBe('armeb');
    expect(resolveArch('deadbeef')).toBeUndefined();
    expect(resolveArch('b64')).toBeUndefined();
  });

  it('uses the arch: aarch64 56 is openat, i386 5 is open, ppc64 BE shares the ppc64 table', () => {
    expect(syscallName(56, 'c00000b7')).toBe('openat');
    expect(syscallName(5, '40000003')).toBe('open');
    expect(syscallName(11, 'i386')).toBe('execve');
    expect(syscallName(327, '80000015')).toBe(syscallName(327, 'ppc64le'));
    expect(syscallNumber('execve', 'aarch64')).toBe(221);
  });

  it('reads x32 numbers on x86_64', () => {
    expect(syscallName(0x40000000, 'x86_64')).toBe('read');
    expect(syscallNumber('read', 'x32')).toBe(0x40000000);
  });

  it('maps audit-userspace names to kernel numbers', () => {
    expect(syscallNumber('pread', 'x86_64')).toBe(17);
    expect(syscallName(17)).toBe('pread64');
    expect(syscallNumber('newfstat', 'aarch64')).toBe(80);
    expect(syscallNumber('madvise1', 'i386')).toBe(219);
  });

  it('answers undefined for unknown arches and numbers', () => {
    expect(syscallName(99999)).toBeUndefined();
    expect(syscallName(0, 'vax')).toBeUndefined();
    expect(syscallTable('vax')).toBeUndefined();
    expect(listArches()).toContain('riscv64');
    for (const arch of listArches()) expect(syscallTable(arch)?.size).toBeGreaterThan(250);
  });
});

const tableFile: Record<string, string> = {
  x86_64: 'x86_64',
  x32: 'x32',
  i386: 'i386',
  aarch64: 'aarch64',
  arm: 'arm',
  riscv64: 'riscv64',
  riscv32: 'riscv32',
  ppc64le: 'ppc64le',
  ppc: 'ppc',
  s390x: 's390x',
  s390: 's390',
  mips: 'mips',
  mips64: 'mips64',
  mips64n32: 'mips64n32',
  loongarch64: 'loongarch64',
};

function rows(file: string): Array<[number, string]> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [n, name] = l.split('\t');
      return [Number(n), name!] as [number, string];
    });
}

describe.skipIf(!hasCorpus)(
  `syscall tables against the corpus (${hasCorpus ? 'present' : corpusSkipReason})`,
  () => {
    it('round-trips every row of every kernel table both ways', () => {
      let checked = 0;
      for (const [arch, stem] of Object.entries(tableFile)) {
        for (const [nr, name] of rows(join(corpusDir, 'syscalls', `${stem}.tsv`))) {
          expect(syscallName(nr, arch), `${arch} ${nr}`).toBe(name);
          expect(syscallNumber(name, arch), `${arch} ${name}`).toBe(nr);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(5000);
    });

    it('maps every audit-userspace name to its number', () => {
      for (const [rel, file] of corpusFiles('syscalls/audit-userspace-names')) {
        const stem = rel.replace(/\.tsv$/, '');
        const arch = stem;
        const kernelNames = new Set(syscallTable(arch)!.values());
        for (const [nr, name] of rows(file)) {
          if (kernelNames.has(name)) continue; // the kernel's own name wins (checked above)
          expect(syscallNumber(name, arch), `${arch} ${name}`).toBe(nr);
          // A number the kernel table lacks still gets the audit-userspace name.
          expect(syscallName(nr, arch), `${arch} ${nr}`).toBeDefined();
        }
      }
    });

    it('the committed tables.generated.ts is what the generator makes from the corpus', async () => {
      const script = pathToFileURL(join(__dirname, '../../../scripts/gen-syscall-tables.mjs')).href;
      const { generate } = (await import(script)) as { generate: (shared: string) => string };
      const committed = readFileSync(join(__dirname, '../src/syscalls/tables.generated.ts'), 'utf8');
      expect(generate(sharedDir) === committed, 'run `pnpm gen:syscalls`').toBe(true);
    });
  },
);
