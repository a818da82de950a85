/** The runner's entry point, for the CLI and the HTTP server: see `exec/run.ts`. */

export {
  describeIsolation,
  ISOLATION_MODES,
  type IsolationMode,
  type IsolationTool,
} from './exec/isolation.js';
export { runSandboxed } from './exec/run.js';
export {
  DEFAULT_FAIL_ON,
  DEFAULT_MAX_OUTPUT_BYTES,
  type ExecRequest,
  type ExecResult,
  type IsolationInForce,
  type KillReason,
  type ReportedAlert,
} from './exec/types.js';
