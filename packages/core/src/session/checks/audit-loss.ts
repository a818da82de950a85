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
 * end). A log that merges several hosts without `node=` (audisp-remote's default
 * `name_format = NONE`) interleaves their counters: each serial far from every sequence followed
 * so far starts a sequence of its own, so hosts stay apart. A jump far ahead is either such a
 * second host or a drop of more events than the window; it is judged lost only if the sequence
 * it left never goes on (at the end, or `STREAM_IDLE` events later), since a counter that
 * dropped events never gives out the dropped serials again. auditd's own events (`DAEMON_START`,
 * …) carry auditd's numbers, not the kernel's, and kernel lines written through printk
 * (`audit: type=1400 audit(…)`: no auditd running) are a few kinds only: neither is followed.
 * Raised once, at the first hole, as `trace_lost`.
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
/** Sequences followed per host (hosts merged without node=, reboots); past it the least recently seen is judged and dropped. */
const MAX_SEQUENCES = 64;
/** Events of a host after which a sequence that jumped ahead and never went on is judged to have lost the jump. */
const STREAM_IDLE = 65_536;
/**
 * New serials a sequence needs past a jump ahead before the jump counts as another counter: an
 * event or two written late (from before the drop) must not excuse a drop.
 */
const GONE_ON = 4;

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
  /** The host's event count when this sequence last had an event. */
  seen: number;
  /**
   * A jump far ahead from this sequence (which started another): lost if this one never goes
   * on, a second counter (another host in a merged log) if it does.
   */
  jump: Hole | undefined;
  /** New serials past the jump's start since it was made. */
  goneOn: number;
}

interface Host {
  sequences: Sequence[];
  events: number;
}

export function auditLossCheck(severity: Severity): SessionCheck {
  const hosts = new Map<string, Host>();
  let raised = false;
  let input: string | undefined;

  const raise = (out: Alert[], host: string, hole: Hole, jumped: boolean): void => {
    if (raised) return;
    raised = true;
    const n = hole.last - hole.first + 1;
    const serials = n === 1 ? `serial ${hole.first}` : `serials ${hole.first}–${hole.last}`;
    const where =
      hole.before === undefined
        ? ''
        : ` (after line ${hole.before}${hole.after === undefined ? '' : `, before line ${hole.after}`})`;
    // A jump the old sequence never came back from looks the same as a second host's log
    // appended without node=: say so, so the reader knows what to check.
    const merged = jumped
      ? '; a log that joins several hosts without node= looks the same (set name_format in auditd.conf)'
      : '';
    const alert: Alert = {
      type: 'trace_lost',
      severity,
      message: `audit events lost: ${serials} (${n} event${n === 1 ? '' : 's'}) never reached ${input ?? 'the log'}${host === '' ? '' : ` from ${host}`}${where}; the kernel drops events when its backlog or rate limit is exceeded, which a flood of calls can cause on purpose, and an excerpt (ausearch -k, grep) leaves them out${merged}`,
      count: n,
      details: { check: 'trace_integrity', reason: 'audit_events_lost', first: hole.first, last: hole.last },
    };
    if (hole.after !== undefined) alert.line = hole.after;
    if (host !== '') alert.host = host;
    out.push(alert);
  };

  /** Judges the holes the log has gone far enough past (all of them, and the jump, when `all`). */
  const settle = (out: Alert[], host: string, s: Sequence, all: boolean): void => {
    while (s.holes.length > 0) {
      const hole = s.holes[0] as Hole;
      if (!all && hole.last >= s.highest - REORDER_WINDOW && s.holes.length <= MAX_HOLES) return;
      s.holes.shift();
      raise(out, host, hole, false);
    }
    if (all && s.jump !== undefined) raise(out, host, s.jump, true);
  };

  /** Judges the jumps of sequences that have not gone on for STREAM_IDLE of the host's events. */
  const settleIdle = (out: Alert[], host: string, h: Host): void => {
    for (const s of h.sequences)
      if (s.jump !== undefined && h.events - s.seen > STREAM_IDLE) {
        raise(out, host, s.jump, true);
        s.jump = undefined;
      }
  };

  const follow = (out: Alert[], host: string, h: Host, serial: number, line: number | undefined): void => {
    h.events++;
    // The sequence this serial goes on: the nearest one within the window.
    let s: Sequence | undefined;
    for (const q of h.sequences)
      if (
        serial >= q.highest - REORDER_WINDOW &&
        serial <= q.highest + REORDER_WINDOW &&
        (s === undefined || Math.abs(serial - q.highest) < Math.abs(serial - s.highest))
      )
        s = q;
    if (s === undefined) {
      // Far from every sequence: a second counter, a reboot, or a jump past dropped events. A
      // jump ahead of the nearest sequence below is a hole if that sequence never goes on.
      let below: Sequence | undefined;
      for (const q of h.sequences)
        if (q.highest < serial && (below === undefined || q.highest > below.highest)) below = q;
      if (below !== undefined && below.jump === undefined) {
        below.jump = { first: below.highest + 1, last: serial - 1, before: below.highestLine, after: line };
        below.goneOn = 0;
      }
      if (h.sequences.length >= MAX_SEQUENCES) {
        const stale = h.sequences.reduce((a, b) => (b.seen < a.seen ? b : a));
        settle(out, host, stale, true);
        h.sequences.splice(h.sequences.indexOf(stale), 1);
      }
      h.sequences.push({
        highest: serial,
        highestLine: line,
        holes: [],
        seen: h.events,
        jump: undefined,
        goneOn: 0,
      });
      settleIdle(out, host, h);
      return;
    }
    s.seen = h.events;
    if (serial > s.highest) {
      // It went on: its jump ahead was another counter, not a loss (or, if it stops short, the
      // events it did give out were not lost).
      if (s.jump !== undefined) {
        if (++s.goneOn >= GONE_ON) s.jump = undefined;
        else if (serial >= s.jump.first) {
          s.jump.first = Math.min(serial + 1, s.jump.last + 1);
          s.jump.before = line;
        }
        if (s.jump !== undefined && s.jump.first > s.jump.last) s.jump = undefined;
      }
      if (serial > s.highest + 1)
        s.holes.push({ first: s.highest + 1, last: serial - 1, before: s.highestLine, after: line });
      s.highest = serial;
      s.highestLine = line;
    } else if (serial < s.highest) fill(s.holes, serial);
    settle(out, host, s, false);
    if (h.events % 4096 === 0) settleIdle(out, host, h);
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
      let h = hosts.get(host);
      if (h === undefined) {
        if (hosts.size >= MAX_HOSTS) return;
        h = { sequences: [], events: 0 };
        hosts.set(host, h);
      }
      follow(out, host, h, serial, r.line);
    },
    end(out: Alert[]): void {
      if (raised) return;
      for (const [host, h] of hosts) for (const s of h.sequences) settle(out, host, s, true);
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
