/** Policy loading, where the serve command has always found it: see `exec/policy.ts`. */
export { DEFAULT_POLICY_URL, loadPolicy, type Policy } from './exec/policy.js';
