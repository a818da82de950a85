import { describe, expect, it } from 'vitest';
import { createExtractor, defaultExtract } from '../src/index.js';

const LINE = 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3';

describe('the default extractor', () => {
  it('reads a strace body with [pid N] prefixes as text, not as broken JSON', () => {
    const text = `[pid  42] ${LINE}\n[pid  43] close(3) = 0\n`;
    expect(defaultExtract(text)).toEqual([text]);
  });

  it('reads NDJSON, keeping non-JSON lines as trace text', () => {
    const body = `${JSON.stringify({ stdout: 'hi' })}\n${LINE}\n${JSON.stringify({ trace: LINE })}\n`;
    expect(defaultExtract(body)).toEqual(['hi', LINE, `${LINE}\n`]);
  });

  it('reads circular structures once, without looping', () => {
    const a: Record<string, unknown> = { trace: LINE };
    a.self = a;
    expect(defaultExtract({ a, again: a })).toEqual([LINE]);
  });

  it('has no telemetry for a body without the fields, and for empty fields', () => {
    expect(defaultExtract({ status: 'ok', n: 1 })).toBeUndefined();
    expect(defaultExtract({ stdout: '' })).toBeUndefined();
    expect(defaultExtract('')).toBeUndefined();
  });

  it('calls a payload too large to walk uninspected', () => {
    const many = Array.from({ length: 100_001 }, () => ({}));
    expect(defaultExtract({ many })).toEqual({ uninspected: expect.stringContaining('more than 100000') });
  });

  it('counts JSON inside a string as a level of depth', () => {
    const inner = JSON.stringify({ stdout: LINE });
    expect(createExtractor({ maxDepth: 4 })({ a: { text: inner } })).toEqual([LINE]);
    expect(createExtractor({ maxDepth: 3 })({ a: { text: inner } })).toEqual({
      uninspected: expect.stringContaining('maxDepth (3)'),
    });
  });

  it('decodes Buffers and typed arrays under a field', () => {
    expect(defaultExtract({ stdout: new Uint8Array(Buffer.from(LINE)) })).toEqual([LINE]);
    expect(defaultExtract({ trace: [Buffer.from('a'), 'b'] })).toEqual(['a', 'b']);
  });
});

describe('the extractor cap', () => {
  it('refuses to decode or parse past maxChars', () => {
    const extract = createExtractor({ maxChars: 100 });
    expect(extract(Buffer.alloc(101, 'a'))).toEqual({
      uninspected: expect.stringContaining('101 characters'),
    });
    expect(extract({ note: `{${' '.repeat(200)}}` })).toEqual({
      uninspected: expect.stringContaining('202 characters'),
    });
    expect(extract({ stdout: 'x'.repeat(60), stderr: 'y'.repeat(60) })).toEqual({
      uninspected: expect.stringContaining('telemetry over maxInspectBytes'),
    });
    expect(extract({ stdout: 'x'.repeat(60) })).toEqual(['x'.repeat(60)]);
  });
});
