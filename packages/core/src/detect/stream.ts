/**
 * Verdicts as input arrives: the streaming parser feeds each chunk's syscall events to one
 * detector, so a live trace (a child's stderr, a socket, a growing log) is judged chunk by
 * chunk with flat memory, and a replay of the same bytes gives the same verdicts.
 */
import { createParser } from '../parse/index.js';
import type { ParsedRecord, ParseOptions, ParseStats, SyscallEvent } from '../types.js';
import type { DetectorConfig } from './config.js';
import { type AnomalyVerdict, type DetectorStats, SyscallAnomalyDetector } from './detector.js';

export interface AnalyzeStreamOptions {
  /** Config of the detector created for the stream (ignored when `detector` is given). */
  config?: DetectorConfig | undefined;
  /** A detector to use (e.g. one from a `DetectorRegistry`), keeping its state across streams. */
  detector?: SyscallAnomalyDetector | undefined;
  /** Parser options (format, denied errnos, line cap). */
  parse?: ParseOptions | undefined;
  /** Yield clean verdicts too (one item per chunk with events). Defaults to `false`: only alerts and suppressions. */
  includeClean?: boolean | undefined;
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
  const detector = options.detector ?? new SyscallAnomalyDetector(options.config);
  const parser = createParser(options.parse);
  const includeClean = options.includeClean === true;
  // Reused between chunks: the detector reads it synchronously and keeps no reference.
  const events: SyscallEvent[] = [];
  const judge = (records: ParsedRecord[]): StreamVerdict | undefined => {
    events.length = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.kind === 'syscall') events.push(r);
    }
    if (events.length === 0) return undefined;
    const verdict = detector.observe(events);
    const n = events.length;
    events.length = 0;
    if (verdict.kind === 'clean' && !includeClean) return undefined;
    return { verdict, events: n, line: parser.stats.lines };
  };
  for await (const chunk of source) {
    const item = judge(parser.push(chunk));
    if (item !== undefined) yield item;
  }
  const last = judge(parser.end());
  if (last !== undefined) yield last;
  return { parse: { ...parser.stats }, detector: detector.stats() };
}
