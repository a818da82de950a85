/**
 * The one path from telemetry to verdicts. A session takes text, bytes or parsed records,
 * runs them through the parser, the enricher (context), the checks (integrity, rules, the
 * sequence model) and one detector, and keeps what every adapter reports: the verdict of
 * each push, a bounded summary, whether the run fails a gate, and what to refuse at
 * syscall entry. The CLI, the guard and the sandbox runner only format what it decides.
 */

import { type ContextTracker, createContextTracker } from '../context/tracker.js';
import type { ProcessLookup } from '../context/types.js';
import type { Alert } from '../detect/alert.js';
import { type DetectorConfig, type ResolvedDetectorConfig, resolveDetectorConfig } from '../detect/config.js';
import { type AnomalyVerdict, SyscallAnomalyDetector } from '../detect/detector.js';
import { createParser, type SyscallParser } from '../parse/index.js';
import type { LoadedRule } from '../rules/types.js';
import { atLeast, SEVERITIES } from '../severity.js';
import type { ParsedRecord, ParseOptions, ParseStats, Severity, SyscallEvent } from '../types.js';
import { auditLossCheck } from './checks/audit-loss.js';
import { contextLossCheck } from './checks/context-loss.js';
import { filteredTraceCheck } from './checks/filtered-trace.js';
import { programOutputCheck } from './checks/program-output.js';
import { rawArgumentsCheck } from './checks/raw-arguments.js';
import { rulesCheck, shippedRules } from './checks/rules.js';
import { sequenceCheck } from './checks/sequence.js';
import { telemetryCheck } from './checks/telemetry.js';
import { onlyAllowedAtEntry, refusedAtEntry } from './entry.js';
import { TraceIntegrityCheck, traceIntegrity } from './integrity.js';
import {
  addInputStats,
  emptyInput,
  type OverallVerdict,
  type SessionAlert,
  type SessionSummary,
  SummaryBuilder,
  type SummaryLimits,
  type SuppressedEntry,
} from './summary.js';

/** A process table to ask about ancestors (the context tracker), or none when context is off. */
const NO_PROCESSES: ProcessLookup = { process: () => undefined };

/**
 * A check that reads every record in input order, beside the detector: trace integrity,
 * rules, the sequence model. Its alerts join the verdict of the batch the record came in.
 */
export interface SessionCheck {
  /** `processes` answers for any pid the trace has shown (parents, for `proc.pname`). */
  record(record: ParsedRecord, out: Alert[], processes: ProcessLookup): void;
  /** A new input (a file) starts: what a check keeps per input starts again. */
  beginInput?(name: string): void;
  /** End of all input: what only the end can tell (a process that never exited, a final score). */
  end?(out: Alert[]): void;
  /** Syscalls this check would refuse at entry at or above `failOn` (rules decided by name alone). */
  refusedAtEntry?(failOn: Severity): Iterable<string>;
}

export interface SessionOptions {
  /** The policy (a detector config or a learned baseline), resolved once. Ignored when `detector` is given. */
  config?: DetectorConfig | ResolvedDetectorConfig | undefined;
  /** A detector whose state outlives the session (a guard's per-client detector). */
  detector?: SyscallAnomalyDetector | undefined;
  /** How text and bytes are parsed (format, denied errnos, line cap). */
  parse?: ParseOptions | undefined;
  /** Caps of the summary. */
  limits?: SummaryLimits | undefined;
  /**
   * Who did what to what: a context tracker attaches process, paths, peer and host to each
   * event before anything judges it. Defaults to a new tracker; `false` turns it off (the
   * seed's bare events, a little faster).
   */
  context?: ContextTracker | false | undefined;
  /** Checks run beside the detector, after the built-in ones. */
  checks?: readonly SessionCheck[] | undefined;
  /**
   * The built-in checks: trace integrity (a cut or unreadable line, a CLONE_UNTRACED child:
   * pass your own `traceIntegrity({...})` in `checks` to set its options), LSM denials and
   * would-be denials, crashes and seccomp kills, audit anomalies and tampering. Defaults to `true`. (Rules and the sequence model have their own
   * switches: `rules`, and the config's `sequenceModel`.)
   */
  builtinChecks?: boolean | undefined;
  /**
   * The trace is written by strace alone (`-o FIFO` or `-o FILE` the caller made, as the
   * sandbox runner does): the traced program's output cannot be in it, so output the trace
   * does not show (sendfile into stderr) is not an alert. Defaults to `false`: a trace may
   * share the program's stderr (`strace CMD 2>trace`).
   */
  ownStream?: boolean | undefined;
  /**
   * Rules judged on every event (from `loadRules`). Defaults to the shipped agent-tools pack
   * (credential reads, startup-file writes, metadata connects, download-and-run, …); `false`
   * turns rules off. To add files to the pack, load them after it: `loadRules([AGENT_TOOLS_RULES, mine])`.
   */
  rules?: readonly LoadedRule[] | false | undefined;
  /** Called for every alert as it is found (live reports, follow mode, enforcement). */
  onAlert?: ((alert: SessionAlert) => void) | undefined;
  /** Called for every suppressed verdict. */
  onSuppressed?: ((entry: SuppressedEntry) => void) | undefined;
}

