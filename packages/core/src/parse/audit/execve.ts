/**
 * EXECVE records: `argc=N a0=… a1_len=N a1[0]=… a1[1]=…`, an argument per `a<N>`, long ones
 * in chunks. Raw values are kept by index as they arrive (several records may share an
 * event) and decoded once the event is complete.
 */
import type { ValueDecoder } from './decoder.js';
import { MAX_ARG_CHARS, MAX_ARGS, type PendingEvent } from './event.js';
import { forEachField, isHex } from './fields.js';

/**
 * How far past the arguments (or chunks) seen so far an index may point. The kernel writes
 * them in order, so a real record never skips one; a far index (`a1[65535]=`) would make
 * the reader fill every slot before it, which a hostile line could repeat at will.
 */
const MAX_INDEX_GAP = 16;

/**
 * EXECVE `argc=N a0=… a1_len=N a1[0]=… a1[1]=…`: raw values by argument index. Returns how
 * many slots it added (the work it did beyond the scan). An index further than
 * MAX_INDEX_GAP past the last one seen is skipped and counted in `p.skippedArgs`.
 */
export function readExecve(p: PendingEvent, line: string, from: number, to: number): number {
  p.args ??= [];
  const args = p.args;
  let slots = 0;
  forEachField(line, from, to, (key, raw) => {
    if (key.charCodeAt(0) !== 97 /* a */) return;
    if (key === 'argc') {
      // How many arguments the kernel says there are: fewer arriving means records were lost.
      const argc = Number(raw);
      if (Number.isInteger(argc) && argc >= 0) p.argc = argc;
      return;
    }
    let i = 1;
    let n = 0;
    while (i < key.length) {
      const d = key.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    if (i === 1 || n >= MAX_ARGS) return;
    const chunked = i < key.length;
    if (chunked && key.charCodeAt(i) !== 91 /* [ */) return; // a<N>_len only announces the chunks.
    if (p.argChars + raw.length > MAX_ARG_CHARS || n > args.length + MAX_INDEX_GAP) {
      p.skippedArgs++;
      return;
    }
    let chunk = -1;
    if (chunked) {
      chunk = Number(key.slice(i + 1, -1));
      if (!Number.isInteger(chunk) || chunk < 0) return;
      const seen = args[n];
      if (chunk > (Array.isArray(seen) ? seen.length : 0) + MAX_INDEX_GAP) {
        p.skippedArgs++;
        return;
      }
    }
    const before = args.length;
    while (args.length <= n) args.push(undefined);
    let added = args.length - before;
    if (chunk < 0) {
      args[n] = raw;
    } else {
      let chunks = args[n];
      if (!Array.isArray(chunks)) {
        chunks = [];
        args[n] = chunks;
      }
      const had = chunks.length;
      while (chunks.length <= chunk) chunks.push('');
      chunks[chunk] = raw;
      added += chunks.length - had;
    }
    // Every slot counts against the event's cap like a character of argument text.
    p.argChars += raw.length + added;
    slots += added;
  });
  return slots;
}

/** The argv of an event: each a<N> decoded, a<N>[i] chunks joined (then decoded). */
export function decodeArgs(
  args: Array<string | string[] | undefined>,
  interpreted: boolean,
  decoder: ValueDecoder,
): string[] {
  const argv: string[] = [];
  for (const a of args) {
    if (a === undefined) argv.push('');
    else if (typeof a === 'string') argv.push(decoder.decodeValue(a, interpreted) ?? '');
    else {
      // a<N>[i] chunks: all hex (the argument needed encoding) or all quoted.
      const joined = a.join('');
      if (!interpreted && isHex(joined) && !a.some((c) => c.charCodeAt(0) === 34)) {
        argv.push(decoder.hexUtf8(joined));
      } else {
        argv.push(a.map((chunk) => decoder.decodeValue(chunk, interpreted) ?? '').join(''));
      }
    }
  }
  return argv;
}
