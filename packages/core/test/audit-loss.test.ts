import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSession } from '../src/index.js';

/** An auditd event of serial `n`: a SYSCALL record (an openat by cat) and its EOE. */
function event(n: number, node?: string): string {
  const head = node === undefined ? '' : `node=${node} `;
  const stamp = `msg=audit(1700000000.${String(n % 1000).padStart(3, '0')}:${n})`;
  return [
    `${head}type=SYSCALL ${stamp}: arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=${4000 + (n % 7)} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm="cat" exe="/usr/bin/cat" key=(null)`,
    `${head}type=EOE ${stamp}: `,
  ].join('\n');
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The audit_events_lost alerts of a session over `text`. */
function lost(text: string) {
  const session = createSession({ rules: false });
  session.beginInput('audit.log');
  session.write(`${text}\n`);
  session.end();
  return session.summary().alerts.filter((a) => a.details?.reason === 'audit_events_lost');
}

describe('audit events that never reached the log', () => {
  it('a hole in the serials (events the kernel dropped): one critical trace_lost naming them', () => {
    // What a flood past audit_backlog_limit leaves: serial 49, then 59.
    const text = [...range(40, 49), ...range(59, 70)].map((n) => event(n)).join('\n');
    expect(lost(text)).toEqual([
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        count: 9,
        line: 21,
        message: expect.stringMatching(
          /^audit events lost: serials 50–58 \(9 events\) never reached audit\.log \(after line 19, before line 21\); the kernel drops events when its backlog or rate limit is exceeded/,
        ),
        details: expect.objectContaining({ reason: 'audit_events_lost', first: 50, last: 58 }),
      }),
    ]);
  });

  it('a hole at the very end is judged when the log ends', () => {
    expect(lost([1, 2, 3, 5].map((n) => event(n)).join('\n'))).toEqual([
      expect.objectContaining({
        count: 1,
        message: expect.stringMatching(/^audit events lost: serial 4 \(1 event\)/),
      }),
    ]);
  });

  it('not for whole logs: events out of order, several hosts, auditd’s own events, a reboot', () => {
    // Written slightly out of order, as events of different CPUs can be.
    expect(lost([1, 2, 4, 3, 5, 7, 6, 8].map((n) => event(n)).join('\n'))).toEqual([]);
    // Two hosts, each without a hole.
    expect(
      lost(
        range(1, 20)
          .map((n) => `${event(100 + n, 'web')}\n${event(5000 + n, 'db')}`)
          .join('\n'),
      ),
    ).toEqual([]);
    // auditd numbers its own events itself (DAEMON_START 2461 amid kernel serials 548, 549).
    expect(
      lost(
        [
          'type=DAEMON_START msg=audit(1795853860.937:2461): op=start ver=3.0.9 format=enriched kernel=6.18.44 auid=4294967295 pid=12110 uid=0 ses=4294967295 res=success',
          event(548),
          event(549),
        ].join('\n'),
      ),
    ).toEqual([]);
    // A reboot starts the serials again.
    expect(lost([...range(5000, 5010), ...range(1, 10)].map((n) => event(n)).join('\n'))).toEqual([]);
    // Kernel lines through printk (no auditd) are a few kinds among many: not followed.
    expect(
      lost(
        [
          'audit: type=1400 audit(1700000000.100:100): apparmor="DENIED" operation="open" profile="ping" name="/etc/shadow" pid=1 comm="ping" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
          'audit: type=1400 audit(1700000000.200:250): apparmor="DENIED" operation="open" profile="ping" name="/etc/shadow" pid=1 comm="ping" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('a log that merges hosts without node= (audisp-remote, name_format = NONE): their counters stay apart', () => {
    // Two hosts' events interleaved, each whole: no loss, in either order of first events.
    const merged = (a: number[], b: number[]): string =>
      a.map((n, i) => `${event(n)}\n${b[i] === undefined ? '' : event(b[i] as number)}`).join('\n');
    expect(lost(merged(range(1000, 1100), range(52000, 52100)))).toEqual([]);
    expect(lost(merged(range(52000, 52100), range(1000, 1100)))).toEqual([]);
    // A quiet host: five events, a long run of the other host's, then more of the quiet one.
    const quiet = [...range(1, 5), ...range(9000, 9600), ...range(6, 20)];
    expect(lost(quiet.map((n) => event(n)).join('\n'))).toEqual([]);
    // A hole in one of them is still named, with that counter's numbers.
    const holed = merged(range(1000, 1100), [...range(52000, 52040), ...range(52050, 52100)]);
    expect(lost(holed)).toEqual([
      expect.objectContaining({ count: 9, details: expect.objectContaining({ first: 52041, last: 52049 }) }),
    ]);
  });

  it('a drop of more events than the reorder window: lost when the old counter never goes on', () => {
    // 50 events, then the kernel dropped 949: the serials go on at 1000 and never come back.
    const jump = [...range(1, 50), ...range(1000, 1400)];
    expect(lost(jump.map((n) => event(n)).join('\n'))).toEqual([
      expect.objectContaining({
        severity: 'critical',
        count: 949,
        line: 101,
        message: expect.stringMatching(
          /^audit events lost: serials 51–999 \(949 events\) .*; a log that joins several hosts without node= looks the same \(set name_format in auditd\.conf\)$/,
        ),
      }),
    ]);
    // Two late events of the old counter (written after the jump) do not excuse the drop.
    const late = [...range(1, 50), ...range(1000, 1010), 51, 52, ...range(1011, 1400)];
    expect(lost(late.map((n) => event(n)).join('\n'))).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ first: 53, last: 999 }) }),
    ]);
  });

  it('a live stream: a jump the old counter never comes back from is judged without waiting for the end', () => {
    const session = createSession({ rules: false });
    session.beginInput('audit.log');
    session.write(
      `${range(1, 50)
        .map((n) => event(n))
        .join('\n')}\n`,
    );
    // 70 000 events later (past STREAM_IDLE), before any end.
    for (let from = 5000; from < 75_000; from += 10_000)
      session.write(
        `${range(from, from + 9_999)
          .map((n) => event(n))
          .join('\n')}\n`,
      );
    const alerts = session.summary().alerts.filter((a) => a.details?.reason === 'audit_events_lost');
    expect(alerts).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ first: 51, last: 4999 }) }),
    ]);
    session.end();
  });

  it('property: hosts merged without node= in any interleaving read whole; a run taken out of one is named', () => {
    // Up to four hosts, each a whole counter from its own start, merged in a random order
    // after each host's first event.
    const hostRuns = fc.array(
      fc.record({ start: fc.integer({ min: 1, max: 1_000_000 }), length: fc.integer({ min: 8, max: 60 }) }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(hostRuns, fc.array(fc.nat(), { maxLength: 400 }), fc.nat(), (runs, picks, cut) => {
        // Counters far apart (as hosts' are), so none runs into another's window.
        const counters = runs.map((r, i) => ({ next: r.start + i * 2_000_000, left: r.length }));
        const merge = (skip?: { host: number; at: number }): number[] => {
          const c = counters.map((k) => ({ ...k }));
          // Every host's first event before the rest, so each goes on after the others
          // appeared (a host whose log just stops when another's starts reads as a drop).
          const out: number[] = c.map((k) => {
            k.left--;
            return k.next++;
          });
          let p = 0;
          while (c.some((k) => k.left > 0)) {
            const live = c.filter((k) => k.left > 0);
            const k = live[(picks[p++ % Math.max(picks.length, 1)] ?? 0) % live.length] as (typeof c)[number];
            const host = c.indexOf(k);
            const serial = k.next++;
            k.left--;
            // The removed run: 3 serials inside one counter, with serials after them (a cut end is no hole).
            if (skip !== undefined && host === skip.host && serial >= skip.at && serial < skip.at + 3)
              continue;
            out.push(serial);
          }
          return out;
        };
        expect(
          lost(
            merge()
              .map((n) => event(n))
              .join('\n'),
          ),
        ).toEqual([]);
        const host = cut % counters.length;
        const at = (counters[host] as { next: number }).next + 2;
        const holed = lost(
          merge({ host, at })
            .map((n) => event(n))
            .join('\n'),
        );
        expect(holed).toHaveLength(1);
        expect(holed[0]!.details).toMatchObject({ first: at, last: at + 2 });
      }),
      { numRuns: 60 },
    );
  });

  it('the kernel saying it dropped audit messages (dmesg, kern.log): one critical trace_lost', () => {
    const session = createSession({ rules: false });
    session.beginInput('kern.log');
    session.write(
      `${[
        'Dec  2 06:00:01 web kernel: [12345.678901] audit: type=1400 audit(1764655201.100:71): apparmor="DENIED" operation="open" profile="/usr/sbin/tcpdump" name="/etc/shadow" pid=4242 comm="tcpdump" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
        'Dec  2 06:00:02 web kernel: [12346.000001] audit: backlog limit exceeded',
        'Dec  2 06:00:02 web kernel: [12346.000002] audit: audit_lost=5 audit_rate_limit=0 audit_backlog_limit=64',
        'Dec  2 06:00:03 web kernel: [12347.000000] kauditd_printk_skb: 12 callbacks suppressed',
      ].join('\n')}\n`,
    );
    session.end();
    const summary = session.summary();
    expect(summary.alerts.filter((a) => a.details?.reason === 'audit_messages_lost')).toEqual([
      expect.objectContaining({
        type: 'trace_lost',
        severity: 'critical',
        line: 2,
        message:
          'the kernel dropped audit messages (audit: backlog limit exceeded) at line 2: events it dropped are not in the input (a flood of calls can cause it on purpose)',
      }),
    ]);
    expect(summary.alerts.map((a) => a.type)).toContain('access_denied');
    // The kernel's status line with nothing lost says nothing.
    const quiet = createSession({ rules: false });
    quiet.write('[ 1.000000] audit: audit_lost=0 audit_rate_limit=0 audit_backlog_limit=8192\n');
    quiet.end();
    expect(quiet.summary().alerts.filter((a) => a.details?.reason === 'audit_messages_lost')).toEqual([]);
  });
});
