/**
 * @syscan/core/node: Node-only helpers, kept out of the main entry so that it stays free of
 * `node:` imports and runs anywhere. Nothing here does I/O.
 */
import { isAscii } from 'node:buffer';
import type { Utf8Decoder } from './types.js';

/** A Node Buffer's fast, unvalidated one-byte decode (absent on a plain Uint8Array). */
type Latin1Sliceable = Uint8Array & { latin1Slice(start: number, end: number): string };

/**
 * A streaming UTF-8 decoder for byte chunks that decodes an all-ASCII chunk (the usual case
 * for strace and audit text) with simdutf's `isAscii` check and a one-byte copy, several
 * times faster than `TextDecoder`; any other chunk goes through a real `TextDecoder`, which
 * also carries a sequence split across chunks. Pass it as `createParser({ createDecoder:
 * createFastUtf8Decoder })`.
 */
export function createFastUtf8Decoder(): Utf8Decoder {
  const slow = new TextDecoder('utf-8');
  // True while `slow` may hold the first bytes of a sequence the next chunk completes.
  let carrying = false;
  return {
    decode(input?: Uint8Array, options?: { stream?: boolean }): string {
      if (input === undefined || input.length === 0) {
        if (options?.stream) return '';
        carrying = false;
        return slow.decode();
      }
      if (!carrying && typeof (input as Latin1Sliceable).latin1Slice === 'function' && isAscii(input)) {
        return (input as Latin1Sliceable).latin1Slice(0, input.length);
      }
      const text = slow.decode(input, options);
      carrying = options?.stream === true && endsInsideSequence(input);
      return text;
    },
  };
}

/** True when `bytes` ends with the lead of a UTF-8 sequence whose continuation bytes are still to come. */
function endsInsideSequence(bytes: Uint8Array): boolean {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back;
  }
  return true; // three continuation bytes at the end: the decoder may still be mid-sequence
}
