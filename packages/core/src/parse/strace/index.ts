/** The strace reader: `StraceParser` (one per input) and `parseStraceLine` (one line, no state). */
import type { ParsedRecord } from '../../types.js';
import { resolveParseOptions } from '../line-parser.js';
import { StraceParser } from './parser.js';

export { MAX_PENDING_CALLS } from './joiner.js';
export { StraceParser } from './parser.js';

/**
 * Reads one strace line on its own, without a parser's state: a syscall line gives its
 * event, an `<unfinished …>` half a flagged event, a `<… resumed>` half a `resumedOnly`
 * event. Undefined when the line is not strace output or carries no record (`-k` frames).
 */
export function parseStraceLine(line: string): ParsedRecord | undefined {
  const parser = new StraceParser(resolveParseOptions({ source: 'strace' }));
  const out: ParsedRecord[] = [];
  parser.parseLine(line, 1, out);
  parser.end(out);
  return out[0];
}
