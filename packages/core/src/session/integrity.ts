/**
 * Trace integrity: whatever the trace itself says syscan could not see becomes an alert,
 * never silence. A line that was cut or could not be read may have hidden a call; a
 * `clone(CLONE_UNTRACED)` child is invisible to the tracer; a process whose calls stop
 * without an exit record was lost (the tracer died, the trace was cut short). A session
 * runs this check beside the detector, so the CLI and the sandbox runner report the same.
 */

import { cloneFlags } from '../context/spawn.js';
import type { ProcessLookup } from '../context/types.js';
import { detach } from '../detach.js';
import type { Alert } from '../detect/alert.js';
import { cutSample } from '../detect/detector.js';
import type { ParsedRecord, ParseIssue, Severity, SummaryRow, SyscallEvent, TracerRecord } from '../types.js';
import type { SessionCheck } from './session.js';

export interface TraceIntegrityOptions {
  /**
   * The trace carries an exit record for every process (strace without `-qq`): a pid whose
   * calls stop without `+++ exited … +++` at the end of the input is reported lost.
   * `'auto'`: expected of a strace trace once it has shown one exit record (it was not taken
   * with `-qq`, so every process it followed ends with one), for the processes it followed
   * (`-f`: lines with pids); a pid strace said it detached from ended on purpose.
   * Defaults to `false` (a trace taken with `-qq` has no exit lines).
   */
  expectExits?: boolean | 'auto' | undefined;
  /** Severity of every alert of this check. Defaults to `critical`: syscan was blind there. */
  severity?: Severity | undefined;
  /** Alerts about unreadable or cut lines before further ones are only counted. Defaults to 64. */
  maxLineAlerts?: number | undefined;
  /** Pids followed for exit records; more are counted as untracked. Defaults to 65 536. */
  maxTrackedPids?: number | undefined;
}

/** Pids listed in the end-of-trace alert's details. */
const MAX_LISTED_PIDS = 20;
/** Live pids whose first record is kept as a sample at once (the end-of-trace alert shows the earliest). */
const MAX_SAMPLED_PIDS = 64;

/** Rows of strace's summary tables kept per input for the alert (a table has one per syscall: ~400 at most). */
const MAX_SUMMARY_ROWS = 512;
/** Rows named in the alert's message, fewest calls first. */
const MESSAGE_ROWS = 6;

/** What the reader said of an unreadable line (` (its reason)`), without its `line N: ` head. */
function readerSays(r: ParsedRecord): string {
  if (r.kind !== 'issue') return '';
  const why = r.message.replace(/^line \d+: /, '');
  return ` (${why.length > 160 ? `${why.slice(0, 159)}…` : why})`;
}

/** The audit reader's issues about a whole event (`line 3: audit event 41: …`), not an unreadable line. */
const AUDIT_EVENT_ISSUE = /^line \d+: audit event /;

/** strace's line for a leader whose thread ran execve: the thread's pid. */
const SUPERSEDED = /\+\+\+ superseded by execve in pid (\d{1,10}) \+\+\+$/;

/** Calls that make a process; their return value is the new pid. */
const SPAWNS = new Set(['clone', 'clone3', 'fork', 'vfork']);

/**
 * The integrity check. Besides {@link SessionCheck}, the caller can say the trace was
 * ended on purpose ({@link TraceIntegrityCheck.endedByCaller}: the runner killed the tree),
 * after which missing exit records are expected, not a loss.
 */
