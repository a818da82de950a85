/**
 * `runSandboxed`: runs a command under strace (isolated in namespaces unless told not to),
 * feeds the trace as it comes to one core session, and kills the whole tree when the
 * session's alerts reach the threshold (enforce), on timeout, or on abort. The session
 * judges; this module spawns, reads, kills and reports.
 */
import type { ChildProcess } from 'node:child_process';
import {
  type Alert,
  type AnalysisSession,
  createSession,
  isResolvedDetectorConfig,
  mergeConfigs,
  type SessionAlert,
  SyscanError,
  type TraceIntegrityCheck,
  traceIntegrity,
} from '@syscan/core';
import { createFastUtf8Decoder } from '@syscan/core/node';
import { drainStreams, OutputCapture } from './capture.js';
import { killTree, namespaceInitOf, type RunProcesses, tracerHijacked, waitGone } from './enforce.js';
import { Enforcement } from './enforcement.js';
import { FirstExecve } from './first-execve.js';
import type { IsolationPlan } from './isolation.js';
import { findExecutable } from './locate.js';
import { RunObserver } from './observer.js';
import { buildResult } from './result.js';
import { classifySetupFailure, isToolLine, straceMissing } from './setup-errors.js';
import { checkDirectory, prepareTracer, spawnError, spawnTraced } from './spawn.js';
import { toolEnv } from './strace-args.js';
import { ForeignLineCounter, makeTraceFifo, readTrace, type TraceFifo, type TraceReadEnd } from './trace.js';
import {
  DEFAULT_FAIL_ON,
  DEFAULT_MAX_OUTPUT_BYTES,
  type ExecRequest,
  type ExecResult,
  type IsolationInForce,
  type KillReason,
} from './types.js';

/** After strace exits, how long to wait for the command's stdout/stderr to drain. */
const DRAIN_GRACE_MS = 500;
/** Once every traced process has exited, how long strace may take to follow before what is left (untraced) is killed. */
const UNTRACED_GRACE_MS = 200;
/** How often the runner checks that strace itself runs free (not ptraced, not stopped). */
const TRACER_CHECK_MS = 100;
/** How long, at most, the runner looks for the namespace's PID 1 after the isolation tool started. */
const FIND_INIT_MS = 2_000;
/** Alert objects and groups a run's summary keeps (the rest are counted). */
const SUMMARY_LIMITS = { maxAlerts: 256, maxGroups: 256 };

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * Runs `argv` under `strace -f`, judges the trace live, and resolves once every process of
 * the run is gone. Throws SyscanError for setup problems, with `reason`: strace_missing,
 * ptrace_denied, command_not_found, exec_failed, strace_failed, isolation_unavailable.
 */
export async function runSandboxed(req: ExecRequest): Promise<ExecResult> {
  if (req.argv.length === 0 || !req.argv[0]) throw new SyscanError('ERR_SYSCAN_USAGE', 'no command given');
  const straceBin = findExecutable(req.strace ?? 'strace');
  if (!straceBin) throw straceMissing();
  if (req.cwd !== undefined) checkDirectory(req.cwd);
  let prepared: ReturnType<typeof prepareTracer> | undefined;
  const trace = await makeTraceFifo((dir) => {
    prepared = prepareTracer(straceBin, dir, req.isolation ?? 'auto', req.isolationTool);
  });
  try {
    const { plan, tracer } = prepared!;
    return await new Run(req, plan, tracer.unreachable).run(tracer.path, trace);
  } finally {
    await trace.remove();
  }
}

/** One run's state: the session it feeds, the processes it started, the kill switch. */
class Run {
  readonly #req: ExecRequest;
  readonly #plan: IsolationPlan;
  /** What stops the run (enforce) or would have (monitor mode), and what strace refuses at entry. */
  readonly #policy: Enforcement;
  readonly #session: AnalysisSession;
  readonly #integrity: TraceIntegrityCheck;
  readonly #observer = new RunObserver();
  readonly #foreignLines = new ForeignLineCounter();
  readonly #firstExecve: FirstExecve;
  readonly #stdout: OutputCapture;
  readonly #stderr: OutputCapture;
  #child: ChildProcess | undefined;
  #nsInit: { pid: number; namespace: string } | undefined;
  #isolation: IsolationInForce;
  #killed: ExecResult['killed'] = null;
  #reapTimer: NodeJS.Timeout | undefined;

