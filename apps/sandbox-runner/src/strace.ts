/** Setup-error helpers, where the server has always found them: see `exec/setup-errors.ts`. */
export {
  classifySetupFailure,
  type SetupProblem,
  setupError,
  setupKind,
  straceMissing,
} from './exec/setup-errors.js';