export class TraceIntegrityCheck implements SessionCheck {
  readonly #expectExits: boolean | 'auto';
  /** Pids are followed for exit records (expected, or maybe, under `'auto'`). */
  readonly #followPids: boolean;
  /**
   * Under `'auto'`: the inputs (by number) that showed an exit record, so print them, and the
   * input each live pid was first seen in. A `-qq` file beside a full one is not held to it;
   * a `-ff` child, seen in its parent's file, ends in its own.
   */
  readonly #inputsWithExits = new Set<number>();
  readonly #inputOfPid = new Map<number, number>();
  /** Names of the inputs by number (only kept under `'auto'`, for the alert's message). */
  readonly #inputNames: string[] = [];
  #inputNo = 0;
  /** The session's process table, for naming the lost process at the end (who it was, its argv). */
  #processes: ProcessLookup | undefined;
  /** Under `'auto'`: children known only from their parent's clone, no line of their own yet. */
  readonly #silentChildren = new Set<number>();
  readonly #severity: Severity;
  readonly #maxLineAlerts: number;
  readonly #maxPids: number;
  /**
   * Live pids (seen, not yet exited) in first-seen order, with the line of their first
   * record. Followed only when exits are expected: nothing else reads them, and a day of
   * audit log (no exit records) fills the cap with pids that never end.
   */
  readonly #live = new Map<number, number | undefined>();
  /**
   * Detached samples of the first records of a few live pids, for the end-of-trace alert:
   * one per pid would be ~0.5 KiB × 65 536 pids. A raw line is a slice of a whole read
   * chunk, so these are copies (a slice kept every read chunk alive).
   */
  readonly #samples = new Map<number, string>();
  readonly #exited = new Set<number>();
  /** Processes already reported for setting up an io_uring (bounded by the pid cap). */
  readonly #ringPids = new Set<number>();
  #untrackedPids = 0;
  #lineAlerts = 0;
  #linesLost = 0;
  /** A kernel line saying audit messages were dropped was raised. */
  #kernelDropRaised = false;
  /**
   * Lines already counted lost: a cut line yields an issue, maybe its call's head (flagged),
   * and at the end an "never completed" issue; all one loss. Capped with the pid cap.
   */
  readonly #lostLines = new Set<number>();
  #endedByCaller: string | undefined;
  /** Syscall events of the current input: what strace's summary of it is compared with. */
  #inputCalls = 0;
  /** The current input's summary rows (not `total`), the calls its totals count, and whether it alerted. */
  #summaryRows: SummaryRow[] = [];
  #summaryCalls = 0;
  #summaryAlerted = false;

  constructor(options: TraceIntegrityOptions = {}) {
    this.#expectExits = options.expectExits ?? false;
    this.#followPids = this.#expectExits !== false;
    this.#severity = options.severity ?? 'critical';
    this.#maxLineAlerts = options.maxLineAlerts ?? 64;
    this.#maxPids = options.maxTrackedPids ?? 65_536;
  }

  /** Trace lines that were cut or unreadable (all of them, including those past the alert cap). */
  get linesLost(): number {
    return this.#linesLost;
  }

