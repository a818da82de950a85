/**
 * The learned sequence model as a session check: each syscall event goes to its process's
 * scorer as it arrives; the call that first takes a process over its calibrated threshold
 * raises `sequence_anomaly` with the score, the threshold and the explanation (the most
 * unusual window of calls and what the model expected). A process judged only at its end
 * (exit record, pushed out past the scorer's cap of open processes, or end of input) alerts then.
 */
import type { Alert } from '../../detect/alert.js';
import type { ResolvedDetectorConfig } from '../../detect/config.js';
import { sequenceAlert } from '../../sequence/alert.js';
import type { SequenceModel } from '../../sequence/model.js';
import { createSequenceScorer, loadSequenceModel, type ProcessSequenceScore } from '../../sequence/scorer.js';
import type { SessionCheck } from '../session.js';

/** Processes remembered as already alerted (one alert per process). */
const MAX_ALERTED = 65_536;

/** The check for `config.sequenceModel`, or undefined when the config has none. */
export function sequenceCheck(config: ResolvedDetectorConfig): SessionCheck | undefined {
  const model = config.sequenceModel;
  if (model === undefined) return undefined;
  // Built once per baseline object (a guard makes a session per request); already checked
  // when the config was resolved, so this does not throw.
  const scorer = createSequenceScorer(loadSequenceModel(model as unknown as SequenceModel));
  const severity = config.severity.sequence_anomaly;
  const alerted = new Set<number>();
  const once = (pid: number): boolean => {
    if (alerted.has(pid)) return false;
    if (alerted.size >= MAX_ALERTED) alerted.delete(alerted.values().next().value as number);
    alerted.add(pid);
    return true;
  };
  const atEnd = (result: ProcessSequenceScore | undefined, out: Alert[]): void => {
    if (result?.overThreshold && once(result.pid)) out.push(sequenceAlert(result, undefined, severity));
  };
  return {
    record(record, out) {
      if (record.kind === 'syscall') {
        const o = scorer.observe(record);
        if (o.explanation !== undefined && once(o.pid)) out.push(sequenceAlert(o, record, severity));
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
