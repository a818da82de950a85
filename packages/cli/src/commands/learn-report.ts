/**
 * What `syscan learn` says it learned, and from how much: a few lines on stderr, and the same
 * facts in the baseline's `learned` (inputs, the sequence model's programs and calibration).
 */
import {
  type Baseline,
  MIN_CALIBRATION_PROCESSES,
  rateNotHeldText,
  type SequenceModel,
  sequenceCalibration,
} from '@syscan/core';

/** Programs named one by one in the report; the rest are counted. */
const LISTED_PROGRAMS = 8;
/** Allowed denials shown one by one. */
const LISTED_DENIALS = 3;

/** The sequence model's programs that have a threshold (the scorer scores no others), and those that cannot hold its false-alarm rate. */
export function sequenceFacts(model: SequenceModel): NonNullable<Baseline['learned']['sequence']> {
  const programs = sequenceCalibration(model);
  const rateNotHeld = programs
    .filter((p) => p.scored && !p.rateHeld)
    .sort((a, b) => b.expectedFalseAlarmRate - a.expectedFalseAlarmRate)
    .map((p) => ({
      program: p.program,
      heldOutScores: p.heldOutScores,
      expectedFalseAlarmRate: Number(p.expectedFalseAlarmRate.toPrecision(3)),
    }));
  return {
    programs: programs.length,
    calibrated: programs.filter((p) => p.scored).length,
    minCalibrationProcesses: MIN_CALIBRATION_PROCESSES,
    falseAlarmRate: model.falseAlarmRate,
    ...(rateNotHeld.length > 0 ? { rateNotHeld } : {}),
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The report's lines (no trailing newline), each starting `syscan: `. */
export function learnReport(baseline: Baseline, wrote: string | undefined): string[] {
  const l = baseline.learned;
  const lines: string[] = [];
  const seq = l.sequence;
  if (wrote !== undefined) {
    // First line as before this report existed (scripts read it).
    lines.push(
      `wrote '${wrote}': ${baseline.baselineSyscalls.length} syscalls from ${l.events} events; ` +
        `limits ${baseline.maxTotalEventsPerMinute} events/min, ${baseline.maxDeniedEventsPerMinute} denied/min` +
        `${seq === undefined ? '' : `; sequence model of ${seq.programs} program(s)`}`,
    );
  }
  const processes = l.processes === undefined ? '' : `, ${plural(l.processes, 'process', 'processes')}`;
  lines.push(
    `learned from ${plural(l.inputs ?? l.merged ?? 1, 'input')}: ${plural(l.events, 'event')} ` +
      `(${l.deniedEvents} denied)${processes}, ${baseline.baselineSyscalls.length} distinct syscalls`,
  );
  lines.push(
    l.timed === true
      ? `rate limits from timestamps: ${baseline.maxTotalEventsPerMinute} events, ${baseline.maxDeniedEventsPerMinute} denied per window ` +
          // A merged baseline's peaks may come from untimed inputs, whose limits are none: not cited.
          (l.merged === undefined
            ? `(busiest window ${l.peakEventsPerWindow} events, ${l.peakDeniedPerWindow} denied, × ${l.headroom})`
            : `(the highest of the timed inputs' limits: busiest window × ${l.headroom})`)
      : 'no rate limits learned: the input has no timestamps (strace -tt or audit logs give them)',
  );
  const programs = Object.entries(l.programs ?? {});
  if (programs.length === 0) {
    lines.push(
      'programs: none named (no execve or process context in the input): one baseline for all calls',
    );
  } else {
    const busiest = programs.sort(([, a], [, b]) => b.events - a.events).slice(0, LISTED_PROGRAMS);
    const more = programs.length - busiest.length;
    const dropped = l.droppedPrograms ? `; ${l.droppedPrograms} more past the cap, judged by the union` : '';
    const unnamed = l.unnamedEvents
      ? `; ${plural(l.unnamedEvents, 'event')} of no named process (in the union only)`
      : '';
    lines.push(
      `programs (${programs.length}): ` +
        busiest
          .map(
            ([name, p]) => `${name} ${p.syscalls} syscalls (${plural(p.processes, 'process', 'processes')})`,
          )
          .join(', ') +
        (more > 0 ? `, and ${more} more` : '') +
        dropped +
        unnamed,
    );
  }
  const denials = baseline.allowedDenials ?? [];
  lines.push(
    denials.length === 0
      ? 'allowed denials: none (every denial will alert)'
      : `allowed denials (${denials.length}): ` +
          denials
            .slice(0, LISTED_DENIALS)
            .map((d) => [d.syscall, d.errno, d.path].filter((x) => x !== undefined).join(' '))
            .join(', ') +
          (denials.length > LISTED_DENIALS ? `, and ${denials.length - LISTED_DENIALS} more` : ''),
  );
  if (seq !== undefined) {
    const uncalibrated = seq.programs - seq.calibrated;
    lines.push(
      `sequence model: ${plural(seq.programs, 'program')}, ${seq.calibrated} calibrated` +
        (uncalibrated > 0
          ? `; ${uncalibrated} with fewer than ${seq.minCalibrationProcesses} normal processes are not scored (learn more runs of them)`
          : ''),
    );
    const rate = seq.falseAlarmRate;
    const notHeld =
      rate === undefined
        ? undefined
        : rateNotHeldText(
            (seq.rateNotHeld ?? []).map((p) => ({
              ...p,
              falseAlarmRate: rate,
              scored: true,
              rateHeld: false,
            })),
          );
    if (notHeld !== undefined && rate !== undefined) {
      // 1/rate − 1 held-out runs put the threshold at the highest of them and hold the rate.
      const needed = Math.ceil(1 / rate - 1);
      lines.push(
        `sequence model: ${plural(seq.rateNotHeld?.length ?? 0, 'program')} learned from ${notHeld}; learn ${needed} or more runs of each, or pass a higher --false-alarm-rate`,
      );
    }
  }
  return lines.map((line) => `syscan: ${line}`);
}
