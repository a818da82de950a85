import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createParser, parseRecords, parseStream, parseSyscallEvents } from '../src/index.js';
import { LineSplitter } from '../src/parse/lines.js';
import type { ParsedRecord } from '../src/types.js';

/** Lines as real strace and auditd write them, mixed, to drive both readers. */
const SAMPLE = [
  '1234  12:00:00.000100 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache> <0.000012>',
  '1235  12:00:00.000200 read(3</etc/passwd>, "root:x:0:0:root:/root:/bin/bash\\n", 4096 <unfinished ...>',
  '1234  12:00:00.000300 write(1, "caf\u00e9 \u{1F600} = ) (", 12) = 12 <0.000005>',
  '1235  12:00:00.000400 <... read resumed>) = 32 <0.000100>',
  '1234  12:00:00.000500 openat(AT_FDCWD, "/root/secret", O_RDONLY) = -1 EACCES (Permission denied) <0.000004>',
  'type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 ppid=1 pid=77 comm="cat" exe="/usr/bin/cat" key=(null)',
  'type=PROCTITLE msg=audit(1700000000.123:42): proctitle=636174002F726F6F742F736563726574',
  'type=EOE msg=audit(1700000000.123:42): ',
  '1234  12:00:00.000600 +++ exited with 0 +++',
].join('\n');

function collect(split: Array<string | Uint8Array>): ParsedRecord[] {
  const p = createParser();
  const out: ParsedRecord[] = [];
  for (const c of split) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

function splitAt<T extends string | Uint8Array>(whole: T, cuts: number[]): T[] {
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const parts: T[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(whole.slice(prev, p) as T);
    prev = p;
  }
  parts.push(whole.slice(prev) as T);
  return parts;
}

describe('LineSplitter', () => {
  const lines = (chunks: Array<string | Uint8Array>, max = 1 << 20) => {
    const s = new LineSplitter(max);
    const got: Array<[string, boolean]> = [];
    const sink = (l: string, t: boolean) => got.push([l, t]);
    for (const c of chunks) s.push(c, sink);
    s.end(sink);
    return got;
  };

  it('follows str::lines: \\n and \\r\\n end lines, a lone \\r stays, a last line without \\n counts', () => {
    expect(lines(['a\r\nb\rc\n\nlast'])).toEqual([
      ['a', false],
      ['b\rc', false],
      ['', false],
      ['last', false],
    ]);
    expect(lines(['one\n'])).toEqual([['one', false]]);
  });

  it('strips a \\r whose \\n arrives in the next chunk', () => {
    expect(lines(['x\r', '\ny'])).toEqual([
      ['x', false],
      ['y', false],
    ]);
  });

  it('decodes a UTF-8 character split across byte chunks', () => {
    const bytes = new TextEncoder().encode('h\u00e9\u{1F600}\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(lines([bytes.slice(0, cut), bytes.slice(cut)])).toEqual([['h\u00e9\u{1F600}', false]]);
    }
  });

  it('caps a long line and flags it instead of buffering it', () => {
    const got = lines(['x'.repeat(50), 'y'.repeat(50), '\nnext\n'], 64);
    expect(got).toEqual([
      ['x'.repeat(50) + 'y'.repeat(14), true],
      ['next', false],
    ]);
  });

  it('never cuts a surrogate pair in half', () => {
    const got = lines([`${'a'.repeat(9)}\u{1F600}\n`], 10);
    expect(got).toEqual([['a'.repeat(9), true]]);
  });
});

describe('streaming parser', () => {
  it('counts lines as the seed did', () => {
    const p = createParser();
    p.push('a\nb\n\nc');
    p.end();
    expect(p.stats.lines).toBe(4);
  });

  it('gives the same records whatever the chunking (strings)', () => {
    const whole = collect([SAMPLE]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(collect(splitAt(SAMPLE, cuts))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same records whatever the chunking (bytes, \\r\\n line ends)', () => {
    const bytes = new TextEncoder().encode(SAMPLE.replaceAll('\n', '\r\n'));
    const whole = collect([SAMPLE]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(collect(splitAt(bytes, cuts))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('parseStream over an async iterable equals the one-shot parse', async () => {
    async function* chunks() {
      for (let i = 0; i < SAMPLE.length; i += 7) yield SAMPLE.slice(i, i + 7);
    }
    const got: ParsedRecord[] = [];
    for await (const r of parseStream(chunks())) got.push(r);
    expect(got).toEqual(parseRecords(SAMPLE));
  });

  it('never throws on arbitrary bytes or text', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        collect(chunks);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        parseRecords(text);
        parseSyscallEvents(text);
      }),
      { numRuns: 500 },
    );
  });

  it('handles a 10 MB line in bounded memory: truncated, flagged, the next line still read', () => {
    const p = createParser({ maxLineLength: 1 << 20 });
    const piece = `write(1, "${'A'.repeat(64 * 1024)}`;
    const heapBefore = process.memoryUsage().heapUsed;
    let records: ParsedRecord[] = [];
    for (let sent = 0; sent < 10 * 1024 * 1024; sent += piece.length) records.push(...p.push(piece));
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    records.push(...p.push('", 5) = 5\nclose(3) = 0\n'), ...p.end());
    const issue = records.find((r) => r.kind === 'issue' && r.code === 'line_truncated');
    expect(issue).toBeDefined();
    expect(p.stats.truncatedLines).toBe(1);
    expect(p.stats.lines).toBe(2);
    // 10 MB went in; the splitter kept at most the 1 MiB cap (2 bytes a unit) plus garbage slack.
    expect(heapGrowth).toBeLessThan(40 * 1024 * 1024);
    records = records.filter((r) => r.kind === 'syscall');
    expect(records.at(-1)).toMatchObject({ syscall: 'close' });
  });

  it('keeps memory flat over a large stream', () => {
    const p = createParser();
    const block = `${SAMPLE}\n`.repeat(200);
    let seen = 0;
    // A real collection before each reading: heapUsed without one measures garbage, not retention.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sample = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    let base = 0;
    const total = 64 * 1024 * 1024;
    for (let sent = 0, i = 0; sent < total; sent += block.length, i++) {
      seen += p.push(block).length;
      if (i === 20) base = sample();
    }
    seen += p.end().length;
    expect(seen).toBeGreaterThan(0);
    expect(sample() - base).toBeLessThan(16 * 1024 * 1024);
  });
});
