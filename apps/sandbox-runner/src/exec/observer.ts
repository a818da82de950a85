/**
 * What the runner itself needs from the trace, read as a session check beside the detector:
 * the pids of the run, whether the command got started, and how the command (the first
 * process traced) ended. It raises nothing: judging is the session's.
 */
import type { Alert, ExitRecord, ParsedRecord, SessionCheck } from '@syscan/core';

/** Pids remembered per run (to kill processes that left the group); a fork bomb cannot grow it past this. */
const MAX_TRACKED_PIDS = 65_536;

export class RunObserver implements SessionCheck {
  readonly pids = new Set<number>();
  /** The first pid of the trace: the command strace started. */
  mainPid: number | undefined;
  /** How the command ended, from its `+++ exited … +++` line. */
  mainExit: ExitRecord | undefined;
  /** True once an execve succeeded: from then on strace's failures are the command's, not setup. */
  commandStarted = false;

  record(r: ParsedRecord, _out: Alert[]): void {
    if (r.kind === 'syscall') {
      this.#pid(r.pid);
      if (!this.commandStarted && r.syscall === 'execve' && r.errno === undefined && r.ret === '0')
        this.commandStarted = true;
    } else if (r.kind === 'exit') {
      if (r.pid !== undefined && r.pid === this.mainPid && r.raw.includes('+++ superseded') === false)
        this.mainExit = r;
    } else if (r.kind === 'signal') {
      this.#pid(r.pid);
    }
  }

  #pid(pid: number | undefined): void {
    if (pid === undefined) return;
    this.mainPid ??= pid;
    if (this.pids.size < MAX_TRACKED_PIDS) this.pids.add(pid);
  }
}
