/**
 * Per-program sequence model: learn the order and mix of a program's calls from normal runs,
 * score new processes as their calls stream in, explain what was unusual.
 */

export { sequenceAlert } from './alert.js';
export type { SequenceProgramCalibration } from './calibration-facts.js';
export { rateNotHeldText, sequenceCalibration } from './calibration-facts.js';
export type { ExplainedCall, SequenceExplanation } from './explain.js';
export type { SequenceLearnerOptions } from './learn.js';
export {
  DEFAULT_CHANNEL_WEIGHTS,
  DEFAULT_FEW_PROCESS_WEIGHTS,
  learnSequenceModel,
  SequenceLearner,
} from './learn.js';
export type { SequenceModel, StoredProgramModel } from './model.js';
export { SEQUENCE_MODEL_FORMAT, SEQUENCE_MODEL_VERSION, sequenceModelProblem } from './model.js';
export type { NumberedCallLayout, NumberedCallReader } from './numbered-calls.js';
export { createNumberedCallReader } from './numbered-calls.js';
export type { ChannelName as SequenceChannel } from './program-model.js';
export { CHANNELS as SEQUENCE_CHANNELS, MIN_CALIBRATION_PROCESSES } from './program-model.js';
export type {
  ProcessSequenceScore,
  SequenceObservation,
  SequenceScorer,
  SequenceScorerOptions,
  SequenceSplit,
} from './scorer.js';
export { createSequenceScorer, LoadedSequenceModel, loadSequenceModel } from './scorer.js';
