import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLines, runCli } from './helpers/cli.js';

/**
 * Rotated logs are often gzip-compressed (logrotate's `audit.log.1.gz`). A .gz is read
 * through gunzip, judged exactly as its text; a gzip cut short is an error, never a shorter
 * clean trace; other compressions are named instead of "no telemetry".
 */
const here = dirname(fileURLToPath(import.meta.url));
const example = readFileSync(join(here, '..', '..', '..', 'examples', 'ls-shadow.strace'));
const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-compressed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
/** The JSON report without what names the input (its file name). */
const report = async (path: string) => {
  const r = await runCli(['analyze', '--format', 'json', path]);
  const doc = JSON.parse(r.stdout);
  return {
    code: r.code,
    verdict: doc.verdict,
    events: doc.events,
    syscalls: doc.syscalls,
    alerts: doc.alerts.map((a: { type: string; line?: number; message: string }) => [
      a.type,
      a.line,
      a.message,
    ]),
  };
};

describe('analyze: compressed inputs', () => {
  it('a gzip file (even two members back to back) is judged as its text', async () => {
    const plain = await report(file('ls-shadow.strace', example));
    expect(plain.code).toBe(1);
    expect(await report(file('ls-shadow.strace.gz', gzipSync(example)))).toEqual(plain);
    const half = example.length >> 1;
    const cut = example.lastIndexOf(10, half) + 1;
    const twoMembers = Buffer.concat([gzipSync(example.subarray(0, cut)), gzipSync(example.subarray(cut))]);
    expect(await report(file('two-members.gz', twoMembers))).toEqual(plain);
  });

  it('a gzip cut short is one line and exit 2, not a shorter clean trace', async () => {
    const gz = gzipSync(example);
    const r = await runCli(['analyze', file('cut.gz', gz.subarray(0, gz.length >> 1))]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      expect.stringMatching(
        /^syscan: cannot read '.*cut\.gz': gzip data cut short \(unexpected end of file\)/,
      ),
    ]);
  });

  it('zstd and xz are named, with the command that decompresses them', async () => {
    const zst = file('trace.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    const xz = file('trace.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]));
    for (const [path, name, tool] of [
      [zst, 'zstd', 'zstdcat'],
      [xz, 'xz', 'xzcat'],
    ] as const) {
      const r = await runCli(['analyze', path]);
      expect(r.code).toBe(2);
      expect(errorLines(r.stderr)).toEqual([expect.stringContaining(`is ${name}-compressed`)]);
      expect(r.stderr).toContain(`${tool} '${path}'`);
    }
  });

  it('--follow on a gzip file is a usage error', async () => {
    const r = await runCli(['analyze', '--follow', file('follow.gz', gzipSync(example))]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([expect.stringContaining('is gzip-compressed')]);
  });
});
