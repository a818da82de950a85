/** Policy loading, where the serve command has always found it: see `exec/policy.ts`. */
export { loadPolicy, type Policy, sequenceRateWarning } from './exec/policy.js';
