import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, ndjson, runCli } from './helpers/cli.js';
import { corpusDir, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRACE = [
  'openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
  'read(3, "root:x:0:0:root:/root:/bin/bash\\n", 4096) = 32',
  'write(1, "EPERM", 5) = 5',
  'openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY) = -1 EACCES (Permission denied)',
  'close(3) = 0',
  '+++ exited with 0 +++',
  '',
].join('\n');

describe('syscan parse', () => {
  it('prints syscall events as NDJSON from stdin', async () => {
    const r = await runCli(['parse'], { input: TRACE });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const events = ndjson(r.stdout);
    expect(events.map((e) => e.syscall)).toEqual(['openat', 'read', 'write', 'openat', 'close']);
    expect(events.map((e) => e.denied)).toEqual([false, false, false, true, false]);
    expect(events[3]).toMatchObject({ kind: 'syscall', errno: 'EACCES', line: 4, source: 'strace' });
  });

  it("reads '-' as stdin, and files in order", async () => {
    const path = join(dir, 'one.strace');
    writeFileSync(path, 'getpid() = 42\n');
    const r = await runCli(['parse', path, '-'], { input: 'getuid() = 0\n' });
    expect(ndjson(r.stdout).map((e) => e.syscall)).toEqual(['getpid', 'getuid']);
  });

  it('prints a JSON array with --format json, and [] for nothing', async () => {
    const r = await runCli(['parse', '--format', 'json'], { input: TRACE });
    const events = JSON.parse(r.stdout) as unknown[];
    expect(events).toHaveLength(5);
    expect(JSON.parse((await runCli(['parse', '--format', 'json'], { input: '' })).stdout)).toEqual([]);
  });

  it('adds process records with --all', async () => {
    const r = await runCli(['parse', '--all'], { input: TRACE });
    const records = ndjson(r.stdout);
    expect(records.at(-1)).toMatchObject({ kind: 'exit', exitCode: 0 });
    expect(records.filter((x) => x.kind === 'syscall')).toHaveLength(5);
  });

  it('honours --source', async () => {
    const audit =
      'type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 pid=7 comm="ls"\n';
    const auto = ndjson((await runCli(['parse'], { input: audit })).stdout);
    expect(auto[0]).toMatchObject({ syscall: 'execve', source: 'audit' });
    const strace = ndjson((await runCli(['parse', '--source', 'strace'], { input: audit })).stdout);
    expect(strace).toEqual([]);
  });

  it('reads binary garbage as lines without events, never crashing', async () => {
    const garbage = Buffer.alloc(300_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 3)) & 0xff;
    const r = await runCli(['parse'], { input: garbage });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // analyze fails closed on it (exit 2, see fail-closed.test.ts) unless told to accept it.
    const a = await runCli(['analyze', '--format', 'json', '--allow-empty'], { input: garbage });
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ verdict: 'clean', events: 0 });
  });

  it('stops quietly when the reader goes away (EPIPE)', () => {
    const big = join(dir, 'big.strace');
    const line = 'openat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3\n';
    writeFileSync(big, line.repeat(200_000));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${binPath}" parse "${big}" | head -n 1; echo "status=\${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: 'utf8' },
    );
    expect(ndjson(r.stdout)).toHaveLength(1);
    expect(r.stderr.trim()).toBe('status=0');
  });
});

describe.skipIf(!hasCorpus)('syscan parse on the corpus', () => {
  if (!hasCorpus) it.skip(corpusSkipReason, () => {});

  it('parses strace -f -tt -T output with pids and times', async () => {
    const file = join(corpusDir, 'strace', 'cat-tt-T.log');
    const r = await runCli(['parse', file]);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\d\d:\d\d/.test(l) && l.includes('('));
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(lines.length);
    expect(events.every((e) => typeof e.time === 'number' && e.pid === undefined)).toBe(true);
    // `-T`: every finished call has its duration (exit_group never returns).
    expect(events.filter((e) => e.ret !== '?').every((e) => typeof e.durationUs === 'number')).toBe(true);
  });

  it('parses an audit log into audit events', async () => {
    const file = join(corpusDir, 'audit', 'local-generated', 'audit-enriched.log');
    const r = await runCli(['parse', '--all', file]);
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records.some((x) => x.kind === 'syscall' && x.source === 'audit')).toBe(true);
  });
});