const CLEAN: AnomalyVerdict = Object.freeze({ kind: 'clean' });
const DEFAULT_INPUT = '<input>';

/**
 * Creates a session.
 *
 * @example
 * const session = createSession({ config: mergeConfigs(policy, baseline) });
 * session.beginInput('run.strace');
 * for await (const chunk of stream) session.write(chunk);
 * session.end();
 * if (session.failing('high')) process.exitCode = 1;
 * console.log(session.summary().groups);
 */
export function createSession(options: SessionOptions = {}): AnalysisSession {
  return new AnalysisSession(options);
}

export class AnalysisSession {
  readonly detector: SyscallAnomalyDetector;
  readonly config: ResolvedDetectorConfig;
  readonly #options: SessionOptions;
  readonly #summary: SummaryBuilder;
  readonly #checks: readonly SessionCheck[];
  /** The context tracker, when context is on: also the process table checks ask. */
  readonly context: ContextTracker | undefined;
  readonly #processes: ProcessLookup;
  #parser: SyscallParser | undefined;
  /** The input being read; undefined until `beginInput` (alerts then carry no `input`). */
  #input: string | undefined;
  #ended = false;
  /** Parse options of the current input, when `beginInput` gave any. */
  #inputParse: ParseOptions | undefined;
  /** Syscall events judged by the last push. */
  lastBatchEvents = 0;
  // Reused between pushes: the detector reads them synchronously and keeps no reference.
  readonly #events: SyscallEvent[] = [];
  readonly #extra: Alert[] = [];

  constructor(options: SessionOptions) {
    this.#options = options;
    this.detector = options.detector ?? new SyscallAnomalyDetector(resolveDetectorConfig(options.config));
    this.config = this.detector.config;
    this.#summary = new SummaryBuilder(options.limits);
    this.context = options.context === false ? undefined : (options.context ?? createContextTracker());
    this.#processes = this.context ?? NO_PROCESSES;
    const given = options.checks ?? [];
    const builtin: SessionCheck[] = [];
    if (options.builtinChecks !== false) {
      // One integrity check per session: a caller's own (with its options) replaces the default.
      if (!given.some((c) => c instanceof TraceIntegrityCheck)) builtin.push(traceIntegrity());
      builtin.push(telemetryCheck(this.config));
      builtin.push(
        programOutputCheck(this.config.severity.trace_lost, { unseen: options.ownStream !== true }),
      );
      builtin.push(filteredTraceCheck(this.config.severity.trace_lost));
      builtin.push(rawArgumentsCheck(this.config.severity.trace_lost));
      builtin.push(auditLossCheck(this.config.severity.trace_lost));
      if (this.context !== undefined)
        builtin.push(contextLossCheck(this.context, this.config.severity.trace_lost));
    }
    if (options.rules !== false) builtin.push(rulesCheck(options.rules ?? shippedRules()));
    const sequence = sequenceCheck(this.config);
    if (sequence !== undefined) builtin.push(sequence);
    this.#checks = [...builtin, ...given];
  }

