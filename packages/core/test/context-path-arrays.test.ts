import { describe, expect, it } from 'vitest';
import { PathArrays } from '../src/context/path-arrays.js';

describe('PathArrays (paths read before, found in place)', () => {
  it('shares one array per text and base, and keeps bases apart', () => {
    const cache = new PathArrays(4096);
    const a = cache.lookup('3, "include", O_RDONLY', 3, '/usr');
    const b = cache.lookup('4, "include", O_RDONLY', 3, '/usr/local');
    expect(a).toEqual(['/usr/include']);
    expect(b).toEqual(['/usr/local/include']);
    expect(cache.lookup('AT_FDCWD, "include", 0', 10, '/usr')).toBe(a);
    expect(cache.lookup('AT_FDCWD, "include", 0', 10, '/usr/local')).toBe(b);
    const abs = cache.lookup('AT_FDCWD, "/etc/./passwd", O_RDONLY', 10, '/tmp');
    expect(abs).toEqual(['/etc/passwd']);
    expect(cache.lookup('AT_FDCWD, "/etc/./passwd", O_RDONLY', 10, '/elsewhere')).toBe(abs);
  });

  it('tells apart texts of one directory that differ in one character', () => {
    const cache = new PathArrays(4096);
    const seen = new Set<readonly string[]>();
    for (let i = 0; i < 200; i++) {
      const args = `AT_FDCWD, "/tmp/x/node/n${i}.txt.bak", O_RDONLY`;
      const paths = cache.lookup(args, 10, undefined);
      expect(paths).toEqual([`/tmp/x/node/n${i}.txt.bak`]);
      expect(cache.lookup(args, 10, undefined)).toBe(paths);
      seen.add(paths!);
    }
    expect(seen.size).toBe(200);
  });

  it('leaves cut, escaped, unclosed, empty and over-long texts to the long way', () => {
    const cache = new PathArrays(16);
    expect(cache.lookup('AT_FDCWD, "/etc/pass"..., 0', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "/etc/a\\"b", 0', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "/etc/a\\\\", 0', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "/etc/passwd', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "", 0', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "/a/very/long/path/name", 0', 10, '/')).toBeUndefined();
    expect(cache.lookup('AT_FDCWD, "rel", 0', 10, undefined)).toBeUndefined();
    // A kept text is not matched by a longer string that starts with it, nor by its cut form.
    expect(cache.lookup('AT_FDCWD, "/etc/x", 0', 10, '/')).toEqual(['/etc/x']);
    expect(cache.lookup('AT_FDCWD, "/etc/xy", 0', 10, '/')).toEqual(['/etc/xy']);
    expect(cache.lookup('AT_FDCWD, "/etc/x"..., 0', 10, '/')).toBeUndefined();
  });
});

describe('PathArrays under texts made to collide', () => {
  it('keeps every bucket short and still answers right', () => {
    const cache = new PathArrays(4096);
    // "Aa" and "BB" have the same 31-multiplier hash: 2^10 texts of one length, one hash.
    const texts: string[] = [];
    for (let n = 0; n < 1024; n++) {
      let t = '/';
      for (let bit = 0; bit < 10; bit++) t += (n >> bit) & 1 ? 'Aa' : 'BB';
      texts.push(t);
    }
    for (const t of texts) expect(cache.lookup(`AT_FDCWD, "${t}", 0`, 10, undefined)).toEqual([t]);
    for (const t of texts) expect(cache.lookup(`AT_FDCWD, "${t}", 0`, 10, undefined)).toEqual([t]);
  });
});
