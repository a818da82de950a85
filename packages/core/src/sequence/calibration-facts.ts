/**
 * How well each program of a model can hold the false-alarm rate asked of it, for whoever
 * reports on a model (`syscan learn`) or an alert: a threshold learned from 20 normal runs is
 * the highest of their held-out scores, and about 1 new normal run in 21 passes it, whatever
 * rate was asked for.
 */
import type { SequenceModel } from './model.js';
import { RATE_NOT_HELD_FACTOR } from './program-model.js';
import { type LoadedSequenceModel, loadSequenceModel } from './scorer.js';

export interface SequenceProgramCalibration {
  program: string;
  /** Normal processes the model learned of the program. */
  processes: number;
  /** Held-out (out-of-fold) normal scores its threshold is taken from (a quantile sample of 1000 past that many); 0 when it has none. */
  heldOutScores: number;
  /** Whether the program has a threshold (see `MIN_CALIBRATION_PROCESSES`); unscored ones are never alerted on by sequence. */
  scored: boolean;
  /** The rate asked for. */
  falseAlarmRate: number;
  /** The share of new normal processes expected over the threshold; NaN when not scored. */
  expectedFalseAlarmRate: number;
  /** Whether that share is well past the rate asked for (too few normal processes to hold it). */
  rateHeld: boolean;
}

/** Every program of the model, in the model's order, for `falseAlarmRate` (default: the model's own). */
export function sequenceCalibration(
  model: SequenceModel | LoadedSequenceModel,
  falseAlarmRate?: number,
): SequenceProgramCalibration[] {
  const loaded = loadSequenceModel(model);
  const rate = falseAlarmRate ?? loaded.model.falseAlarmRate;
  return [...loaded.programs].map(([program, p]) => {
    const expected = p.expectedFalseAlarmRate(rate);
    const scored = !Number.isNaN(expected);
    return {
      program,
      processes: loaded.model.programs[program]?.processes ?? 0,
      heldOutScores: scored ? (p.calibration?.scores.length ?? 0) : 0,
      scored,
      falseAlarmRate: rate,
      expectedFalseAlarmRate: expected,
      rateHeld: scored && expected < RATE_NOT_HELD_FACTOR * rate,
    };
  });
}

/** Programs a {@link rateNotHeldText} names one by one; the rest are counted. */
const LISTED_PROGRAMS = 4;

/**
 * The programs of `calibration` that do not hold their rate, for a person, worst first:
 * `too few normal runs to hold 1 % false alarms: /usr/bin/ls (12 runs: about 1 in 13 normal
 * runs will alert), …`. Undefined when every scored program holds it. Each adapter says what
 * follows from it (learn more runs; a kill policy kills that many normal runs).
 */
export function rateNotHeldText(
  calibration: ReadonlyArray<Omit<SequenceProgramCalibration, 'processes'>>,
): string | undefined {
  const weak = calibration
    .filter((p) => p.scored && !p.rateHeld)
    .sort((a, b) => b.expectedFalseAlarmRate - a.expectedFalseAlarmRate);
  const first = weak[0];
  if (first === undefined) return undefined;
  const listed = weak
    .slice(0, LISTED_PROGRAMS)
    .map(
      (p) =>
        `${p.program} (${p.heldOutScores} ${p.heldOutScores === 1 ? 'run' : 'runs'}: about 1 in ${Math.round(1 / p.expectedFalseAlarmRate)} normal runs will alert)`,
    )
    .join(', ');
  const more = weak.length > LISTED_PROGRAMS ? `, and ${weak.length - LISTED_PROGRAMS} more` : '';
  return `too few normal runs to hold ${Number((first.falseAlarmRate * 100).toPrecision(3))} % false alarms: ${listed}${more}`;
}
