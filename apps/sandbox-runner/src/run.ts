import { type ChildProcess, spawn } from 'node:child_process';
import { close, closeSync, constants, open, openSync, read, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Alert,
  type AnomalyVerdict,
  createParser,
  type DetectorConfig,
  type ParsedRecord,
  type Severity,
  SyscallAnomalyDetector,
  type SyscallEvent,
  SyscanError,
} from '@syscan/core';
import { createFastUtf8Decoder } from '@syscan/core/node';
import { AlertLog, type ReportedAlert } from './alerts.js';
import { type CapturedOutput, OutputCapture } from './capture.js';
import { killTree, waitGone } from './kill.js';
import { findExecutable } from './locate.js';
import { atLeast } from './severity.js';
import { classifySetupFailure, makeTraceFifo, straceArgs, straceMissing } from './strace.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_FAIL_ON: Severity = 'high';
/** Pids remembered per run (to kill processes that left the group); a fork bomb cannot grow it past this. */
const MAX_TRACKED_PIDS = 65_536;
/** Raw trace lines kept as evidence of the alerts. */
const MAX_EVIDENCE_LINES = 64;
/** After strace exits, how long to wait for the command's stdout/stderr to drain. */
const DRAIN_GRACE_MS = 500;
/** Bytes per read of the trace FIFO (a pipe holds 64 KiB by default). */
const TRACE_READ_BYTES = 64 * 1024;
/** Pause after a small read so that lines accumulate; bounds how late an alert is seen. */
const TRACE_BATCH_WAIT_MS = 2;

export interface ExecRequest {
  /** The command and its arguments; never interpreted by a shell. */
  argv: readonly string[];
  cwd?: string | undefined;
  /** The command's whole environment (not merged). Defaults to this process's. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Bytes fed to the command's stdin, or `'inherit'` to pass this process's fd 0. Default: /dev/null. */
  stdin?: string | Uint8Array | 'inherit' | undefined;
  /** Kill the whole tree after this many ms. */
  timeoutMs?: number | undefined;
  /** Kill the whole tree at the first alert at or above `failOn`. */
  enforce?: boolean | undefined;
  failOn?: Severity | undefined;
  /** The detector config (a policy file's content). */
  policy: DetectorConfig;
  /** Cap of the stdout and stderr kept each (default 1 MiB). */
  maxOutputBytes?: number | undefined;
  /** Live copies of the command's output (the CLI shows it as it comes). */
  onStdout?: ((chunk: Buffer) => void) | undefined;
  onStderr?: ((chunk: Buffer) => void) | undefined;
  /** Aborting kills the tree (reason `aborted`): used by graceful shutdown. */
  signal?: AbortSignal | undefined;
  /** strace binary (default: `strace` on PATH). */
  strace?: string | undefined;
}

export type KillReason = 'policy' | 'timeout' | 'aborted';

export interface ExecResult {
  argv: string[];
  /** The command's exit status when it exited, else null. */
  exitCode: number | null;
  /** The signal that ended it (e.g. `SIGKILL`), else null. */
  signal: string | null;
  /** The status the CLI exits with: the command's own, or 128 + signal number. */
  status: number;
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  verdict: 'clean' | 'alert';
  /** Alerts grouped by type and syscall, most severe first. */
  alerts: ReportedAlert[];
  alertsTotal: number;
  /** Alert groups not kept (cap reached). */
  alertsDropped: number;
  /** Set when the detector's alert budget held alerts back. */
  suppressed?: { reason: string; heldBack: number } | undefined;
  /** Calls per syscall name, as the detector counted them. */
  syscalls: Record<string, number>;
  events: number;
  killed: { reason: KillReason; alert?: Alert | undefined; message: string } | null;
  /** `chunks`: reads of the trace pipe (a measure of wake-ups). */
  trace: { lines: number; bytes: number; issues: number; pids: number; chunks: number };
  /** Pids the trace saw (the first 1024): every process of the run. */
  processes: number[];
  /** strace's pid, which is also the run's process group id. */
  pgid: number | null;
  /** Raw trace lines of the alerts (first ones, capped): the evidence. */
  evidence: string[];
  enforce: boolean;
  failOn: Severity;
}

