/**
 * EXECVE records: `argc=N a0=… a1_len=N a1[0]=… a1[1]=…`, an argument per `a<N>`, long ones
 * in chunks. Raw values are kept by index as they arrive (several records may share an
 * event) and decoded once the event is complete.
 */
import type { ValueDecoder } from './decoder.js';
import type { PendingEvent } from './event.js';
import { forEachField, isHex } from './fields.js';

/** EXECVE `argc=N a0=… a1_len=N a1[0]=… a1[1]=…`: raw values by argument index. */
export function readExecve(p: PendingEvent, line: string, from: number, to: number): void {
  p.args ??= [];
  const args = p.args;
  forEachField(line, from, to, (key, raw) => {
    if (key.charCodeAt(0) !== 97 /* a */) return;
    let i = 1;
    let n = 0;
    while (i < key.length) {
      const d = key.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    if (i === 1 || n >= 4096) return;
    if (p.argChars + raw.length > 1 << 21) return;
    if (i === key.length) {
      while (args.length <= n) args.push(undefined);
      args[n] = raw;
      p.argChars += raw.length;
    } else if (key.charCodeAt(i) === 91 /* [ */) {
      const chunk = Number(key.slice(i + 1, -1));
      if (!Number.isInteger(chunk) || chunk < 0 || chunk >= 65536) return;
      while (args.length <= n) args.push(undefined);
      let chunks = args[n];
      if (!Array.isArray(chunks)) {
        chunks = [];
        args[n] = chunks;
      }
      while (chunks.length <= chunk) chunks.push('');
      chunks[chunk] = raw;
      p.argChars += raw.length;
    }
    // a<N>_len only announces the chunks.
  });
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
