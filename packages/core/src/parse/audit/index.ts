/** The Linux audit reader (see parser.ts for where each job is done). */
export { AuditParser } from './parser.js';