  /** Pids seen without an exit record so far (followed only with `expectExits`; empty otherwise). */
  get liveProcesses(): number[] {
    return [...this.#live.keys()];
  }

  /** How many pids have been seen without an exit record so far (0: every traced process ended; always 0 without `expectExits`). */
  get liveCount(): number {
    return this.#live.size;
  }

  /** The trace ends because the caller stopped it (kill, timeout): exits missing after this are expected. */
  endedByCaller(reason: string): void {
    this.#endedByCaller ??= reason;
  }

  beginInput(name: string): void {
    this.#inputNo++;
    if (this.#expectExits === 'auto' && this.#inputNames.length < this.#maxPids)
      this.#inputNames[this.#inputNo] = name;
    this.#inputCalls = 0;
    this.#summaryRows = [];
    this.#summaryCalls = 0;
    this.#summaryAlerted = false;
  }

  record(r: ParsedRecord, out: Alert[], processes?: ProcessLookup): void {
    this.#processes = processes;
    switch (r.kind) {
      case 'syscall':
        this.#inputCalls++;
        // 'auto' follows strace's processes only: audit has no exit records.
        if (this.#expectExits !== 'auto' || r.source === 'strace') this.#seen(r.pid, r.line, r.raw);
        if (this.#silentChildren.size > 0 && r.pid !== undefined) this.#silentChildren.delete(r.pid);
        if ((r as SyscallEvent & { truncated?: boolean }).truncated === true) this.#lineLost(r, out);
        else if (SPAWNS.has(r.syscall)) this.#spawned(r, out);
        else if (r.syscall === 'io_uring_setup') this.#ringMade(r, out);
        return;
      case 'signal':
        this.#seen(r.pid, r.line, r.raw);
        return;
      case 'exit': {
        if (this.#expectExits === 'auto') this.#inputsWithExits.add(this.#inputNo);
        // `L +++ superseded by execve in pid T +++`: thread T's execve made it the leader, L.
        // T never exits under its own pid; L goes on running the new program.
        const execer = r.exitCode === undefined && r.signal === undefined ? SUPERSEDED.exec(r.raw) : null;
        if (execer !== null) {
          if (this.#followPids) this.#ended(Number(execer[1]));
        } else if (r.pid !== undefined && this.#followPids) this.#ended(r.pid);
        else if (r.pid === undefined && this.#expectExits === 'auto') this.#endedUnprefixed();
        return;
      }
      case 'issue':
        if (r.code === 'audit_messages_lost') this.#kernelDropped(r, out);
        else this.#lineLost(r, out);
        return;
      case 'tracer':
        if (r.summaryRow !== undefined) this.#summaryRow(r, r.summaryRow, out);
        // `strace: Process N detached` (strace -p, stopped with Ctrl-C): let go of on purpose.
        else if (r.event === 'detached' && r.pid !== undefined && this.#expectExits === 'auto')
          this.#ended(r.pid);
        return;
      default:
        return;
    }
  }

  /**
   * A row of strace's `-c`/`-C` table. At its `total`, the calls it counts are compared with
   * the calls this input showed: a `-c` trace is counts alone (no call, so no process, path
   * or argument to judge), and a `-C` table counting more than the trace shows means lines
   * of it are gone. Either is an alert, never a clean verdict on calls nobody saw.
   */
  #summaryRow(r: TracerRecord, row: SummaryRow, out: Alert[]): void {
    if (row.syscall !== 'total') {
      if (this.#summaryRows.length < MAX_SUMMARY_ROWS) this.#summaryRows.push(row);
      return;
    }
    // Tables of several personalities (`System call usage summary for 32 bit mode:`) add up.
    this.#summaryCalls += row.calls;
    const counted = this.#summaryCalls;
    const shown = this.#inputCalls;
    // No calls column (`-U` without it): how many is unknown, but none shown is still blind.
    const missing = Number.isNaN(counted) ? shown === 0 : counted > shown;
    if (!missing || this.#summaryAlerted) return;
    this.#summaryAlerted = true;
    const rows = [...this.#summaryRows].sort((a, b) => a.calls - b.calls);
    const listed = rows
      .slice(0, MESSAGE_ROWS)
      .map((x) => (Number.isNaN(x.calls) ? x.syscall : `${x.calls} ${x.syscall}`))
      .join(', ');
    const more = rows.length > MESSAGE_ROWS ? `, and ${rows.length - MESSAGE_ROWS} more syscalls` : '';
    const what = Number.isNaN(counted) ? `calls of ${rows.length} syscalls` : `${counted} calls`;
    out.push({
      type: 'trace_lost',
      severity: this.#severity,
      message:
        shown === 0
          ? `the trace is strace's summary only (-c): ${what} counted, none shown, so who made them and on what cannot be judged: ${listed}${more}`
          : `strace's summary counts ${what} and the trace shows ${shown}: ${counted - shown} calls are missing from it (${listed}${more})`,
      count: Number.isNaN(counted) ? rows.length : counted - shown,
      line: r.line,
      sample: cutSample(r.raw),
      details: {
        check: 'trace_integrity',
        reason: 'summary_without_calls',
        counted: Number.isNaN(counted) ? null : counted,
        shown,
        syscalls: rows.slice(0, 32).map((x) => ({
          syscall: x.syscall,
          calls: Number.isNaN(x.calls) ? null : x.calls,
          errors: x.errors,
        })),
      },
    });
  }

  /**
   * `+++ exited with 1 +++` without a pid in a trace that has shown pids: strace (to stderr)
   * prefixes `[pid N]` only while it traces more than one process, so this is the one left,
   * the one live pid of this input. With several live (never in strace's own output), none
   * is taken for it.
   */
  #endedUnprefixed(): void {
    let only: number | undefined;
    for (const [pid, input] of this.#inputOfPid) {
      if (input !== this.#inputNo) continue;
      if (only !== undefined) return;
      only = pid;
    }
    if (only !== undefined) this.#ended(only);
  }

  #ended(pid: number): void {
    this.#live.delete(pid);
    this.#samples.delete(pid);
    this.#inputOfPid.delete(pid);
    this.#silentChildren.delete(pid);
    if (this.#exited.size < this.#maxPids) this.#exited.add(pid);
  }

  end(out: Alert[]): void {
    if (!this.#followPids || this.#endedByCaller !== undefined || this.#live.size === 0) return;
    const pids = [...this.#live.keys()].filter(
      (pid) => this.#expectExits !== 'auto' || this.#inputsWithExits.has(this.#inputOfPid.get(pid) ?? -1),
    );
    if (pids.length === 0) return;
    // The earliest live pid whose sample was kept (the earliest of all when none was).
    let sampled: [number, string] | undefined;
    for (const entry of this.#samples) {
      if (pids.includes(entry[0])) {
        sampled = entry;
        break;
      }
    }
    const firstPid = sampled?.[0] ?? (pids[0] as number);
    const inputName = this.#inputNames[this.#inputOfPid.get(firstPid) ?? -1];
    out.push({
      type: 'trace_lost',
      severity: this.#severity,
      message: pids.every((pid) => this.#silentChildren.has(pid))
        ? `trace${inputName === undefined ? '' : ` ${inputName}`} shows ${pids.length} process${pids.length === 1 ? '' : 'es'} started (pid ${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ', …' : ''}) and not one line of ${pids.length === 1 ? 'its' : 'their'} own: what ${pids.length === 1 ? 'it' : 'they'} did is not in this input (with strace -ff each process has its own file: give them all)`
        : `trace${inputName === undefined ? '' : ` ${inputName}`} ended without an exit record for ${pids.length} process${pids.length === 1 ? '' : 'es'} (the tracer died or the trace was cut): what they did after their last line is unknown`,
      count: pids.length,
      pid: firstPid,
      line: this.#live.get(firstPid),
      sample: sampled?.[1],
      process: this.#processes?.process(firstPid),
      details: {
        check: 'trace_integrity',
        reason: 'missing_exit',
        pids: pids.slice(0, MAX_LISTED_PIDS),
        ...(this.#untrackedPids > 0 ? { untrackedPids: this.#untrackedPids } : {}),
      },
    });
  }

  /**
   * A new process: followed from its birth (the parent's return value), so that a child
   * still silent when its parent exits already counts as live; or, made untraced, an alert.
   */
  #spawned(r: SyscallEvent, out: Alert[]): void {
    // The context tracker's reader: names, `clone3({flags=…})`, `-X raw` hex, outside strings only.
    if (
      r.args !== undefined &&
      r.syscall !== 'fork' &&
      r.syscall !== 'vfork' &&
      cloneFlags(r.args).includes('CLONE_UNTRACED')
    ) {
      out.push(this.#untraced(r));
      return;
    }
    // Without -f (a parent line without a pid) strace does not follow the child: no exit expected of it.
    if (this.#expectExits === 'auto' && (r.pid === undefined || r.source !== 'strace')) return;
    const child = r.ret !== undefined && /^[1-9]\d{0,9}$/.test(r.ret) ? Number(r.ret) : undefined;
    const known = child === undefined || this.#live.has(child) || this.#exited.has(child);
    this.#seen(child, r.line, r.raw);
    if (!known && this.#expectExits === 'auto' && this.#live.has(child!)) this.#silentChildren.add(child!);
  }

  #seen(pid: number | undefined, line: number | undefined, raw: string): void {
    if (!this.#followPids || pid === undefined || this.#live.has(pid) || this.#exited.has(pid)) return;
    if (this.#live.size >= this.#maxPids) {
      this.#untrackedPids++;
      return;
    }
    this.#live.set(pid, line);
    if (this.#expectExits === 'auto') this.#inputOfPid.set(pid, this.#inputNo);
    if (this.#samples.size < MAX_SAMPLED_PIDS) this.#samples.set(pid, detach(cutSample(raw)));
  }

  /** The kernel's own word that audit messages were dropped: raised once. */
  #kernelDropped(r: ParseIssue, out: Alert[]): void {
    if (this.#kernelDropRaised) return;
    this.#kernelDropRaised = true;
    out.push({
      type: 'trace_lost',
      severity: this.#severity,
      message: `${r.message.replace(/^line \d+: /, '')} at line ${r.line ?? '?'}: events it dropped are not in the input (a flood of calls can cause it on purpose)`,
      count: 1,
      line: r.line,
      sample: cutSample(r.raw),
      details: { check: 'trace_integrity', reason: 'audit_messages_lost' },
    });
  }

  #lineLost(r: ParsedRecord & { raw: string; line?: number | undefined }, out: Alert[]): void {
    if (r.line !== undefined) {
      if (this.#lostLines.has(r.line)) return;
      if (this.#lostLines.size < this.#maxPids) this.#lostLines.add(r.line);
    }
    this.#linesLost++;
    if (this.#lineAlerts >= this.#maxLineAlerts) return;
    this.#lineAlerts++;
    const syscall = r.kind === 'syscall' ? r.syscall : undefined;
    const cut = r.kind === 'syscall' || (r.kind === 'issue' && r.code === 'line_truncated');
    // The caller stopped the run (a kill) while strace wrote this line: no loss of its own
    // making, but the call was under way and may have done what it was for.
    const stopped =
      this.#endedByCaller !== undefined && r.kind === 'issue' && r.code === 'trace_ends_mid_line';
    // The audit reader read the event's lines but found a record missing or one in doubt.
    const incomplete =
      r.kind === 'issue' && r.code === 'malformed_audit_record' && AUDIT_EVENT_ISSUE.test(r.message);
    out.push({
      type: 'trace_lost',
      severity: this.#severity,
      message: cut
        ? `trace line ${r.line ?? '?'} was cut${syscall ? ` (a ${syscall} call)` : ''}: calls in it or after it may be hidden`
        : stopped
          ? `the trace ends inside line ${r.line ?? '?'}, cut when the run was stopped (${this.#endedByCaller}): the call it shows was under way and may have taken effect`
          : incomplete
            ? `the audit event at line ${r.line ?? '?'} is incomplete or in doubt${readerSays(r)}: what it did may be hidden`
            : `trace line ${r.line ?? '?'} could not be read${readerSays(r)}: a call may be hidden in it`,
      syscall,
      count: 1,
      line: r.line,
      pid: r.kind === 'syscall' ? r.pid : undefined,
      sample: cutSample(r.raw),
      details: {
        check: 'trace_integrity',
        reason: cut
          ? 'line_truncated'
          : stopped
            ? 'cut_when_stopped'
            : incomplete
              ? 'audit_event_incomplete'
              : 'line_unreadable',
        ...(this.#lineAlerts === this.#maxLineAlerts ? { furtherLinesOnlyCounted: true } : {}),
      },
    });
  }

  /**
   * An io_uring: the opens, reads, writes, connects and sends a process submits through it
   * are done by the kernel without a syscall of their own, so neither strace nor audit shows
   * them (a file read this way appears nowhere in the trace). Once per process.
   */
  #ringMade(r: SyscallEvent, out: Alert[]): void {
    if (r.errno !== undefined || r.ret === undefined || !/^\d+$/.test(r.ret)) return;
    const pid = r.process?.pid ?? r.pid ?? -1;
    if (this.#ringPids.has(pid)) return;
    if (this.#ringPids.size < this.#maxPids) this.#ringPids.add(pid);
    const who = r.process?.exe ?? r.process?.comm ?? (r.pid === undefined ? 'a process' : `pid ${r.pid}`);
    out.push(
      this.#callAlert(
        r,
        'trace_lost',
        `${who} set up an io_uring: the files it opens and reads, and the peers it connects to, through the ring are not syscalls, so the trace does not show them`,
        { reason: 'io_uring' },
      ),
    );
  }

  #untraced(r: SyscallEvent): Alert {
    return this.#callAlert(
      r,
      'untraced_child',
      `${r.syscall} with CLONE_UNTRACED: the child${r.ret && /^\d+$/.test(r.ret) ? ` (pid ${r.ret})` : ''} runs unseen by the tracer`,
      { reason: 'clone_untraced', ...(r.ret ? { child: r.ret } : {}) },
    );
  }

  /** An alert of this check about one call: who made it, where, and its line. */
  #callAlert(r: SyscallEvent, type: Alert['type'], message: string, details: Record<string, unknown>): Alert {
    return {
      type,
      severity: this.#severity,
      message,
      syscall: r.syscall,
      count: 1,
      pid: r.pid,
      line: r.line,
      time: r.time,
      sample: cutSample(r.raw),
      process: r.process,
      details: { check: 'trace_integrity', ...details },
    };
  }
}

/**
 * The trace-integrity check for a session.
 *
 * @example
 * const integrity = traceIntegrity({ expectExits: true });
 * const session = createSession({ config, checks: [integrity] });
 */
export function traceIntegrity(options: TraceIntegrityOptions = {}): TraceIntegrityCheck {
  return new TraceIntegrityCheck(options);
}
