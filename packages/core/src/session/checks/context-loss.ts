/**
 * Context the tracker lost, as an alert: a live process pushed out of its process table (a
 * trace of more live processes and threads than `maxProcesses`, which a hostile program can
 * make on purpose) has its later events judged without program, argv, cwd or fds, so rules
 * keyed on them may not match; the same for open fds past the per-process cap. What syscan
 * could not see must not read as clean: the first loss of each kind raises `trace_lost` once.
 */

import type { ContextTracker, ContextTrackerStats } from '../../context/tracker.js';
import type { Alert } from '../../detect/alert.js';
import type { ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Records between looks at the tracker's counters (its stats are an object built per look). */
const LOOK_EVERY = 1024;

/** One kind of loss: the stats counter that shows it, and what it costs. */
interface Loss {
  reason: 'process_table_full' | 'fd_table_full' | 'path_unresolved';
  count: (stats: ContextTrackerStats) => number;
  what: (n: string, stats: ContextTrackerStats) => string;
}

const LOSSES: readonly Loss[] = [
  {
    reason: 'process_table_full',
    count: (s) => s.evictedLive,
    what: (n) =>
      `${n} live process(es) pushed out of the process table (more live processes and threads than it holds): their later events carry no program, argv or paths, so rules keyed on them may not match`,
  },
  {
    reason: 'fd_table_full',
    count: (s) => s.forgottenFds,
    what: (n) =>
      `${n} open fd(s) forgotten (a process held more than the tracker keeps): reads, writes and sends on them carry no path or peer, so rules keyed on those may not match`,
  },
  {
    // `cat ../../etc/shadow` from a directory the trace never shows reads as `../../etc/shadow`,
    // which no rule on /etc/shadow matches: a blind spot a program can pick on purpose.
    reason: 'path_unresolved',
    count: (s) => s.unresolvedPaths,
    what: (n, s) => {
      const first = s.firstUnresolvedPath;
      const example =
        first === undefined
          ? ''
          : `, first '${first.path}' (${first.syscall}${first.line === undefined ? '' : `, line ${first.line}`})`;
      return `${n} path(s) climb out of a working directory the trace never shows${example}: they could be anywhere, so rules on paths could not judge them (trace with strace -y, which shows every directory)`;
    },
  },
];

export function contextLossCheck(tracker: ContextTracker, severity: Severity): SessionCheck {
  let seen = 0;
  const raised = new Set<Loss['reason']>();
  const look = (record: ParsedRecord | undefined, out: Alert[], atEnd: boolean): void => {
    if (raised.size === LOSSES.length) return;
    const stats = tracker.stats;
    for (const loss of LOSSES) {
      const lost = loss.count(stats);
      if (lost === 0 || raised.has(loss.reason)) continue;
      raised.add(loss.reason);
      const alert: Alert = {
        type: 'trace_lost',
        severity,
        message: `context lost: ${loss.what(`${lost}${atEnd ? '' : ' or more'}`, stats)}`,
        count: lost,
        details: { check: 'context', reason: loss.reason, lost },
      };
      const first = loss.reason === 'path_unresolved' ? stats.firstUnresolvedPath : undefined;
      if (first !== undefined) {
        // Who climbed where: the first such call, not the record the counters were read at.
        alert.line = first.line;
        alert.pid = first.pid;
        alert.syscall = first.syscall;
        alert.paths = [first.path];
        const process = first.pid === undefined ? undefined : tracker.process(first.pid);
        if (process !== undefined) alert.process = process;
      } else if (record !== undefined && 'line' in record && record.line !== undefined)
        alert.line = record.line;
      out.push(alert);
    }
  };
  return {
    record(record, out) {
      if (++seen % LOOK_EVERY === 0) look(record, out, false);
    },
    end(out) {
      look(undefined, out, true);
    },
  };
}
