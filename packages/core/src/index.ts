/**
 * @syscan/core: parse syscall telemetry (strace text, Linux audit, seccomp, AppArmor,
 * SELinux) into typed records and judge them against a baseline. Pure: no I/O.
 */

// Records and options every entry point shares.
export type * from './types.js';
// The one error class, compared by name.
export { SyscanError, isSyscanError } from './errors.js';
export type { SyscanErrorCode, SyscanErrorReason } from './errors.js';
// Severities, lowest first, and the one way to rank and compare them.
export { SEVERITIES, severityRank, atLeast, isSeverity, maxSeverity } from './severity.js';
// "Did you mean …?" for adapters that validate their own option names.
export { closestName } from './closest-name.js';

// Parsing: one-shot (seed-compatible), incremental push parser, async streams.
export { parseSyscallEvents, parseRecords, createParser, parseStream } from './parse/index.js';
export type { SyscallParser } from './parse/index.js';
// Single-line readers, for callers that already split lines.
export { parseStraceLine } from './parse/strace/index.js';

// Syscall number ↔ name tables for every common arch, and audit `arch=` ids.
export {
  syscallName,
  syscallNumber,
  resolveArch,
  listArches,
  syscallTable,
  errnoName,
  errnoNumber,
} from './syscalls/index.js';
export type { ArchName } from './syscalls/index.js';

// Detection: the seed-compatible detector, its config, per-key registry, streaming verdicts.
export { SyscallAnomalyDetector, OVERFLOW_SYSCALL_KEY, cutSample } from './detect/detector.js';
export type { AnomalyVerdict, DetectorStats } from './detect/detector.js';
export { ALERT_TYPES } from './detect/alert.js';
export { alertJsonSchema } from './detect/alert-schema.js';
export type { Alert, AlertType, AlertAction, AlertTarget } from './detect/alert.js';
export {
  resolveDetectorConfig,
  isResolvedDetectorConfig,
  configLayer,
  mergeConfigs,
  MAX_COOLDOWN_SECS,
  DEFAULT_DETECTOR_CONFIG,
  DEFAULT_DANGEROUS_SYSCALLS,
  DEFAULT_SEVERITY,
  detectorConfigJsonSchema,
} from './detect/config.js';
export type { ConfigLayer, DetectorConfig, ResolvedDetectorConfig, TimeSource } from './detect/config.js';
export { DetectorRegistry } from './detect/registry.js';
export type { DetectorRegistryOptions } from './detect/registry.js';
export { analyzeStream } from './detect/stream.js';
// Detector state per key in a store (in memory, or shared by many processes), and judging over it.
export {
  MemoryDetectorStore,
  PayloadDetector,
  SharedDetector,
  WINDOW_BUCKETS,
  isDetectorStore,
} from './state/index.js';
export type {
  DetectorStore,
  MemoryDetectorStoreOptions,
  SharedDetectorOptions,
  StateCounts,
  StateOutcome,
  StateReply,
  StateSnapshot,
  StateStep,
  StateUpdate,
} from './state/index.js';
export type { AnalyzeStreamOptions, StreamVerdict, StreamSummary } from './detect/stream.js';

// Who did what to what: process tree, exe/argv/cwd/ids, paths, socket peers on each event.
export { createContextTracker } from './context/tracker.js';
export type {
  ContextTracker,
  ContextTrackerOptions,
  ContextTrackerStats,
  SpawnInfo,
} from './context/tracker.js';
export { decodeAuditSockaddr } from './context/sockaddr.js';

// The analysis session: records → context → checks → detector → verdicts, summary, gates.
export { createSession, AnalysisSession, onlyAllowedAtEntry, refusedAtEntry } from './session/index.js';
export { traceIntegrity, TraceIntegrityCheck, type TraceIntegrityOptions } from './session/integrity.js';
export { filteredTraceCheck } from './session/checks/filtered-trace.js';
export { type ProgramOutputOptions, programOutputCheck } from './session/checks/program-output.js';
export type {
  AlertGroup,
  DeniedSample,
  InputSummary,
  OverallVerdict,
  SessionAlert,
  SessionCheck,
  SessionOptions,
  SessionSummary,
  SummaryLimits,
  SuppressedEntry,
} from './session/index.js';

// The reviewed everyday policy (the CLI's and the runner's default).
export { EVERYDAY_POLICY } from './policy/everyday.js';

// Baselines learned from known-good runs (the same JSON `--baseline`/`--config` read).
export { BaselineLearner, learnBaseline, mergeBaselines } from './profile/baseline.js';
export type {
  Baseline,
  LearnedFacts,
  BaselineLearnerOptions,
  ToBaselineOptions,
  LearnBaselineOptions,
  LearnedProgram,
  ProgramFacts,
} from './profile/baseline.js';
export type { ProgramBaseline, ProgramBaselines } from './detect/programs.js';

// Seccomp profiles (Docker/moby default.json shape) from traces and baselines.
export { SeccompProfileBuilder, buildSeccompProfile } from './profile/seccomp.js';
export type { SeccompBuilderOptions } from './profile/seccomp.js';
export { SECCOMP_DEFAULT_ACTIONS } from './profile/seccomp/types.js';
export type {
  SeccompProfile,
  SeccompProfileOptions,
  SeccompProfileResult,
  SeccompProfileStats,
  SeccompSyscallRule,
  SeccompArg,
  SeccompArchMapEntry,
  SeccompDefaultAction,
} from './profile/seccomp/types.js';
export { RUNTIME_START_SYSCALLS } from './profile/seccomp/runtime-syscalls.js';
export type { RuntimeSyscallGroup } from './profile/seccomp/runtime-syscalls.js';

// Per-program sequence model: learn call order and mix from normal runs, score, explain.
export * from './sequence/index.js';

// Rules in Falco's language (load once, evaluate per event, Falco JSON out) and the agent-tools pack.
export * from './rules/index.js';
