/**
 * Audit events that never arrived. The kernel numbers every audit event it makes, one
 * serial after another (`msg=audit(1700000000.123:42)`), and auditd writes each event it
 * receives, so in its log the serials run without a hole. A hole is events the kernel made and
 * dropped: its backlog overflowed (`audit_backlog_limit`) or a rate limit (`-r`) was hit, which
 * a program can cause on purpose by flooding audit with calls, so that the one that matters is
 * among the dropped. An excerpt (`ausearch -k KEY`, a `grep`) has holes too, and is as blind.
 * go-libaudit (auditbeat) reports the same holes as lost events.
 *
 * Serials are followed per host (`node=`). Events may reach the log slightly out of order, so
 * a hole is judged lost only once the log has gone `REORDER_WINDOW` serials past it (or at the
 * end). A serial far below the highest starts a new sequence (a reboot, logs given out of
 * order). auditd's own events (`DAEMON_START`, …) carry auditd's numbers, not the kernel's, and
 * kernel lines written through printk (`audit: type=1400 audit(…)`: no auditd running) are a
 * few kinds only: neither is followed. Raised once, at the first hole, as `trace_lost`.
 */

import type { Alert } from '../../detect/alert.js';
import type { ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Serials past a hole before it is judged lost (events written out of order arrive within a few). */
const REORDER_WINDOW = 256;
/** Holes followed per host at once; past it the oldest is judged at once. */
const MAX_HOLES = 1024;
/** Hosts followed; past it a new host's events are not (the first alert is what matters). */
const MAX_HOSTS = 256;

interface Hole {
  first: number;
  last: number;
  /** Line of the event before the hole and after it. */
  before: number | undefined;
  after: number | undefined;
}

interface Sequence {
  highest: number;
  highestLine: number | undefined;
  holes: Hole[];
}

export function auditLossCheck(severity: Severity): SessionCheck {
  const hosts = new Map<string, Sequence>();
  let raised = false;
  let input: string | undefined;

  const raise = (out: Alert[], host: string, hole: Hole): void => {
    if (raised) return;
    raised = true;
    const n = hole.last - hole.first + 1;
    const serials = n === 1 ? `serial ${hole.first}` : `serials ${hole.first}–${hole.last}`;
    const where =
      hole.before === undefined
        ? ''
        : ` (after line ${hole.before}${hole.after === undefined ? '' : `, before line ${hole.after}`})`;
    const alert: Alert = {
      type: 'trace_lost',
      severity,
      message: `audit events lost: ${serials} (${n} event${n === 1 ? '' : 's'}) never reached ${input ?? 'the log'}${host === '' ? '' : ` from ${host}`}${where}; the kernel drops events when its backlog or rate limit is exceeded, which a flood of calls can cause on purpose, and an excerpt (ausearch -k, grep) leaves them out`,
      count: n,
      details: { check: 'trace_integrity', reason: 'audit_events_lost', first: hole.first, last: hole.last },
    };
    if (hole.after !== undefined) alert.line = hole.after;
    if (host !== '') alert.host = host;
    out.push(alert);
  };

  /** Judges the holes the log has gone far enough past (all of them at the end). */
  const settle = (out: Alert[], host: string, s: Sequence, all: boolean): void => {
    while (s.holes.length > 0) {
      const hole = s.holes[0] as Hole;
      if (!all && hole.last >= s.highest - REORDER_WINDOW && s.holes.length <= MAX_HOLES) return;
      s.holes.shift();
      raise(out, host, hole);
    }
  };

  return {
    beginInput(name: string): void {
      input = name;
    },
    record(r: ParsedRecord, out: Alert[]): void {
      // Raised once: after that, following the serials buys nothing.
      if (raised || (r.kind !== 'syscall' && r.kind !== 'audit')) return;
      if (r.source !== 'audit' || r.audit === undefined) return;
      const serial = r.audit.serial;
      if (!Number.isSafeInteger(serial) || serial <= 0) return;
      if (r.audit.recordTypes[0]?.startsWith('DAEMON_') === true) return;
      const raw = r.raw;
      if (!(raw.startsWith('type=') || raw.startsWith('node='))) return;
      const host = r.host ?? '';
      let s = hosts.get(host);
      if (s === undefined) {
        if (hosts.size >= MAX_HOSTS) return;
        hosts.set(host, { highest: serial, highestLine: r.line, holes: [] });
        return;
      }
      if (serial > s.highest) {
        if (serial > s.highest + 1)
          s.holes.push({ first: s.highest + 1, last: serial - 1, before: s.highestLine, after: r.line });
        s.highest = serial;
        s.highestLine = r.line;
      } else if (serial < s.highest - REORDER_WINDOW) {
        // A new sequence: what the old one still missed is lost.
        settle(out, host, s, true);
        s = { highest: serial, highestLine: r.line, holes: [] };
        hosts.set(host, s);
        return;
      } else if (serial < s.highest) fill(s.holes, serial);
      settle(out, host, s, false);
    },
    end(out: Alert[]): void {
      if (!raised) for (const [host, s] of hosts) settle(out, host, s, true);
    },
  };
}

/** An event that arrived late: its serial leaves the hole it was in (which may split in two). */
function fill(holes: Hole[], serial: number): void {
  for (let i = 0; i < holes.length; i++) {
    const h = holes[i] as Hole;
    if (serial < h.first || serial > h.last) continue;
    if (h.first === h.last) holes.splice(i, 1);
    else if (serial === h.first) h.first++;
    else if (serial === h.last) h.last--;
    else {
      holes.splice(i + 1, 0, { first: serial + 1, last: h.last, before: undefined, after: h.after });
      h.last = serial - 1;
    }
    return;
  }
}
