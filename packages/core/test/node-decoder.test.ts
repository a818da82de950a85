import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createParser } from '../src/index.js';
import { createFastUtf8Decoder } from '../src/node.js';

function decodeAll(chunks: Uint8Array[]): string {
  const d = createFastUtf8Decoder();
  let s = '';
  for (const c of chunks) s += d.decode(c, { stream: true });
  return s + d.decode();
}

describe('createFastUtf8Decoder', () => {
  it('decodes like TextDecoder whatever the chunking, ASCII or not', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (text, cuts) => {
          const bytes = Buffer.from(text, 'utf8');
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(prev, p));
            prev = p;
          }
          chunks.push(bytes.subarray(prev));
          expect(decodeAll(chunks)).toBe(new TextDecoder().decode(bytes));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodes invalid bytes as TextDecoder does (replacement characters)', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xc3, 0x0a, 0xe2, 0x82]);
    expect(decodeAll([bytes.subarray(0, 3), bytes.subarray(3)])).toBe(new TextDecoder().decode(bytes));
  });

  it('plugs into the parser', () => {
    const p = createParser({ createDecoder: createFastUtf8Decoder });
    const records = [...p.push(Buffer.from('close(3) = 0\nwrite(1, "\u00e9", 2) = 2\n')), ...p.end()];
    expect(records.map((r) => (r.kind === 'syscall' ? r.syscall : r.kind))).toEqual(['close', 'write']);
  });
});

describe('core purity', () => {
  it('imports no node: module outside src/node.ts', () => {
    const src = fileURLToPath(new URL('../src', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (full.endsWith('.ts') && full !== join(src, 'node.ts')) {
          if (/from\s+['"]node:|require\(['"]node:|import\(['"]node:/.test(readFileSync(full, 'utf8')))
            offenders.push(full);
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
