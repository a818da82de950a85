import { describe, expect, it } from 'vitest';
import { createSession, type SessionAlert, traceIntegrity } from '../src/index.js';

const config = {
  baselineSyscalls: ['read', 'write', 'close', 'exit_group'],
  maxAlertsPerMinute: 0,
  maxTotalEventsPerMinute: 0,
  maxDeniedEventsPerMinute: 0,
  now: () => 1_000,
  timeSource: 'clock' as const,
};

describe('session summary: what it keeps is bounded and whole', () => {
  it('kept alerts and group firsts/lasts are copies equal to what onAlert saw, over many verdicts', () => {
    const seen: SessionAlert[] = [];
    const session = createSession({
      config,
      rules: false,
      limits: { maxAlerts: 50 },
      onAlert: (a) => seen.push(structuredClone(a)),
    });
    session.beginInput('run.strace');
    // One chunk per verdict: more verdicts than the summary waits between copies (32).
    for (let i = 0; i < 100; i++)
      session.write(`${10 + i} openat(AT_FDCWD, "/srv/data/file-${i}.txt", O_RDONLY) = 3\n`);
    session.end();
    const s = session.summary();
    expect(s.alertsTotal).toBe(seen.length);
    expect(s.alerts).toEqual(seen.slice(0, 50));
    const group = s.groups.find((g) => g.type === 'unknown_syscall');
    expect(group?.first).toEqual(seen[0]);
    expect(group?.last).toEqual(seen[seen.length - 1]);
  });

  it('counts the hits on targets past the cap instead of dropping them silently', () => {
    const session = createSession({ config, rules: false });
    for (let i = 0; i < 40; i++)
      session.write(
        `10 openat(AT_FDCWD, "/srv/data/file-${i}.txt", O_RDONLY) = -1 EACCES (Permission denied)\n`,
      );
    session.end();
    const group = session.summary().groups.find((g) => g.type === 'denied_syscall');
    expect(group?.targets.length).toBeLessThan(40);
    const listed = group?.targets.reduce((n, t) => n + t.count, 0) ?? 0;
    expect(listed + (group?.targetsOmitted ?? 0)).toBe(40);
  });
});

describe('trace integrity: per-process memory', () => {
  const lines = (pids: number, exits: number): string => {
    const out: string[] = [];
    for (let p = 0; p < pids; p++) out.push(`${100 + p} read(0, "", 1) = 0`);
    for (let p = 0; p < exits; p++) out.push(`${100 + p} +++ exited with 0 +++`);
    return `${out.join('\n')}\n`;
  };

  it('follows no pid when exits are not expected (nothing reads them; audit has no exits)', () => {
    const integrity = traceIntegrity({ expectExits: false });
    const session = createSession({ config, checks: [integrity], rules: false });
    session.write(lines(500, 0));
    expect(integrity.liveCount).toBe(0);
    session.end();
    expect(session.summary().alerts.some((a) => a.type === 'trace_lost')).toBe(false);
  });

  it('with exits expected, the end alert counts every lost pid and cites one with its line and sample', () => {
    const integrity = traceIntegrity({ expectExits: true });
    const session = createSession({ config, checks: [integrity], rules: false });
    // 200 pids; the even ones exit right away: 100 lost.
    const text = Array.from({ length: 200 }, (_, p) =>
      p % 2 === 0
        ? `${100 + p} read(0, "", 1) = 0\n${100 + p} +++ exited with 0 +++\n`
        : `${100 + p} read(0, "", 1) = 0\n`,
    ).join('');
    session.write(text);
    session.end();
    const lost = session.summary().alerts.find((a) => a.details?.reason === 'missing_exit');
    expect(lost).toMatchObject({ count: 100, pid: 101, line: 3, sample: '101 read(0, "", 1) = 0' });
  });

  it('past the samples it keeps, the end alert still names a lost pid and its line', () => {
    const integrity = traceIntegrity({ expectExits: true });
    const session = createSession({ config, checks: [integrity], rules: false });
    session.write(lines(200, 100)); // the 64 sampled pids are among the 100 that exit
    session.end();
    const lost = session.summary().alerts.find((a) => a.details?.reason === 'missing_exit');
    expect(lost).toMatchObject({ count: 100, pid: 200, line: 101 });
    expect(lost?.sample).toBeUndefined();
  });
});
