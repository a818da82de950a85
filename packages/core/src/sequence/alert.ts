import type { Alert } from '../detect/alert.js';
import { describeEvent } from '../detect/verdict.js';
import type { Severity, SyscallEvent } from '../types.js';
import type { ProcessSequenceScore, SequenceObservation } from './scorer.js';

/**
 * The `sequence_anomaly` alert for a process over its threshold: the score, the threshold,
 * the explanation as `details`, and the call that took it over (`event`) for line and context.
 */
export function sequenceAlert(
  result: SequenceObservation | ProcessSequenceScore,
  event?: SyscallEvent,
  severity: Severity = 'high',
): Alert {
  const score = 'processScore' in result ? result.processScore : result.score;
  const explanation = result.explanation;
  const alert: Alert = {
    type: 'sequence_anomaly',
    severity,
    message:
      explanation?.summary ??
      `${result.program} pid ${result.pid}: calls unlike normal (score ${score.toFixed(2)} > ${result.threshold.toFixed(2)})`,
    count: 1,
    score,
    threshold: result.threshold,
    pid: result.pid,
  };
  if (event === undefined && !('processScore' in result)) {
    // Raised at the process's end: where its last call was, and who made it.
    if (result.line !== undefined) alert.line = result.line;
    if (result.process !== undefined) alert.process = result.process;
  }
  if (event !== undefined) {
    // The call that took it over, as every alert names its call: line, who, and its file or peer.
    if (event.syscall !== undefined) alert.syscall = event.syscall;
    describeEvent(alert, event);
  }
  if (explanation !== undefined) alert.details = explanation as unknown as Record<string, unknown>;
  return alert;
}
