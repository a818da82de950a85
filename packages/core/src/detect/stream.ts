/**
 * Verdicts as input arrives: a session parses each chunk and judges its records with one
 * detector, so a live trace (a child's stderr, a socket, a growing log) is judged chunk by
 * chunk with flat memory, and a replay of the same bytes gives the same verdicts.
 */
import { createSession, type SessionOptions } from '../session/session.js';
import type { SessionSummary } from '../session/summary.js';
import type { ParseOptions, ParseStats } from '../types.js';
import type { DetectorConfig } from './config.js';
import type { AnomalyVerdict, DetectorStats, SyscallAnomalyDetector } from './detector.js';

export interface AnalyzeStreamOptions {
  /** Config of the detector created for the stream (ignored when `detector` is given). */
  config?: DetectorConfig | undefined;
  /** A detector to use (e.g. one from a `DetectorRegistry`), keeping its state across streams. */
  detector?: SyscallAnomalyDetector | undefined;
  /** Parser options (format, denied errnos, line cap). */
  parse?: ParseOptions | undefined;
  /** Yield clean verdicts too (one item per chunk with events). Defaults to `false`: only alerts and suppressions. */
  includeClean?: boolean | undefined;
  /** The session's checks: rules (default: the shipped pack), built-in checks, context (see `SessionOptions`). */
  rules?: SessionOptions['rules'];
  builtinChecks?: SessionOptions['builtinChecks'];
  context?: SessionOptions['context'];
  checks?: SessionOptions['checks'];
}

/** One verdict of the stream, for the events that one input chunk completed. */
export interface StreamVerdict {
  verdict: AnomalyVerdict;
  /** Syscall events judged in this verdict. */
  events: number;
  /** Lines read so far (the verdict covers events up to this line). */
  line: number;
}

/** What the whole stream came to (the generator's return value). */
export interface StreamSummary {
  parse: ParseStats;
  detector: DetectorStats;
  /** The session's summary: grouped alerts, denials, parse issues. */
  session: SessionSummary;
}

/**
 * Parses `source` chunk by chunk and yields a {@link StreamVerdict} for every chunk whose
 * verdict is not clean (all chunks with events when `includeClean`). Records still pending
 * at the end of input (e.g. `<unfinished …>` halves) are judged in a last verdict.
 *
 * @example
 * for await (const { verdict, line } of analyzeStream(child.stderr, { config })) {
 *   if (verdict.kind === 'alert') kill(child, `line ${line}: ${verdict.alerts[0]!.message}`);
 * }
 */
export async function* analyzeStream(
  source: AsyncIterable<string | Uint8Array>,
  options: AnalyzeStreamOptions = {},
): AsyncGenerator<StreamVerdict, StreamSummary, undefined> {
  const session = createSession({
    config: options.config,
    detector: options.detector,
    parse: options.parse,
    rules: options.rules,
    builtinChecks: options.builtinChecks,
    context: options.context,
    checks: options.checks,
  });
  const includeClean = options.includeClean === true;
  // Opens the input's parser now, so its counters exist even for an empty stream.
  session.write('');
  const stats = session.parseStats!;
  let lines = 0;
  const item = (verdict: AnomalyVerdict): StreamVerdict | undefined => {
    lines = session.parseStats?.lines ?? lines;
    if (session.lastBatchEvents === 0 && verdict.kind === 'clean') return undefined;
    if (verdict.kind === 'clean' && !includeClean) return undefined;
    return { verdict, events: session.lastBatchEvents, line: lines };
  };
  for await (const chunk of source) {
    const out = item(session.write(chunk));
    if (out !== undefined) yield out;
  }
  const last = item(session.end());
  if (last !== undefined) yield last;
  return { parse: { ...stats }, detector: session.detector.stats(), session: session.summary() };
}
