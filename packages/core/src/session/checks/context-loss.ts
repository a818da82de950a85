/**
 * Context the tracker lost, as an alert: a live process pushed out of its process table (a
 * trace of more live processes and threads than `maxProcesses`, which a hostile program can
 * make on purpose) has its later events judged without program, argv, cwd or fds, so rules
 * keyed on them may not match. What syscan could not see must not read as clean: the first
 * loss raises `trace_lost` once, with how many were lost by the end.
 */

import type { ContextTracker } from '../../context/tracker.js';
import type { Alert } from '../../detect/alert.js';
import type { ParsedRecord, Severity } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** Records between looks at the tracker's counters (its stats are an object built per look). */
const LOOK_EVERY = 1024;

export function contextLossCheck(tracker: ContextTracker, severity: Severity): SessionCheck {
  let seen = 0;
  let raised = false;
  const look = (record: ParsedRecord | undefined, out: Alert[], atEnd: boolean): void => {
    if (raised) return;
    const lost = tracker.stats.evictedLive;
    if (lost === 0) return;
    raised = true;
    const alert: Alert = {
      type: 'trace_lost',
      severity,
      message: `context lost: ${lost}${atEnd ? '' : ' or more'} live process${lost === 1 ? '' : 'es'} pushed out of the process table (more live processes and threads than it holds): their later events carry no program, argv or paths, so rules keyed on them may not match`,
      count: lost,
      details: { check: 'context', reason: 'process_table_full', evictedLive: lost },
    };
    if (record !== undefined && 'line' in record && record.line !== undefined) alert.line = record.line;
    out.push(alert);
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
