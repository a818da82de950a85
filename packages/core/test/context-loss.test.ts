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