  constructor(req: ExecRequest, plan: IsolationPlan, tracerUnreachable: boolean) {
    this.#req = req;
    this.#plan = plan;
    this.#integrity = traceIntegrity({ expectExits: true });
    const config = isResolvedDetectorConfig(req.policy)
      ? req.policy
      : mergeConfigs({ timeSource: 'clock' }, req.policy);
    this.#session = createSession({
      config,
      parse: { source: 'strace', createDecoder: createFastUtf8Decoder },
      checks: [this.#integrity, this.#observer],
      // strace writes the FIFO alone: the command's output cannot be in the trace.
      ownStream: true,
      limits: SUMMARY_LIMITS,
      rules: req.rules,
      onAlert: (a) => {
        req.onAlert?.(a);
        this.#onAlert(a);
      },
      onSuppressed: (s) => {
        // Enforcing blind is not enforcing: alerts we cannot see count as a breach.
        if (this.#policy.judging) this.#breach(undefined, `alerts suppressed while enforcing (${s.reason})`);
      },
    });
    this.#session.beginInput('trace');
    this.#firstExecve = new FirstExecve(req.argv, toolEnv(req.env ?? process.env).PATH ?? '');
    const failOn = req.failOn ?? DEFAULT_FAIL_ON;
    // Computed in monitor mode too (reported, not given to strace).
    this.#policy = new Enforcement({
      enforce: req.enforce ?? false,
      dryRun: req.dryRun ?? false,
      failOn,
      refusedAtEntry: () => this.#session.refusedAtEntry(failOn),
      onlyAllowedAtEntry: () => this.#session.onlyAllowedAtEntry(failOn),
    });
    const cap = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#stdout = new OutputCapture(cap);
    this.#stderr = new OutputCapture(cap);
    const cpus = req.cpus !== undefined && req.cpus.length > 0 ? { cpus: [...req.cpus] } : {};
    this.#isolation =
      plan.mode === 'none'
        ? { mode: 'none', tracerUnreachable, ...cpus }
        : { mode: 'namespaces', tool: plan.tool, tracerUnreachable, ...cpus };
  }

  async run(straceBin: string, trace: TraceFifo): Promise<ExecResult> {
    const started = performance.now();
    const refuse = this.#policy.applied ? [...this.#policy.preempted] : [];
    const allowOnly =
      this.#policy.applied && this.#policy.allowOnly ? [...this.#policy.allowOnly] : undefined;
    const child = spawnTraced(this.#plan, straceBin, trace.fifo, this.#req, refuse, allowOnly);
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => {
        this.#pollInit();
        resolve(undefined);
      });
    });
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const stopWatching = this.#watch(child);
    try {
      const failed = await spawned;
      if (failed) throw spawnError(this.#plan, failed);
      // The trace is read from the moment strace opens the FIFO; `exited` resolves meanwhile.
      const traceDone = readTrace(
        trace,
        exited,
        () => this.#findInit(),
        (bytes) => {
          if (this.#foreignLines.scan(bytes) > 0 && this.#foreignLines.count === 1)
            this.#session.raise([
              runnerLoss(
                'foreign_line',
                'the trace holds a line strace did not write (someone else wrote into it)',
              ),
            ]);
          const named = this.#firstExecve.pass(bytes);
          if (named.length > 0) this.#session.write(named);
          this.#reapUntraced();
        },
      );
      const exit = await exited;
      const traceEnd = await traceDone;
      const held = this.#firstExecve.flush();
      if (held.length > 0) this.#session.write(held);
      await this.#drain();
      const durationMs = performance.now() - started;
      this.#checkSetup(exit);
      this.#endOfTrace(exit, traceEnd);
      return buildResult({
        argv: this.#req.argv,
        summary: this.#session.summary(),
        mainExit: this.#observer.mainExit,
        spawnedExit: exit,
        killed: this.#killed,
        durationMs,
        stdout: this.#stdout.result(),
        stderr: this.#stderr.result(),
        pids: this.#observer.pids,
        pgid: child.pid ?? null,
        chunks: traceEnd.chunks,
        linesLost: this.#integrity.linesLost + this.#foreignLines.count,
        enforce: this.#policy.applied,
        failOn: this.#policy.failOn,
        dryRun: this.#policy.dryRun ? this.#policy.report(this.#session.summary().syscalls) : undefined,
        isolation: this.#isolation,
      });
    } finally {
      stopWatching();
      clearTimeout(this.#reapTimer);
      // Nothing of this run may outlive it: whatever is left (an escapee without isolation)
      // is killed, and the run resolves only once all of it has ended. Isolated, the tool's
      // exit already says so (PID 1 was reaped, so its namespace is empty).
      if (child.pid !== undefined) {
        if (this.#plan.mode === 'none') killTree(this.#processes());
        await waitGone(this.#processes());
      }
    }
  }

  /** Output capture, stdin, the timeout and the abort signal; returns the cleanup. */
  #watch(child: ChildProcess): () => void {
    const req = this.#req;
    child.stdout?.on('data', (c: Buffer) => {
      this.#stdout.push(c);
      req.onStdout?.(c);
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.#stderr.push(c);
      // strace's own setup complaint is reported as one line by the caller, not echoed.
      if (!this.#observer.commandStarted && isToolLine(c)) return;
      req.onStderr?.(c);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
      const input = req.stdin;
      child.stdin.end(typeof input === 'string' || input instanceof Uint8Array ? input : undefined);
    }
    const timeoutMs = req.timeoutMs;
    const timer =
      timeoutMs !== undefined && timeoutMs > 0
        ? setTimeout(() => this.#kill('timeout', undefined, `timed out after ${timeoutMs} ms`), timeoutMs)
        : undefined;
    const onAbort = (): void => this.#kill('aborted', undefined, abortMessage(req.signal?.reason));
    this.#child = child;
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const watchdog = setInterval(() => this.#checkTracer(), TRACER_CHECK_MS);
    return () => {
      if (timer) clearTimeout(timer);
      clearInterval(watchdog);
      req.signal?.removeEventListener('abort', onAbort);
    };
  }

  /**
   * Under isolation: finds the namespace's PID 1 as soon as the tool made it, so that kills
   * reach it and the result can name the namespace. Polled from the spawn on (a fast
   * command may be over before the trace is first read); true once found.
   */
  #findInit(): boolean {
    const pid = this.#child?.pid;
    if (this.#plan.mode === 'none' || pid === undefined) return true;
    if (this.#nsInit !== undefined) return true;
    this.#nsInit = namespaceInitOf(pid);
    if (this.#nsInit === undefined) return false;
    this.#isolation = { ...this.#isolation, pidNamespace: this.#nsInit.namespace };
    return true;
  }

  #pollInit(): void {
    const until = Date.now() + FIND_INIT_MS;
    const poll = (): void => {
      if (this.#findInit() || Date.now() > until || this.#child?.exitCode !== null) return;
      setTimeout(poll, 1).unref();
    };
    poll();
  }

  /**
   * strace waits for its tracees, not for processes it cannot see: once every traced
   * process has exited, what still runs in the run's namespace or group is untraced (a
   * CLONE_UNTRACED child, reported as such) and is killed, shortly, so it cannot outlive
   * the command. Not a policy kill: the command itself had ended.
   */
  #reapUntraced(): void {
    if (this.#reapTimer !== undefined || this.#killed || this.#observer.mainExit === undefined) return;
    if (this.#integrity.liveCount > 0) return;
    this.#reapTimer = setTimeout(() => {
      const child = this.#child;
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      if (this.#integrity.liveCount === 0 && !this.#killed) {
        this.#integrity.endedByCaller('untraced processes reaped');
        killTree(this.#processes());
      }
    }, UNTRACED_GRACE_MS);
  }

  /** strace (or the isolation tool) failed before the command ran: one SyscanError line. */
  #checkSetup(exit: Exit): void {
    if (this.#killed || this.#observer.commandStarted || exit.code === 0) return;
    const problem = classifySetupFailure(this.#stderr.result().text, this.#req.argv[0]!);
    if (problem) throw problem;
  }

  /**
   * What only the runner can tell about the end of the trace (the tracer died first, the
   * FIFO failed) goes into the session as alerts; then the session ends (the integrity
   * check reports processes that vanished without an exit record).
   */
  #endOfTrace(exit: Exit, traceEnd: TraceReadEnd): void {
    if (this.#killed) this.#integrity.endedByCaller(this.#killed.reason);
    else {
      const lost: Alert[] = [];
      if (traceEnd.error !== undefined)
        lost.push(
          runnerLoss('trace_unreadable', `the trace could not be read to its end (${traceEnd.error})`),
        );
      if (this.#observer.commandStarted && this.#observer.mainExit === undefined)
        lost.push(
          runnerLoss(
            'tracer_died',
            `strace ended before the command did (${exit.signal ?? `exit ${exit.code}`}): it may run on unseen`,
          ),
        );
      if (lost.length > 0) this.#session.raise(lost);
    }
    this.#session.end();
  }

  /**
   * A tracee can ptrace its own tracer (same uid) or, without isolation, SIGSTOP it: strace
   * then stops and with it every traced process, and the run would hang unseen. That is a
   * loss of the trace, reported and ended at once.
   */
  #checkTracer(): void {
    if (this.#killed || this.#child?.pid === undefined) return;
    const strace = this.#plan.mode === 'none' ? this.#child.pid : this.#nsInit?.pid;
    const why = strace === undefined ? undefined : tracerHijacked(strace);
    if (why === undefined) return;
    const alert = runnerLoss('tracer_attached', `${why}: the trace stops here`);
    this.#session.raise([alert]);
    this.#kill('trace_lost', alert, `trace lost: ${why}`);
  }

  #onAlert(alert: SessionAlert): void {
    if (this.#killed) {
      this.#refusedFirst(alert);
      return;
    }
    if (!this.#policy.breaches(alert)) return;
    this.#breach(alert, breachMessage(alert));
  }

  /**
   * A call strace refused at entry is what stopped its process. A batch's alerts come checks
   * first (the sequence model, rules), then the detector's; so the kill can have been put down
   * to a check's alert about the same process, judged at the end the refusal brought, when the
   * refused call's own alert came just after it. Only the account changes: the kill is made.
   */
  #refusedFirst(alert: SessionAlert): void {
    const killed = this.#killed;
    const before = killed?.alert;
    if (killed?.reason !== 'policy' || before === undefined || alert.pid !== before.pid) return;
    const refused = (a: Alert) => a.syscall !== undefined && this.#policy.refusesAtEntry(a.syscall);
    if (!refused(alert) || refused(before) || !this.#policy.breaches(alert)) return;
    if ((alert.line ?? Number.POSITIVE_INFINITY) > (before.line ?? Number.NEGATIVE_INFINITY)) return;
    killed.alert = alert;
    killed.message = breachMessage(alert);
  }

  /** A breach: killed under enforce; in monitor mode, noted as what would have been done. */
  #breach(alert: Alert | undefined, message: string): void {
    if (this.#policy.applied) this.#kill('policy', alert, message);
    else this.#policy.wouldHaveKilled(alert, message);
  }

  #kill(reason: KillReason, alert: Alert | undefined, message: string): void {
    const child = this.#child;
    if (this.#killed || child === undefined) return;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      // Already over. When the breach is a preempted call, strace refused it at entry and
      // killed the caller itself (`-e inject=…:signal=SIGKILL`) before its line was read
      // here: the policy did stop the command. Any other late breach stopped nothing.
      if (reason === 'policy' && alert?.syscall !== undefined && this.#policy.refusesAtEntry(alert.syscall))
        this.#killed = { reason, alert, message };
      return;
    }
    this.#killed = { reason, alert, message };
    this.#integrity.endedByCaller(reason);
    killTree(this.#processes());
  }

  #processes(): RunProcesses {
    const pgid = this.#child!.pid!;
    if (this.#plan.mode === 'none') return { pgid, hostPids: this.#observer.pids };
    this.#findInit();
    return { pgid, nsInit: this.#nsInit };
  }

  /** Waits for the command's stdout/stderr to end, briefly: an escaped process may hold them. */
  async #drain(): Promise<void> {
    const child = this.#child!;
    await drainStreams([child.stdout, child.stderr], DRAIN_GRACE_MS);
  }
}

/** What the result and the summary say a breach was: `medium unknown_syscall: unknown syscall 'socket' …`. */
function breachMessage(alert: Alert): string {
  const what = alert.rule === undefined ? alert.type : `rule '${alert.rule}' (${alert.action ?? 'alert'})`;
  return `${alert.severity} ${what}: ${alert.message}`;
}

/** A loss only the runner sees, as a critical trace_lost alert. */
function runnerLoss(reason: string, message: string): Alert {
  return {
    type: 'trace_lost',
    severity: 'critical',
    message,
    count: 1,
    details: { check: 'runner', reason },
  };
}

function abortMessage(reason: unknown): string {
  if (typeof reason === 'string' && reason.length > 0) return `stopped: ${reason}`;
  return 'stopped: the service is shutting down';
}