  /**
   * Starts reading a named input (a file); alerts and counts are attributed to it. Ends the
   * previous one. `parse` adds to the session's parse options for this input only (e.g. the
   * `stracePid` of an `strace -ff -o PREFIX` file, whose lines carry no pid).
   */
  beginInput(name: string, parse?: ParseOptions): AnomalyVerdict {
    const verdict = this.endInput();
    for (const check of this.#checks) check.beginInput?.(name);
    this.#input = name;
    this.#inputParse = parse === undefined ? undefined : { ...this.#options.parse, ...parse };
    this.#summary.input(name);
    return verdict;
  }

  /** Parses a chunk of the current input (split anywhere) and judges the records it completed. */
  write(chunk: string | Uint8Array): AnomalyVerdict {
    this.#parser ??= createParser(this.#inputParse ?? this.#options.parse);
    return this.push(this.#parser.push(chunk));
  }

  /** Ends the current input: judges what its parser still held (unfinished calls) and counts it. */
  endInput(): AnomalyVerdict {
    const parser = this.#parser;
    if (parser === undefined) return CLEAN;
    this.#parser = undefined;
    const verdict = this.push(parser.end());
    this.#summary.addParseStats(this.#input ?? DEFAULT_INPUT, parser.stats);
    return verdict;
  }

  /**
   * Parses a whole text and judges it as one batch: one verdict (the guard's form, the seed's
   * `analyze`). Texts given as a list (each whole lines) are read as if joined by newlines,
   * without joining them: the parser then reads flat strings, not a 16 KB concatenation it
   * would have to flatten first (~10 µs of a guarded request).
   */
  analyze(text: string | readonly string[]): AnomalyVerdict {
    const parser = createParser(this.#options.parse);
    const events = this.#events;
    const extra = this.#extra;
    events.length = 0;
    extra.length = 0;
    // Records are taken as the parser completes them (it keeps none it returned, as for
    // `write`), so no list of the whole batch is built; the batch still gets one verdict.
    if (typeof text === 'string') {
      this.#takeAll(parser.push(text), events, extra);
    } else {
      for (let i = 0; i < text.length; i++) {
        if (i > 0) this.#takeAll(parser.push('\n'), events, extra);
        this.#takeAll(parser.push(text[i]!), events, extra);
      }
    }
    this.#takeAll(parser.end(), events, extra);
    this.#summary.addParseStats(this.#input ?? DEFAULT_INPUT, parser.stats);
    const verdict = this.#judge(events, extra);
    events.length = 0;
    extra.length = 0;
    return verdict;
  }

  /**
   * Judges the whole text of one finished run and ends the session: the batch, then what
   * only the end of input tells (a process's final sequence score, with no exit record to
   * close it in a plain `strace -o` trace), as one verdict. The guard's form: without the
   * end, a run that is anomalous only as a whole would come out clean.
   */
  analyzeRun(text: string | readonly string[]): AnomalyVerdict {
    return this.#withEnd(this.analyze(text));
  }

  /** {@link analyzeRun} for records already parsed. */
  pushRun(records: readonly ParsedRecord[]): AnomalyVerdict {
    return this.#withEnd(this.push(records));
  }

  /** `verdict` joined with what ending the session adds: alerts of both, else a suppression, else clean. */
  #withEnd(verdict: AnomalyVerdict): AnomalyVerdict {
    const last = this.end();
    if (last.kind === 'clean') return verdict;
    if (verdict.kind === 'clean') return last;
    if (verdict.kind === 'alert' && last.kind === 'alert')
      return { kind: 'alert', alerts: [...verdict.alerts, ...last.alerts] };
    return verdict.kind === 'alert' ? verdict : last;
  }

  /** Judges parsed records (one record or a batch) as one verdict. */
  push(records: ParsedRecord | readonly ParsedRecord[]): AnomalyVerdict {
    const events = this.#events;
    const extra = this.#extra;
    events.length = 0;
    extra.length = 0;
    if (Array.isArray(records)) this.#takeAll(records, events, extra);
    else this.#take(records as ParsedRecord, events, extra);
    const verdict = this.#judge(events, extra);
    events.length = 0;
    extra.length = 0;
    return verdict;
  }

  /** Alerts found outside the trace (the tracer died, a child escaped): judged like any other. */
  raise(alerts: readonly Alert[]): AnomalyVerdict {
    return this.#judge([], alerts);
  }

  /** End of all input: ends the current input and lets the checks report what only the end tells. */
  end(): AnomalyVerdict {
    const last = this.endInput();
    if (this.#ended) return last;
    this.#ended = true;
    const extra: Alert[] = [];
    for (const check of this.#checks) check.end?.(extra);
    if (extra.length === 0) return last;
    const verdict = this.raise(extra);
    return verdict.kind === 'clean' ? last : verdict;
  }

  /** Counters of the input being parsed (zero when none). */
  get parseStats(): Readonly<ParseStats> | undefined {
    return this.#parser?.stats;
  }

  get verdict(): OverallVerdict {
    return this.#summary.verdict;
  }

  /**
   * Whether the run fails a gate. Without `failOn`, any alert or suppression fails it; with
   * it, alerts at or above it do, and so do alerts held back by the budget, whose severity
   * is unknown (fail closed).
   */
  failing(failOn?: Severity): boolean {
    const s = this.#summary;
    if (failOn === undefined) return s.verdict !== 'clean';
    if (s.heldBack > 0 || s.suppressedVerdicts > 0) return true;
    return SEVERITIES.some((sev) => atLeast(sev, failOn) && s.severities[sev] > 0);
  }

  /** Syscalls the policy (and the checks) say must be refused at syscall entry when enforcing at `failOn`. */
  refusedAtEntry(failOn: Severity): string[] {
    const extra: string[] = [];
    for (const check of this.#checks) if (check.refusedAtEntry) extra.push(...check.refusedAtEntry(failOn));
    return refusedAtEntry(this.config, failOn, extra);
  }

  /**
   * The only syscalls this session's policy lets pass at or above `failOn` whatever their
   * arguments, when it alerts on every other (see `onlyAllowedAtEntry`); undefined otherwise.
   */
  onlyAllowedAtEntry(failOn: Severity): string[] | undefined {
    return onlyAllowedAtEntry(this.config, failOn);
  }

  /** The run so far, JSON-ready and bounded. */
  summary(): SessionSummary {
    const out = this.#summary.build(this.detector.syscallCounts(), this.detector.stats().rejectedTimes);
    // The input being read counts too (a live run asks mid-way).
    if (this.#parser !== undefined) addLive(out, this.#input ?? DEFAULT_INPUT, this.#parser.stats);
    return out;
  }

  #takeAll(records: readonly ParsedRecord[], events: SyscallEvent[], extra: Alert[]): void {
    for (let i = 0; i < records.length; i++) this.#take(records[i], events, extra);
  }

  #take(r: ParsedRecord | undefined, events: SyscallEvent[], extra: Alert[]): void {
    if (r === undefined) return;
    this.context?.observe(r);
    const checks = this.#checks;
    const processes = this.#processes;
    for (let i = 0; i < checks.length; i++) checks[i]!.record(r, extra, processes);
    if (r.kind === 'syscall') {
      events.push(r);
      if (r.denied) this.#summary.denied(r, this.#input);
    } else if (r.kind === 'issue') {
      this.#summary.issue(r, this.#input);
    }
  }

  #judge(events: readonly SyscallEvent[], extra: readonly Alert[]): AnomalyVerdict {
    this.lastBatchEvents = events.length;
    // Nothing to judge: clean without touching the detector (the seed's "no events" case).
    if (events.length === 0 && extra.length === 0) return CLEAN;
    const summary = this.#summary;
    summary.events += events.length;
    const verdict = this.detector.observe(events, extra.length > 0 ? extra : undefined);
    const input = this.#input;
    if (verdict.kind === 'alert') {
      const onAlert = this.#options.onAlert;
      for (const alert of verdict.alerts) {
        const entry: SessionAlert = input === undefined ? alert : { ...alert, input };
        summary.alert(entry);
        onAlert?.(entry);
      }
      summary.settle();
    } else if (verdict.kind === 'suppressed') {
      const entry: SuppressedEntry = {
        reason: verdict.reason,
        heldBack: verdict.heldBack,
        retryAfterMs: verdict.retryAfterMs,
        ...(input !== undefined ? { input } : {}),
        ...(events.length > 0 && events[events.length - 1]!.line !== undefined
          ? { line: events[events.length - 1]!.line }
          : {}),
      };
      summary.suppressed(entry);
      this.#options.onSuppressed?.(entry);
    }
    return verdict;
  }
}

/** Adds the counters of an input still being read to a built summary. */
function addLive(out: SessionSummary, name: string, stats: Readonly<ParseStats>): void {
  let entry = out.inputs.find((i) => i.name === name);
  if (entry === undefined) {
    entry = emptyInput(name);
    out.inputs.push(entry);
  }
  addInputStats(entry, stats);
  out.lines += stats.lines;
  out.bytes += stats.bytes;
}
