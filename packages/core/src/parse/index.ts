import type { ParsedRecord, ParseOptions, ParseStats, SyscallEvent } from '../types.js';
import { AuditParser } from './audit/index.js';
import { JournalReader } from './journal.js';
import { type LineParser, type ResolvedParseOptions, resolveParseOptions } from './line-parser.js';
import { LineSplitter } from './lines.js';
import { StraceParser } from './strace/index.js';

/** An incremental parser: push chunks (split anywhere), get records as they complete. */
export interface SyscallParser {
  /** Reads a chunk of input and returns the records it completed. */
  push(chunk: string | Uint8Array): ParsedRecord[];
  /** End of input: returns every record still pending (unmatched halves flagged, never dropped). */
  end(): ParsedRecord[];
  /** Counters so far. */
  readonly stats: Readonly<ParseStats>;
}

/**
 * Creates an incremental parser over strace text and Linux audit logs (auto-detected per
 * line unless `options.source` says otherwise), plain or in a `journalctl -o json` export. Memory stays bounded by the longest line
 * (capped at `maxLineLength`) and the readers' own bounded state.
 *
 * @example
 * const parser = createParser();
 * for await (const chunk of process.stdin) for (const r of parser.push(chunk)) handle(r);
 * for (const r of parser.end()) handle(r);
 */
export function createParser(options: ParseOptions = {}): SyscallParser {
  return new RecordParser(resolveParseOptions(options));
}

/** Parses a whole text at once into every record (syscalls, signals, exits, audit events, issues). */
export function parseRecords(text: string, options: ParseOptions = {}): ParsedRecord[] {
  const parser = createParser(options);
  const out = parser.push(text);
  for (const r of parser.end()) out.push(r);
  return out;
}

/**
 * The seed's one-shot form: the syscall events of `text`, in input order (other records
 * dropped).
 */
export function parseSyscallEvents(text: string, options: ParseOptions = {}): SyscallEvent[] {
  const events: SyscallEvent[] = [];
  for (const r of parseRecords(text, options)) if (r.kind === 'syscall') events.push(r);
  return events;
}

/**
 * Parses an async stream of chunks (a file or socket stream, `process.stdin`, a child's
 * stderr), yielding records as they complete. Memory stays flat whatever the input size.
 */
export async function* parseStream(
  source: AsyncIterable<string | Uint8Array>,
  options: ParseOptions = {},
): AsyncGenerator<ParsedRecord, ParseStats, undefined> {
  const parser = createParser(options);
  for await (const chunk of source) yield* parser.push(chunk);
  yield* parser.end();
  return { ...parser.stats };
}

/** Routes each line to the reader of its format and keeps the counters. */
class RecordParser implements SyscallParser {
  readonly stats: ParseStats = {
    lines: 0,
    bytes: 0,
    syscallEvents: 0,
    otherRecords: 0,
    issues: 0,
    truncatedLines: 0,
    unrecognisedLines: 0,
  };
  readonly #splitter: LineSplitter;
  readonly #strace: LineParser | undefined;
  readonly #audit: LineParser | undefined;
  readonly #source: ResolvedParseOptions['source'];
  readonly #journal = new JournalReader();
  #out: ParsedRecord[] = [];
  /** Auto mode: the reader that consumed the last recognised line was the audit one. */
  #lastWasAudit = false;
  readonly #onLine = (line: string, truncated: boolean): void => this.#handleLine(line, truncated);

  constructor(options: ResolvedParseOptions) {
    this.#splitter = new LineSplitter(options.maxLineLength, options.createDecoder);
    this.#source = options.source;
    this.#strace = options.source === 'audit' ? undefined : new StraceParser(options);
    this.#audit = options.source === 'strace' ? undefined : new AuditParser(options);
  }

  push(chunk: string | Uint8Array): ParsedRecord[] {
    this.stats.bytes += chunk.length;
    this.#splitter.push(chunk, this.#onLine);
    return this.#take();
  }

  end(): ParsedRecord[] {
    this.#splitter.end(this.#onLine);
    const out = this.#out;
    const before = out.length;
    this.#strace?.end(out);
    this.#audit?.end(out);
    this.#count(before);
    return this.#take();
  }

