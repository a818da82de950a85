import type { ParsedRecord, ParseOptions, Utf8Decoder } from '../types.js';

/** Parse options with every default filled in. */
export interface ResolvedParseOptions {
  source: 'auto' | 'strace' | 'audit';
  deniedErrnos: ReadonlySet<string>;
  maxLineLength: number;
  auditFields: boolean;
  createDecoder: (() => Utf8Decoder) | undefined;
  stracePid: number | undefined;
}

export const DEFAULT_DENIED_ERRNOS: readonly string[] = ['EACCES', 'EPERM'];
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

export function resolveParseOptions(options: ParseOptions = {}): ResolvedParseOptions {
  return {
    source: options.source ?? 'auto',
    deniedErrnos: new Set(options.deniedErrnos ?? DEFAULT_DENIED_ERRNOS),
    maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
    auditFields: options.auditFields ?? false,
    createDecoder: options.createDecoder,
    stracePid: options.stracePid,
  };
}

/**
 * One format's reader. The dispatcher (parse/index.ts) hands it complete lines, without
 * their terminator, in input order; a reader may hold state across lines (strace
 * `<unfinished …>` halves, audit records waiting for the rest of their serial) and must
 * keep that state bounded.
 */
export interface LineParser {
  /**
   * Reads one line and appends whatever it completes to `out` (possibly records of earlier
   * lines). Returns false, appending nothing, when the line is not in this reader's format.
   * `truncated`: the line was cut at `maxLineLength` (only its head is here).
   */
  parseLine(line: string, lineNo: number, out: ParsedRecord[], truncated?: boolean): boolean;
  /** End of input: appends every record still pending (unmatched halves flagged, never dropped). */
  end(out: ParsedRecord[]): void;
}
