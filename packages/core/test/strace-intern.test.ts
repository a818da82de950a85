import { describe, expect, it } from 'vitest';
import { parseRecords } from '../src/parse/index.js';
import { intern, internHashed, internName, nextHash, WORD_CODE } from '../src/parse/strace/intern.js';

describe('strace reader: interned names', () => {
  it('gives the text asked for, the same object each time it repeats', () => {
    const line = 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3';
    const a = intern(line, 0, 6);
    expect(a).toBe('openat');
    expect(intern(`  ${line}`, 2, 8)).toBe(a);
    let h = 0;
    for (const c of 'openat') h = nextHash(h, c.charCodeAt(0));
    expect(internHashed(line, 0, 6, h)).toBe('openat');
  });

  it('stays right when slots collide and are replaced (bounded table, no stale answer)', () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
    for (const w of words) expect(intern(`x ${w} y`, 2, 2 + w.length)).toBe(w);
    for (const w of words.slice(0, 500)) expect(intern(w, 0, w.length)).toBe(w);
  });

  it('events carry the same name and errno objects line after line', () => {
    const text =
      'openat(AT_FDCWD, "/a", O_RDONLY) = -1 ENOENT (x)\nopenat(AT_FDCWD, "/b", O_RDONLY) = -1 ENOENT (x)\n';
    const [a, b] = parseRecords(text, { source: 'strace' });
    expect(a?.kind === 'syscall' && b?.kind === 'syscall').toBe(true);
    if (a?.kind !== 'syscall' || b?.kind !== 'syscall') return;
    expect(a.syscall).toBe('openat');
    expect(a.errno).toBe('ENOENT');
    expect(Object.keys(a)).toEqual(Object.keys(b));
  });

  it('names by their packed key: the same object as intern(), exact whatever collides', () => {
    const keyOf = (name: string): [number, number, number] => {
      const k: [number, number, number] = [0, 0, 0];
      for (let n = 0; n < name.length; n++) {
        const part = Math.floor(n / 5);
        k[part] = k[part]! * 64 + WORD_CODE[name.charCodeAt(n)]!;
      }
      return k;
    };
    const names = [
      'openat',
      'read',
      'rt_sigaction',
      'a',
      'A',
      '_',
      'Z9',
      'clock_nanosleep',
      'a0000',
      'a00000',
    ];
    for (let i = 0; i < 5000; i++) names.push(`s${i.toString(36)}_${(i * 7919).toString(36)}`.slice(0, 15));
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        const got = internName(`x(${name}(`, 2, 2 + name.length, ...keyOf(name));
        expect(got).toBe(name);
        expect(got).toBe(intern(name, 0, name.length));
      }
    }
  });
});
