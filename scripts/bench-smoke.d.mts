/** Writes tiny strace-f.log, strace-plain.log and audit.log into `dir` (a new temp folder by default); returns it. */
export function writeSmokeData(dir?: string): string;

export interface BenchRun {
  status: number | null;
  signal: string | null;
  /** stdout then stderr. */
  out: string;
}

/** Runs a bench script with BENCH_SMOKE=1 to completion (killed after `timeoutMs`, default 60 s). */
export function runBench(
  script: string,
  options?: { args?: string[]; env?: Record<string, string>; timeoutMs?: number },
): BenchRun;
