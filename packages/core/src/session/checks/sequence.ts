/**
 * The learned sequence model as a session check: each syscall event goes to its process's
 * scorer as it arrives; the call that first takes a process over its calibrated threshold
 * raises `sequence_anomaly` with the score, the threshold and the explanation (the most
 * unusual window of calls and what the model expected). A process judged only at its end
 * (exit record, pushed out past the scorer's cap of open processes, or end of input) alerts then.
 * A process pushed out while still running is cut in two, which a program that keeps more
 * processes running than the scorer holds can do on purpose: the first one raises `trace_lost`.
 */
import type { Alert } from '../../detect/alert.js';
import type { ResolvedDetectorConfig } from '../../detect/config.js';
import { cutSample } from '../../detect/verdict.js';
import { sequenceAlert } from '../../sequence/alert.js';
import type { SequenceModel } from '../../sequence/model.js';
import {
  createSequenceScorer,
  loadSequenceModel,
  type ProcessSequenceScore,
  type SequenceScorer,
} from '../../sequence/scorer.js';
import type { SyscallEvent } from '../../types.js';
import type { SessionCheck } from '../session.js';

/** The check for `config.sequenceModel`, or undefined when the config has none. */
export function sequenceCheck(config: ResolvedDetectorConfig): SessionCheck | undefined {
  const model = config.sequenceModel;
  if (model === undefined) return undefined;
  const maxProcesses = config.sequenceMaxProcesses;
  // Built once per baseline object (a guard makes a session per request); already checked
  // when the config was resolved, so this does not throw.
  const scorer = createSequenceScorer(loadSequenceModel(model as unknown as SequenceModel), { maxProcesses });
  const severity = config.severity.sequence_anomaly;
  // One alert per process, not per pid: a pid that execs another program, or that the kernel
  // hands to a new process, is a new process to the scorer, which may alert again.
  const atEnd = (result: ProcessSequenceScore | undefined, out: Alert[]): void => {
    if (result?.overThreshold && !result.announced) out.push(sequenceAlert(result, undefined, severity));
  };
  let splitReported = false;
  return {
    record(record, out) {
      if (record.kind === 'syscall') {
        const o = scorer.observe(record);
        if (!splitReported && scorer.splitCount > 0) {
          splitReported = true;
          out.push(splitAlert(scorer, maxProcesses, record, config.severity.trace_lost));
        }
        if (o.explanation !== undefined) out.push(sequenceAlert(o, record, severity));
      } else if (record.kind === 'exit' && record.pid !== undefined) {
        atEnd(scorer.endProcess(record.pid), out);
      }
      // Processes pushed out past the scorer's cap were scored as ended: they alert now, not
      // only when the input ends (a followed audit log may never end).
      if (scorer.endedCount > 0) for (const result of scorer.takeEnded()) atEnd(result, out);
    },
    end(out) {
      for (const result of scorer.end()) atEnd(result, out);
    },
  };
}

/** `trace_lost` for the first process the scorer cut in two, at the call it came back with. */
function splitAlert(
  scorer: SequenceScorer,
  maxProcesses: number,
  event: SyscallEvent,
  severity: Alert['severity'],
): Alert {
  const split = scorer.firstSplit as NonNullable<SequenceScorer['firstSplit']>;
  const alert: Alert = {
    type: 'trace_lost',
    severity,
    message:
      `sequence context lost: ${split.program} pid ${split.pid} was pushed out of the ${maxProcesses} processes the sequence model ` +
      `scores at once while still running, and made a call again: its first ${split.calls} calls and the rest are scored as two processes ` +
      '(raise sequenceMaxProcesses in the config to hold more)',
    count: scorer.splitCount,
    pid: split.pid,
    syscall: event.syscall,
    details: {
      check: 'sequence',
      reason: 'sequence_table_full',
      lost: scorer.splitCount,
      calls: split.calls,
    },
  };
  if (event.line !== undefined) alert.line = event.line;
  if (event.time !== undefined) alert.time = event.time;
  if (event.process !== undefined) alert.process = event.process;
  alert.sample = cutSample(event.raw);
  return alert;
}