/**
 * Runs `argv` under `strace -f`, feeds the trace to the detector as strace writes it, and
 * (enforce) kills the whole tree at the first alert at or above `failOn`.
 * Throws SyscanError for setup problems (strace missing, ptrace denied, command not found).
 */
export async function runSandboxed(req: ExecRequest): Promise<ExecResult> {
  if (req.argv.length === 0 || !req.argv[0]) throw new SyscanError('ERR_SYSCAN_USAGE', 'no command given');
  const straceBin = req.strace ?? findExecutable('strace');
  if (!straceBin) throw straceMissing();
  if (req.cwd !== undefined) checkDirectory(req.cwd);
  const enforce = req.enforce ?? false;
  const failOn = req.failOn ?? DEFAULT_FAIL_ON;
  const detector = new SyscallAnomalyDetector({
    ...req.policy,
    timeSource: req.policy.timeSource ?? 'clock',
  });
  const preempt = enforce ? preemptedSyscalls(req.policy, failOn) : [];

  const trace = await makeTraceFifo();
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(straceBin, straceArgs(trace.fifo, req.argv, preempt), {
      // argv0 `strace`: its messages then read `strace: …` whatever path it was found at.
      argv0: 'strace',
      cwd: req.cwd,
      env: req.env ?? process.env,
      stdio: [stdinMode(req.stdin), 'pipe', 'pipe'],
      // Its own process group (and session): one kill(-pgid) reaches strace and the command tree.
      detached: true,
    });
  } catch (error) {
    await trace.remove();
    throw new SyscanError('ERR_SYSCAN_SPAWN', `cannot start strace: ${(error as Error).message}`);
  }
  const run = new Run(child, detector, enforce, failOn, req, preempt);
  try {
    return await run.finish(trace, started);
  } finally {
    await trace.remove();
  }
}

/**
 * Syscalls that alert at or above the threshold whenever they occur, whatever their
 * arguments: forbidden ones, and dangerous ones outside the baseline. strace refuses them at
 * entry in enforce mode, so they never take effect (killing after the line is read would
 * let the call complete first).
 */
export function preemptedSyscalls(policy: DetectorConfig, failOn: Severity): string[] {
  if (policy.enabled === false) return [];
  const out = new Set<string>();
  if (atLeast('critical', failOn)) {
    for (const s of policy.forbiddenSyscalls ?? []) out.add(s);
    if (policy.alertOnUnknownSyscall !== false) {
      const baseline = new Set(policy.baselineSyscalls ?? []);
      for (const s of policy.dangerousSyscalls ?? []) if (!baseline.has(s)) out.add(s);
    }
  }
  // Only names strace can parse; anything else would make it refuse to start.
  return [...out].filter((s) => /^[a-z0-9_]{1,40}$/.test(s)).sort();
}

function checkDirectory(cwd: string): void {
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new SyscanError('ERR_SYSCAN_USAGE', `cwd is not a directory: ${cwd}`);
}

function stdinMode(stdin: ExecRequest['stdin']): 'ignore' | 'inherit' | 'pipe' {
  if (stdin === undefined) return 'ignore';
  return stdin === 'inherit' ? 'inherit' : 'pipe';
}

/** One run's state: the trace reader, the detector feed, the kill switch. */
class Run {
  readonly #child: ChildProcess;
  readonly #detector: SyscallAnomalyDetector;
  readonly #enforce: boolean;
  readonly #failOn: Severity;
  readonly #req: ExecRequest;
  /** Syscalls strace itself refuses with SIGKILL at entry (enforce mode). */
  readonly #preempted: ReadonlySet<string>;
  readonly #parser = createParser({ source: 'strace', createDecoder: createFastUtf8Decoder });
  readonly #alerts = new AlertLog();
  readonly #pids = new Set<number>();
  readonly #evidence: string[] = [];
  readonly #stdout: OutputCapture;
  readonly #stderr: OutputCapture;
  #events = 0;
  #chunks = 0;
  #commandStarted = false;
  #suppressed: { reason: string; heldBack: number } | undefined;
  #killed: ExecResult['killed'] = null;

  constructor(
    child: ChildProcess,
    detector: SyscallAnomalyDetector,
    enforce: boolean,
    failOn: Severity,
    req: ExecRequest,
    preempted: readonly string[],
  ) {
    this.#child = child;
    this.#preempted = new Set(preempted);
    this.#detector = detector;
    this.#enforce = enforce;
    this.#failOn = failOn;
    this.#req = req;
    const cap = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#stdout = new OutputCapture(cap);
    this.#stderr = new OutputCapture(cap);
  }

