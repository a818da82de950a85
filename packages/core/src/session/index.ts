export { onlyAllowedAtEntry, refusedAtEntry } from './entry.js';
export type { SessionCheck, SessionOptions } from './session.js';
export { AnalysisSession, createSession } from './session.js';
export type {
  AlertGroup,
  DeniedSample,
  InputSummary,
  OverallVerdict,
  SessionAlert,
  SessionSummary,
  SummaryLimits,
  SuppressedEntry,
} from './summary.js';
