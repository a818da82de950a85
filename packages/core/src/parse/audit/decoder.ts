/**
 * Decoding of the values the kernel writes for untrusted strings: `"text"`, or hex when the
 * text holds a space, `"` or control byte. One decoder per parser: it owns the scratch bytes
 * of the value being decoded and a small cache of decoded proctitles, so that no parser
 * instance shares either with another.
 */
import { HEX, isUnset, valueEnd } from './fields.js';

/** Views are kept for values up to this many bytes (longer ones are rare). */
const MAX_VIEW = 512;
/** Most proctitles kept decoded, and the longest hex text kept (see `#cachedHexRun`). */
const MAX_CACHED_ENTRIES = 1024;
const MAX_CACHED_HEX = 512;

export class ValueDecoder {
  readonly #utf8 = new TextDecoder('utf-8');
  /**
   * Scratch bytes of the hex value being decoded, and views of its first n bytes by n.
   * Values are decoded one at a time and the text decoder copies, so one buffer serves
   * every value (most proctitles are hex): no allocation per value but its text.
   */
  #scratch = new Uint8Array(1024);
  #views: Uint8Array[] = [];
  /**
   * Decoded hex proctitles by their raw text. A log repeats a limited set of command lines,
   * and decoding (hex loop + TextDecoder call) costs far more than hashing the key.
   * Bounded: cleared when full, and only short values are kept.
   */
  readonly #proctitles = new Map<string, string>();

  /**
   * Decodes an untrusted-string value as the kernel writes it: `"text"` → text, hex → the
   * UTF-8 text of its bytes (invalid bytes become U+FFFD), `(null)`/`(none)` → undefined.
   * `interpreted` (ausearch -i output) values are already text: only quotes are removed.
   */
  decodeValue(raw: string, interpreted = false): string | undefined {
    return this.decodeAt(raw, 0, raw.length, interpreted);
  }

  /** `decodeValue` of the raw value `line[from, to)`, without slicing it out first. */
  decodeAt(line: string, from: number, to: number, interpreted: boolean): string | undefined {
    const c = line.charCodeAt(from);
    if (c === 34 || c === 39) {
      const end = to - from > 1 && line.charCodeAt(to - 1) === c ? to - 1 : to;
      return line.slice(from + 1, end);
    }
    if (isUnset(line, from, to)) return undefined;
    if (!interpreted && c < 128 && HEX[c]! >= 0) {
      const text = this.#hexText(line, from, to, false);
      if (text !== undefined) return text;
    }
    return from === 0 && to === line.length ? line : line.slice(from, to);
  }

  /** UTF-8 text of the bytes of an all-hex string (invalid bytes become U+FFFD). */
  hexUtf8(hex: string): string {
    return this.#hexText(hex, 0, hex.length, false) ?? '';
  }

  /**
   * A `proctitle=` value starting at `v` (the record ends at `to`), decoded: NUL separators
   * become spaces, trailing NULs are dropped. A hex value is decoded in the same pass that
   * finds its end.
   */
  proctitleValue(line: string, v: number, to: number, interpreted: boolean): string | undefined {
    const c = line.charCodeAt(v);
    // Only a value that starts with a hex digit can be a hex run (a quoted one never is).
    if (!interpreted && c < 128 && HEX[c]! >= 0) {
      const text = this.#cachedHexRun(line, v, to);
      if (text !== undefined) return text;
    }
    return this.#proctitleAt(line, v, valueEnd(line, v, to), interpreted);
  }

  /** A decoded `proctitle=` value `line[from, to)`. */
  #proctitleAt(line: string, from: number, to: number, interpreted: boolean): string | undefined {
    const c = line.charCodeAt(from);
    if (!interpreted && c !== 34 && c !== 39) {
      const text = this.#hexText(line, from, to, true);
      if (text !== undefined) return text;
    }
    return this.decodeAt(line, from, to, interpreted);
  }

  #view(n: number): Uint8Array {
    if (n > MAX_VIEW) return this.#scratch.subarray(0, n);
    let v = this.#views[n];
    if (v === undefined) {
      v = this.#scratch.subarray(0, n);
      this.#views[n] = v;
    }
    return v;
  }

  /**
   * Decodes the hex text `line[from, to)` as UTF-8 (invalid bytes become U+FFFD), or returns
   * undefined when it is not a non-empty, even-length run of hex digits. `proctitle`: NUL
   * separators become spaces and trailing NULs are dropped.
   */
  #hexText(line: string, from: number, to: number, proctitle: boolean): string | undefined {
    const len = to - from;
    if (len === 0 || (len & 1) === 1) return undefined;
    let n = len >> 1;
    if (this.#scratch.length < n) {
      this.#scratch = new Uint8Array(Math.max(n, this.#scratch.length * 2));
      this.#views = [];
    }
    const bytes = this.#scratch;
    for (let i = 0, k = from; i < n; i++, k += 2) {
      const a = line.charCodeAt(k);
      const b = line.charCodeAt(k + 1);
      if ((a | b) > 127) return undefined;
      const h = HEX[a]!;
      const l = HEX[b]!;
      if ((h | l) < 0) return undefined;
      bytes[i] = (h << 4) | l;
    }
    if (proctitle) {
      while (n > 0 && bytes[n - 1] === 0) n--;
      for (let i = 0; i < n; i++) if (bytes[i] === 0) bytes[i] = 32;
    }
    return this.#utf8.decode(this.#view(n));
  }

  /**
   * `#hexRun` through the proctitle cache. `#hexRun`'s result depends only on `line[v, e)`
   * with `e` the first space at or after `v` (or `to`): it stops at the first non-hex pair,
   * which is at or before that space, and a space after the run is as good as the record
   * end. So that text is a sound key; failed decodes are not cached.
   */
  #cachedHexRun(line: string, v: number, to: number): string | undefined {
    let e = line.indexOf(' ', v);
    if (e === -1 || e > to) e = to;
    if (e - v > MAX_CACHED_HEX) return this.#hexRun(line, v, to);
    const key = line.slice(v, e);
    const cache = this.#proctitles;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const text = this.#hexRun(line, v, to);
    if (text !== undefined) {
      if (cache.size >= MAX_CACHED_ENTRIES) cache.clear();
      // A slice of the line would keep its whole read chunk alive: store a flat copy.
      cache.set(` ${key}`.slice(1), text);
    }
    return text;
  }

  /**
   * The hex run at `v` decoded as a proctitle, when it is the whole value: at least one
   * byte, ended by a space, a tab or `to`. Undefined otherwise.
   */
  #hexRun(line: string, v: number, to: number): string | undefined {
    let k = v;
    let n = 0;
    let bytes = this.#scratch;
    for (;;) {
      if (k + 1 >= to) break;
      const a = line.charCodeAt(k);
      const b = line.charCodeAt(k + 1);
      if ((a | b) > 127) break;
      const h = HEX[a]!;
      const l = HEX[b]!;
      if ((h | l) < 0) break;
      if (n === bytes.length) {
        const grown = new Uint8Array(bytes.length * 2);
        grown.set(bytes);
        bytes = grown;
        this.#scratch = grown;
        this.#views = [];
      }
      bytes[n++] = (h << 4) | l;
      k += 2;
    }
    if (n === 0) return undefined;
    if (k < to) {
      const c = line.charCodeAt(k);
      if (c !== 32 && c !== 9) return undefined;
    }
    while (n > 0 && bytes[n - 1] === 0) n--;
    for (let i = 0; i < n; i++) if (bytes[i] === 0) bytes[i] = 32;
    return this.#utf8.decode(this.#view(n));
  }
}