  #take(): ParsedRecord[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #handleLine(line: string, truncated: boolean): void {
    const lineNo = ++this.stats.lines;
    const out = this.#out;
    const before = out.length;
    if (truncated) {
      this.stats.truncatedLines++;
      out.push({
        kind: 'issue',
        code: 'line_truncated',
        message: `line ${lineNo} longer than ${line.length} characters: truncated`,
        raw: line.slice(0, 240),
        line: lineNo,
      });
    }
    if (!isBlank(line) && !this.#read(line, lineNo, out, truncated)) this.stats.unrecognisedLines++;
    this.#count(before);
  }

  /** Reads one non-blank line (a journal export line: each line of its MESSAGE); false when nothing in it was recognised. */
  #read(line: string, lineNo: number, out: ParsedRecord[], truncated: boolean): boolean {
    const logged = line.charCodeAt(0) === 123 && !truncated ? this.#journal.read(line) : undefined;
    if (logged === undefined) return this.#dispatch(line, lineNo, out, truncated);
    let any = false;
    for (const text of logged) if (!isBlank(text) && this.#dispatch(text, lineNo, out, false)) any = true;
    return any;
  }

  /** Hands `line` to the reader of its format; false when no reader recognised it. */
  #dispatch(line: string, lineNo: number, out: ParsedRecord[], truncated: boolean): boolean {
    if (this.#source !== 'auto')
      return (
        (this.#strace ?? this.#audit)!.parseLine(line, lineNo, out, truncated) ||
        (this.#audit !== undefined && kernelDroppedAudit(line, lineNo, out))
      );
    // Auto: audit lines go to the audit reader first, so that a strace-looking fragment in an
    // audit value is never read as a syscall; everything else to strace first, so that
    // `syscall=` inside a strace argument is never read as the seed's loose audit form. The
    // `audit(` search is only paid while the input is audit (formats rarely switch), so a
    // strace trace costs one first-character test per line.
    const auditFirst = startsLikeAudit(line) || (this.#lastWasAudit && line.includes('audit('));
    const first = auditFirst ? this.#audit! : this.#strace!;
    const second = auditFirst ? this.#strace! : this.#audit!;
    if (first.parseLine(line, lineNo, out, truncated)) this.#lastWasAudit = auditFirst;
    else if (second.parseLine(line, lineNo, out, truncated)) this.#lastWasAudit = !auditFirst;
    else return kernelDroppedAudit(line, lineNo, out);
    return true;
  }

  #count(from: number): void {
    const out = this.#out;
    for (let i = from; i < out.length; i++) {
      const kind = out[i]!.kind;
      if (kind === 'syscall') this.stats.syscallEvents++;
      else if (kind === 'issue') this.stats.issues++;
      else this.stats.otherRecords++;
    }
  }
}

/**
 * What the kernel prints (dmesg, kern.log, the journal) when it drops audit messages: its
 * backlog or rate limit was exceeded, or printk's own limit suppressed records logged without
 * auditd. Whatever was dropped is not in the input.
 */
const KERNEL_AUDIT_LOSS =
  /\b(?:kauditd_printk_skb: \d+ callbacks suppressed|audit: (?:backlog limit exceeded|rate limit exceeded|printk limit exceeded|kauditd hold queue overflow|audit_lost=[1-9]\d*))/;

/** A kernel line saying audit messages were dropped, as an issue (only lines no reader took: rare, so the search is cheap). */
function kernelDroppedAudit(line: string, lineNo: number, out: ParsedRecord[]): boolean {
  if (!line.includes('audit')) return false;
  const m = KERNEL_AUDIT_LOSS.exec(line);
  if (m === null) return false;
  out.push({
    kind: 'issue',
    code: 'audit_messages_lost',
    message: `line ${lineNo}: the kernel dropped audit messages (${m[0]})`,
    raw: line.length > 240 ? line.slice(0, 240) : line,
    line: lineNo,
  });
  return true;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) return false;
  }
  return true;
}

function startsLikeAudit(line: string): boolean {
  const c = line.charCodeAt(0);
  // 't' (type=), 'n' (node=): cheap first-character checks before the prefix compare.
  return (c === 116 && line.startsWith('type=')) || (c === 110 && line.startsWith('node='));
}
