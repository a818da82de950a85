import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { binPath } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'syscan-cli-follow-'));
/** Every follower started: one a failed test left running is killed, not left to follow for ever. */
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A follow-mode child whose stdout lines can be awaited (bounded: each wait gives up after 20 s). */
function start(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [binPath, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const poke = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    poke();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    poke();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stdout:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return {
    child,
    exited,
    waitFor,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('syscan analyze --follow', () => {
  it('sees lines appended to a growing file, across rotation and truncation, and stops on SIGINT with a summary', async () => {
    const log = join(dir, 'trace.log');
    const cfg = join(dir, 'cfg.json');
    writeFileSync(
      cfg,
      JSON.stringify({ baselineSyscalls: ['read', 'openat', 'close'], maxAlertsPerMinute: 0 }),
    );
    writeFileSync(log, 'read(3, "x", 1) = 1\n');
    const run = start([
      'analyze',
      '--follow',
      '--interval',
      '50',
      '--format',
      'ndjson',
      '--config',
      cfg,
      log,
    ]);
    const alerts = () => lines(run.stdout).filter((l) => l.kind === 'alert');

    appendFileSync(log, 'openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)\n');
    await run.waitFor(() => alerts().some((a) => a.type === 'denied_syscall'), 'the first denial');

    // logrotate: rename, then a new file at the same path.
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'close(3) = 0\n');
    await run.waitFor(() => run.stderr.includes('was rotated'), 'the rotation notice');
    appendFileSync(log, 'ptrace(PTRACE_ATTACH, 1) = 0\n');
    await run.waitFor(() => alerts().some((a) => a.syscall === 'ptrace'), 'an alert from the new file');

    // copytruncate: the same file cut to zero, then written again.
    truncateSync(log, 0);
    await run.waitFor(() => run.stderr.includes('was truncated'), 'the truncation notice');
    appendFileSync(log, 'mount("none", "/mnt", "tmpfs", 0, NULL) = 0\n');
    await run.waitFor(() => alerts().some((a) => a.syscall === 'mount'), 'an alert after truncation');

    // Cut in place, it may have lost lines: an alert (a wiped audit log looks like this).
    expect(alerts().find((a) => a.type === 'trace_lost')).toMatchObject({
      severity: 'critical',
      details: { check: 'follow', reason: 'input_truncated' },
    });

    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code).toBe(1);
    const summary = lines(run.stdout).at(-1);
    expect(summary).toMatchObject({ kind: 'summary', verdict: 'alert' });
    expect((summary as { events: number }).events).toBeGreaterThanOrEqual(5);
  });

  it('sees a file cut and written past where it was read between two polls (its size never shrank), and says lines may be lost', async () => {
    const log = join(dir, 'wiped.log');
    const cfg = join(dir, 'wiped.json');
    writeFileSync(cfg, JSON.stringify({ baselineSyscalls: ['read', 'close'] }));
    writeFileSync(log, 'read(3, "x", 1) = 1\n');
    // A long poll period, so that the rewrite lands between two polls.
    const run = start([
      'analyze',
      '--follow',
      '--interval',
      '1500',
      '--format',
      'ndjson',
      '--config',
      cfg,
      log,
    ]);
    await run.waitFor(() => run.stderr.includes('syscan: following'), 'the initial read');
    // Cut and rewritten longer at once, as `echo … > log` by someone covering tracks would.
    writeFileSync(log, 'close(3) = 0\nclose(4) = 0\nptrace(PTRACE_ATTACH, 1) = 0\n');
    await run.waitFor(() => run.stderr.includes('was rewritten'), 'the rewrite notice');
    await run.waitFor(
      () => lines(run.stdout).some((l) => l.kind === 'alert' && l.syscall === 'ptrace'),
      'the rewritten file read from its start',
    );
    const lost = lines(run.stdout).find((l) => l.kind === 'alert' && l.type === 'trace_lost');
    expect(lost).toMatchObject({ details: { check: 'follow', reason: 'input_rewritten', bytesRead: 20 } });
    expect(lost?.message).toMatch(
      /rewritten in place after 20 bytes were read: lines written .* may be lost/,
    );
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(1);
  });

  it('stops on SIGTERM with a clean text summary when nothing alerted', async () => {
    const log = join(dir, 'quiet.log');
    const cfg = join(dir, 'quiet.json');
    writeFileSync(cfg, JSON.stringify({ baselineSyscalls: ['read'] }));
    writeFileSync(log, 'read(3, "x", 1) = 1\n');
    const run = start(['analyze', '--follow', '--interval', '50', '--config', cfg, log]);
    await run.waitFor(() => run.stderr.includes('syscan: following'), 'the initial read');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toMatch(/^CLEAN {2}1 syscall event, no alerts/);
  });
});
