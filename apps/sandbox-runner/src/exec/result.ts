/** The run's result: a formatter of the session's summary plus what only the runner knows. */
import { constants as osConstants } from 'node:os';
import type { AlertGroup, ExitRecord, SessionSummary, Severity } from '@syscan/core';
import type { CapturedOutput } from './capture.js';
import type { DryRunReport, ExecResult, IsolationInForce, ReportedAlert } from './types.js';

/** Raw trace lines kept as evidence of the alerts. */
const MAX_EVIDENCE_LINES = 64;
/** Pids listed in the result. */
const MAX_LISTED_PIDS = 1024;

/** Everything of a finished run the result is made of. */
export interface RunFacts {
  argv: readonly string[];
  summary: SessionSummary;
  /** How the command ended according to the trace (its `+++ … +++` line), if it says. */
  mainExit: ExitRecord | undefined;
  /** How the process the runner spawned (the isolation tool, or strace) ended. */
  spawnedExit: { code: number | null; signal: NodeJS.Signals | null };
  killed: ExecResult['killed'];
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  pids: ReadonlySet<number>;
  pgid: number | null;
  chunks: number;
  linesLost: number;
  enforce: boolean;
  failOn: Severity;
  dryRun?: DryRunReport | undefined;
  isolation: IsolationInForce;
}

/** A group as the result lists it: its first alert, the group's severity and counts (rates: the latest figures). */
export function reportedAlert(g: AlertGroup): ReportedAlert {
  const rate = g.type === 'denied_rate' || g.type === 'total_rate';
  return {
    ...g.first,
    severity: g.severity,
    ...(rate ? { message: g.last.message, count: g.last.count } : {}),
    occurrences: g.alerts,
    ...(g.targets.length > 0 ? { targets: g.targets } : {}),
  };
}

/**
 * The command's status: killed by the runner → SIGKILL; else its own exit line in the trace
 * (strace as a namespace's PID 1 cannot re-raise a fatal signal on itself, so its own exit
 * status would say 9, not SIGKILL); else how the spawned process ended.
 */
export function commandStatus(f: Pick<RunFacts, 'killed' | 'mainExit' | 'spawnedExit'>): {
  exitCode: number | null;
  signal: string | null;
  status: number;
} {
  let exitCode: number | null;
  let signal: string | null;
  if (f.killed && f.mainExit === undefined) {
    exitCode = null;
    signal = 'SIGKILL';
  } else if (f.mainExit?.exitCode !== undefined || f.mainExit?.signal !== undefined) {
    exitCode = f.mainExit.exitCode ?? null;
    signal = f.mainExit.signal ?? null;
  } else {
    exitCode = f.spawnedExit.code;
    signal = f.spawnedExit.signal;
  }
  const signum = signal ? (osConstants.signals[signal as NodeJS.Signals] ?? 0) : 0;
  return { exitCode, signal, status: exitCode ?? 128 + signum };
}

export function buildResult(f: RunFacts): ExecResult {
  const s = f.summary;
  const input = s.inputs[0];
  const evidence: string[] = [];
  for (const a of s.alerts) {
    if (evidence.length >= MAX_EVIDENCE_LINES) break;
    if (a.sample) evidence.push(a.sample);
  }
  return {
    argv: [...f.argv],
    ...commandStatus(f),
    durationMs: Math.round(f.durationMs * 1000) / 1000,
    stdout: f.stdout,
    stderr: f.stderr,
    verdict: s.verdict === 'clean' ? 'clean' : 'alert',
    alerts: s.groups.map(reportedAlert),
    alertsTotal: s.alertsTotal,
    alertsDropped: s.groupsDropped,
    suppressed:
      s.suppressed.verdicts > 0 || s.suppressed.heldBack > 0
        ? { reason: s.suppressed.reason ?? 'alert budget spent', heldBack: s.suppressed.heldBack }
        : undefined,
    syscalls: s.syscalls,
    events: s.events,
    killed: f.killed,
    trace: {
      lines: input?.lines ?? 0,
      bytes: input?.bytes ?? 0,
      issues: input?.parseIssues ?? 0,
      pids: f.pids.size,
      chunks: f.chunks,
      linesLost: f.linesLost,
    },
    processes: [...f.pids].slice(0, MAX_LISTED_PIDS),
    pgid: f.pgid,
    evidence,
    enforce: f.enforce,
    failOn: f.failOn,
    ...(f.dryRun ? { dryRun: f.dryRun } : {}),
    isolation: f.isolation,
    summary: s,
  };
}