  async finish(trace: { fifo: string; remove: () => Promise<void> }, started: number): Promise<ExecResult> {
    const child = this.#child;
    const req = this.#req;
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.stdout?.on('data', (c: Buffer) => {
      this.#stdout.push(c);
      req.onStdout?.(c);
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.#stderr.push(c);
      // strace's own setup complaint is reported as one line by the caller, not echoed.
      if (!this.#commandStarted && /^\S*strace: /.test(c.toString('latin1', 0, 64))) return;
      req.onStderr?.(c);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
      const input = req.stdin;
      child.stdin.end(typeof input === 'string' || input instanceof Uint8Array ? input : undefined);
    }

    let timer: NodeJS.Timeout | undefined;
    if (req.timeoutMs !== undefined && req.timeoutMs > 0) {
      timer = setTimeout(
        () => this.#kill('timeout', undefined, `timed out after ${req.timeoutMs} ms`),
        req.timeoutMs,
      );
    }
    const onAbort = (): void => this.#kill('aborted', undefined, 'stopped: the service is shutting down');
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const failed = await spawned;
      if (failed) {
        const code = (failed as NodeJS.ErrnoException).code;
        throw code === 'ENOENT'
          ? straceMissing()
          : new SyscanError('ERR_SYSCAN_SPAWN', `cannot start strace: ${failed.message}`);
      }
      // The trace is read from the moment strace opens the FIFO; `exited` resolves meanwhile.
      const traceDone = this.#readTrace(trace, exited);
      const { code, signal } = await exited;
      await traceDone;
      await this.#drain();
      const durationMs = performance.now() - started;

      if (!this.#killed && code === 1 && !this.#commandStarted) {
        const problem = classifySetupFailure(this.#stderr.result().text, req.argv[0]!);
        if (problem) throw problem;
      }
      return this.#result(code, signal, durationMs);
    } finally {
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      // Belt and braces: nothing of this run may outlive it. A normal end needs no wait
      // (strace exits only once every traced process is gone); after a kill, wait until
      // the killed processes have left /proc.
      if (child.pid !== undefined) {
        killTree(child.pid, this.#pids);
        if (this.#killed) await waitGone(child.pid, this.#pids);
      }
    }
  }

  /** Opens the FIFO (blocks until strace opens its end), then streams it through the parser. */
  async #readTrace(
    trace: { fifo: string; remove: () => Promise<void> },
    exited: Promise<unknown>,
  ): Promise<void> {
    let opened = false;
    // If strace dies before opening the FIFO, our blocking open would wait forever: open the
    // write end ourselves (succeeds because a reader is waiting) to release it.
    exited.then(() => {
      if (opened) return;
      try {
        closeSync(openSync(trace.fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // the reader already got in
      }
    });
    const fd = await new Promise<number>((resolve, reject) =>
      open(trace.fifo, constants.O_RDONLY, (err, fd) => (err ? reject(err) : resolve(fd))),
    );
    opened = true;
    // strace holds it open now: the path can go, nothing else can open the trace.
    await trace.remove();
    // Read with plain reads and a short pause after a small one, rather than a socket that
    // wakes on every write: strace writes a line at a time, and a wake-up per line (a context
    // switch, in a VM an inter-processor interrupt) cost more than tracing itself. Pausing
    // lets lines pile up in the pipe (64 KiB); strace only waits if it fills.
    const buffer = Buffer.allocUnsafe(TRACE_READ_BYTES);
    try {
      for (;;) {
        const n = await new Promise<number>((resolve, reject) =>
          read(fd, buffer, 0, buffer.length, null, (err, bytes) => (err ? reject(err) : resolve(bytes))),
        );
        if (n === 0) break; // every writer (strace) has closed the FIFO
        this.#chunks++;
        // The parser decodes the bytes before returning, so the buffer can be reused.
        this.#feed(this.#parser.push(buffer.subarray(0, n)));
        if (n < TRACE_READ_BYTES / 4) await sleep(TRACE_BATCH_WAIT_MS);
      }
    } catch {
      // EIO and the like: the trace ends here; what was read has been judged.
    } finally {
      close(fd, () => {});
    }
    this.#feed(this.#parser.end());
  }

  /** Waits for the command's stdout/stderr to end, briefly: an escaped process may hold them. */
  async #drain(): Promise<void> {
    const streams = [this.#child.stdout, this.#child.stderr].filter((s) => s && !s.readableEnded);
    if (streams.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(
        streams.map(
          (s) =>
            new Promise<void>((r) => {
              s!.once('end', r);
              s!.once('close', r);
            }),
        ),
      ),
      new Promise<void>((r) => {
        timer = setTimeout(r, DRAIN_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    for (const s of streams) s!.destroy();
  }

  #feed(records: readonly ParsedRecord[]): void {
    const batch: SyscallEvent[] = [];
    for (const r of records) {
      if (r.kind !== 'syscall') continue;
      batch.push(r);
      if (r.pid !== undefined && this.#pids.size < MAX_TRACKED_PIDS) this.#pids.add(r.pid);
      if (!this.#commandStarted && r.syscall === 'execve' && r.errno === undefined && r.ret === '0') {
        this.#commandStarted = true;
      }
    }
    if (batch.length === 0) return;
    this.#events += batch.length;
    this.#verdict(this.#detector.observe(batch));
  }

  #verdict(v: AnomalyVerdict): void {
    if (v.kind === 'clean') return;
    if (v.kind === 'suppressed') {
      this.#suppressed = { reason: v.reason, heldBack: (this.#suppressed?.heldBack ?? 0) + v.heldBack };
      // Enforcing blind is not enforcing: alerts we cannot see count as a breach.
      if (this.#enforce) this.#kill('policy', undefined, `alerts suppressed while enforcing (${v.reason})`);
      return;
    }
    for (const a of v.alerts) {
      this.#alerts.add(a);
      if (a.sample && this.#evidence.length < MAX_EVIDENCE_LINES) this.#evidence.push(a.sample);
    }
    if (!this.#enforce || this.#killed) return;
    const breach = v.alerts.find((a) => atLeast(a.severity, this.#failOn));
    if (breach) this.#kill('policy', breach, `${breach.severity} ${breach.type}: ${breach.message}`);
  }

  #kill(reason: KillReason, alert: Alert | undefined, message: string): void {
    if (this.#killed) return;
    const pid = this.#child.pid;
    if (pid === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) {
      // Already over. When the breach is a preempted call, strace refused it at entry and
      // killed the caller itself (`-e inject=…:signal=SIGKILL`) before its line was read
      // here: the policy did stop the command. Any other late breach stopped nothing.
      if (reason === 'policy' && alert?.syscall !== undefined && this.#preempted.has(alert.syscall)) {
        this.#killed = { reason, alert, message };
      }
      return;
    }
    this.#killed = { reason, alert, message };
    killTree(pid, this.#pids);
  }

  #result(code: number | null, signal: NodeJS.Signals | null, durationMs: number): ExecResult {
    const counts: Record<string, number> = {};
    for (const [name, n] of [...this.#detector.syscallCounts()].sort((a, b) => b[1] - a[1])) counts[name] = n;
    const signum = signal ? (osConstants.signals[signal] ?? 0) : 0;
    const alerts = this.#alerts.list();
    return {
      argv: [...this.#req.argv],
      exitCode: code,
      signal,
      status: code ?? 128 + signum,
      durationMs: Math.round(durationMs * 1000) / 1000,
      stdout: this.#stdout.result(),
      stderr: this.#stderr.result(),
      verdict: alerts.length > 0 || this.#suppressed ? 'alert' : 'clean',
      alerts,
      alertsTotal: this.#alerts.total,
      alertsDropped: this.#alerts.dropped,
      suppressed: this.#suppressed,
      syscalls: counts,
      events: this.#events,
      killed: this.#killed,
      trace: {
        lines: this.#parser.stats.lines,
        bytes: this.#parser.stats.bytes,
        issues: this.#parser.stats.issues,
        pids: this.#pids.size,
        chunks: this.#chunks,
      },
      processes: [...this.#pids].slice(0, 1024),
      pgid: this.#child.pid ?? null,
      evidence: this.#evidence,
      enforce: this.#enforce,
      failOn: this.#failOn,
    };
  }
}
