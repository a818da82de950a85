/**
 * Chunk → line splitter. Chunks may be split anywhere: inside a UTF-8 sequence (the
 * decoder is streaming) or between `\r` and `\n` (a `\r` is only stripped once its `\n`
 * has arrived). Lines follow Rust's `str::lines`, as the seed did: `\n` and `\r\n` end a
 * line, a final line without terminator still counts, a lone `\r` is kept.
 *
 * Memory is bounded by `maxLineLength`: past it the rest of the line is dropped (the line
 * is reported truncated) instead of buffered.
 */
export type LineSink = (line: string, truncated: boolean) => void;

import type { Utf8Decoder } from '../types.js';

export class LineSplitter {
  readonly #maxLineLength: number;
  #decoder: Utf8Decoder | undefined;
  readonly #makeDecoder: () => Utf8Decoder;
  /** Text of the current, unterminated line (at most `maxLineLength` units). */
  #carry = '';
  /** The current line passed the cap: drop what follows until its `\n`. */
  #truncating = false;

  /** `makeDecoder` supplies the byte decoder (a `TextDecoder` unless the caller has a faster one). */
  constructor(maxLineLength: number, makeDecoder: () => Utf8Decoder = () => new TextDecoder('utf-8')) {
    this.#maxLineLength = maxLineLength;
    this.#makeDecoder = makeDecoder;
  }

  /** Splits `chunk` and hands every line it completes to `sink`. */
  push(chunk: string | Uint8Array, sink: LineSink): void {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      this.#decoder ??= this.#makeDecoder();
      text = this.#decoder.decode(chunk, { stream: true });
    }
    if (text.length > 0) this.#split(text, sink);
  }

  /** End of input: flushes the decoder and the last, unterminated line. */
  end(sink: LineSink): void {
    if (this.#decoder) {
      const rest = this.#decoder.decode();
      if (rest.length > 0) this.#split(rest, sink);
    }
    if (this.#carry.length > 0 || this.#truncating) sink(this.#carry, this.#truncating);
    this.#carry = '';
    this.#truncating = false;
  }

  #split(text: string, sink: LineSink): void {
    const max = this.#maxLineLength;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      let line: string;
      if (this.#carry.length > 0 || this.#truncating) {
        line = this.#truncating ? this.#carry : this.#carry + text.slice(start, nl);
      } else {
        line = text.slice(start, nl);
      }
      let truncated = this.#truncating;
      if (line.length > max) {
        line = cutAt(line, max);
        truncated = true;
      } else if (!truncated && line.charCodeAt(line.length - 1) === 13) {
        line = line.slice(0, -1);
      }
      this.#carry = '';
      this.#truncating = false;
      sink(line, truncated);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length && !this.#truncating) {
      const rest = start === 0 ? text : text.slice(start);
      const joined = this.#carry.length > 0 ? this.#carry + rest : rest;
      if (joined.length > max) {
        this.#carry = cutAt(joined, max);
        this.#truncating = true;
      } else {
        // Flatten: a carry built from many small chunks would otherwise be a deep rope.
        this.#carry = joined;
      }
    }
  }
}

/** Cuts `s` to at most `max` UTF-16 units without splitting a surrogate pair. */
export function cutAt(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
