/** Policy loading, where the serve command has always found it: see `exec/policy.ts`. */
export { loadPolicy, type Policy } from './exec/policy.js';
