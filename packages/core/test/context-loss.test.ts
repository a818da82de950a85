import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContextTracker, createSession } from '../src/index.js';
import { hasStrace, traceCommand } from './helpers/rule-trace.js';

const hasPython = spawnSync('python3', ['-c', '0']).status === 0;

/**
 * The attack: a child changes to /etc and waits; its parent then starts a crowd of live
 * children, so that the waiting child is the least recently seen entry of a full process
 * table and is pushed out with its cwd. Woken, it opens `shadow` by a relative path: without
 * its cwd no one can say that was /etc/shadow.
 */
const CROWD = `
import os
wake_r, wake_w = os.pipe()
crowd_r, crowd_w = os.pipe()
first = os.fork()
if first == 0:
    os.close(wake_w); os.close(crowd_w)
    os.chdir('/etc')
    os.read(wake_r, 1)
    try: os.close(os.open('shadow', os.O_RDONLY))
    except OSError: pass
    os._exit(0)
crowd = []
for _ in range(100):
    pid = os.fork()
    if pid == 0:
        os.close(wake_w); os.close(crowd_w)
        os.read(crowd_r, 1)
        os._exit(0)
    crowd.append(pid)
os.close(wake_w)
os.waitpid(first, 0)
os.close(crowd_w)
for pid in crowd: os.waitpid(pid, 0)
`;

describe.skipIf(!hasStrace || !hasPython)('context the tracker lost is an alert, never clean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syscan-context-loss-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'crowd.py');
  writeFileSync(script, CROWD);
  const trace = traceCommand(['python3', script]);

  const lossAlerts = (maxProcesses?: number) => {
    const session = createSession({
      context: createContextTracker(maxProcesses === undefined ? {} : { maxProcesses }),
      rules: false,
    });
    session.analyze(trace);
    session.end();
    const summary = session.summary();
    return {
      summary,
      lost: summary.alerts.filter(
        (a) => a.type === 'trace_lost' && a.details?.reason === 'process_table_full',
      ),
    };
  };

  it('raises trace_lost once, with the count, when live processes are pushed out of a full table', () => {
    const { summary, lost } = lossAlerts(32);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.severity).toBe('critical');
    expect(lost[0]?.count).toBeGreaterThan(0);
    expect(lost[0]?.message).toMatch(/context lost: \d+( or more)? live process\(es\) pushed out/);
    expect(summary.verdict).toBe('alert');
  });

  it('says nothing when the table holds every live process', () => {
    expect(lossAlerts().lost).toHaveLength(0);
  });

  it('raises it for open fds past the per-process cap too (their paths and peers are lost)', () => {
    const fds = traceCommand([
      'python3',
      '-c',
      "import os\nfds=[os.open('/dev/null', os.O_RDONLY) for _ in range(40)]\nos.read(fds[0], 1)",
    ]);
    const session = createSession({ context: createContextTracker({ maxFdsPerProcess: 16 }), rules: false });
    session.analyze(fds);
    session.end();
    const lost = session.summary().alerts.filter((a) => a.details?.reason === 'fd_table_full');
    expect(lost).toHaveLength(1);
    expect(lost[0]?.message).toMatch(/context lost: \d+ open fd\(s\) forgotten/);
  });
});

/**
 * The other blind spot: a program started in a directory the trace never shows (strace
 * without -y) reads `../etc/shadow`; no rule on /etc/shadow can match that. It is said, with
 * who and where, unless the directory became known (a getcwd, a chdir to an absolute path).
 */
describe.skipIf(!hasStrace)('context lost: a path that climbs out of a working directory never shown', () => {
  const alertsOf = (trace: string) => {
    const session = createSession({});
    session.analyze(trace);
    session.end();
    return session.summary().alerts;
  };

  it('raises trace_lost naming the first such path, its call, line and program; the rule on /etc/shadow could not match it', () => {
    // cat from /tmp, no -y: `openat(AT_FDCWD, "../etc/shadow", …)` and no cwd anywhere.
    const trace = traceCommand(['cat', '../etc/shadow'], { cwd: '/tmp' });
    const alerts = alertsOf(trace);
    const lost = alerts.filter((a) => a.details?.reason === 'path_unresolved');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ type: 'trace_lost', syscall: 'openat', paths: ['../etc/shadow'] });
    expect(lost[0]?.process?.comm).toBe('cat');
    expect(lost[0]?.message).toMatch(
      /context lost: \d+ path\(s\) climb out of a working directory the trace never shows, first '\.\.\/etc\/shadow' \(openat, line \d+\): .*strace -y/,
    );
    expect(alerts.some((a) => a.type === 'rule')).toBe(false);
    // With -y the kernel shows the directory: the rule matches, and nothing is lost.
    const shown = alertsOf(traceCommand(['cat', '../etc/shadow'], { cwd: '/tmp', straceArgs: ['-y'] }));
    expect(shown.some((a) => a.details?.reason === 'path_unresolved')).toBe(false);
    expect(shown.some((a) => a.type === 'rule' && a.paths?.[0] === '/etc/shadow')).toBe(true);
  });

  it('sees the climb in any path of a call, not only its first: a symlink to ../etc/shadow, then opened', () => {
    // The link's own name is plain; its target climbs. Opening the link reads the file.
    const trace = [
      '510 execve("/usr/bin/python3", ["python3", "x.py"], 0x7ffd /* 5 vars */) = 0',
      '510 symlink("../etc/shadow", "k") = 0',
      '510 openat(AT_FDCWD, "k", O_RDONLY) = 3',
    ].join('\n');
    const lost = alertsOf(trace).filter((a) => a.details?.reason === 'path_unresolved');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ syscall: 'symlink', paths: ['../etc/shadow'], line: 2 });
  });

  it('learns the directory from getcwd, so the same path is judged', () => {
    const trace = [
      '500 execve("/usr/bin/python3", ["python3", "x.py"], 0x7ffd /* 5 vars */) = 0',
      '500 getcwd("/tmp", 4096) = 5',
      '500 openat(AT_FDCWD, "../etc/shadow", O_RDONLY) = 3',
    ].join('\n');
    const alerts = alertsOf(trace);
    expect(alerts.some((a) => a.details?.reason === 'path_unresolved')).toBe(false);
    expect(alerts.find((a) => a.type === 'rule')?.paths).toEqual(['/etc/shadow']);
  });
});
