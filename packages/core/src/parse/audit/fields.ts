/**
 * Field access inside one audit record, without splitting it: the reader asks for the few
 * fields it keeps and decodes only those. Kernel records quote a string value only when it
 * holds no space, `"` or control byte (otherwise it is hex), so ` key=` never occurs inside a
 * raw value; userspace `msg='…'` parts and ausearch -i output may hold spaces, which is why
 * the search always anchors on a preceding space or the body start.
 */

/**
 * Index of the value of `key` in `line[from, to)`, or -1. `key` is passed with its `=`
 * (e.g. `'syscall='`).
 */
export function findValue(line: string, keyEq: string, from: number, to: number): number {
  let i = line.indexOf(keyEq, from);
  while (i !== -1 && i < to) {
    const before = i === from ? 32 : line.charCodeAt(i - 1);
    // A space, or `'` of a nested msg='…' part, or the body start.
    if (before === 32 || before === 39 || i === from) return i + keyEq.length;
    i = line.indexOf(keyEq, i + 1);
  }
  return -1;
}

/** End (exclusive) of the value starting at `v`: a quoted value ends after its closing quote. */
export function valueEnd(line: string, v: number, to: number): number {
  const c = line.charCodeAt(v);
  if (c === 34 /* " */ || c === 39 /* ' */) {
    const close = line.indexOf(c === 34 ? '"' : "'", v + 1);
    return close === -1 || close >= to ? to : close + 1;
  }
  let i = v;
  let depth = 0;
  while (i < to) {
    const d = line.charCodeAt(i);
    // ausearch -i writes `exit=EACCES(Permission denied)`: a space inside parentheses stays.
    if (d === 40) depth++;
    else if (d === 41 && depth > 0) depth--;
    else if ((d === 32 || d === 9) && depth === 0) break;
    i++;
  }
  return i;
}

/** Raw text of `key`'s value (quotes kept), or undefined. */
export function rawField(line: string, keyEq: string, from: number, to: number): string | undefined {
  const v = findValue(line, keyEq, from, to);
  if (v === -1) return undefined;
  return line.slice(v, valueEnd(line, v, to));
}

/** A decimal (optionally negative) integer value, or undefined. */
export function intField(line: string, keyEq: string, from: number, to: number): number | undefined {
  const v = findValue(line, keyEq, from, to);
  if (v === -1) return undefined;
  return parseIntAt(line, v, to);
}

/** Parses a decimal integer at `v` (up to the first non-digit); undefined when there is none. */
export function parseIntAt(line: string, v: number, to: number): number | undefined {
  let i = v;
  let neg = false;
  if (line.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  let n = 0;
  const start = i;
  while (i < to) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    i++;
  }
  if (i === start) return undefined;
  return neg ? -n : n;
}

const decoder = new TextDecoder('utf-8');

/** Hex digit values of ASCII codes, -1 for any other. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

function hexVal(c: number): number {
  return c < 128 ? HEX[c]! : -1;
}

/** True when `s` is a non-empty, even-length run of hex digits (audit's encoding of unsafe strings). */
export function isHex(s: string): boolean {
  if (s.length === 0 || (s.length & 1) === 1) return false;
  for (let i = 0; i < s.length; i++) if (hexVal(s.charCodeAt(i)) === -1) return false;
  return true;
}

/** Decodes hex text to bytes. */
export function hexBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = (hexVal(s.charCodeAt(2 * i)) << 4) | hexVal(s.charCodeAt(2 * i + 1));
  }
  return out;
}

/**
 * Scratch bytes of the hex value being decoded, and views of its first n bytes by n. Values
 * are decoded one at a time and the decoder copies, so one buffer serves every value (most
 * proctitles are hex): no allocation per value but its text.
 */
let scratch = new Uint8Array(1024);
let views: Uint8Array[] = [];
/** Views are kept for values up to this many bytes (longer ones are rare). */
const MAX_VIEW = 512;

function view(n: number): Uint8Array {
  if (n > MAX_VIEW) return scratch.subarray(0, n);
  let v = views[n];
  if (v === undefined) {
    v = scratch.subarray(0, n);
    views[n] = v;
  }
  return v;
}

/**
 * Decodes the hex text `line[from, to)` as UTF-8 (invalid bytes become U+FFFD), or returns
 * undefined when it is not a non-empty, even-length run of hex digits. `proctitle`: NUL
 * separators become spaces and trailing NULs are dropped.
 */
function hexText(line: string, from: number, to: number, proctitle: boolean): string | undefined {
  const len = to - from;
  if (len === 0 || (len & 1) === 1) return undefined;
  let n = len >> 1;
  if (scratch.length < n) {
    scratch = new Uint8Array(Math.max(n, scratch.length * 2));
    views = [];
  }
  const bytes = scratch;
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
  return decoder.decode(view(n));
}

/**
 * Decodes an untrusted-string value as the kernel writes it: `"text"` → text, hex → the
 * UTF-8 text of its bytes (invalid bytes become U+FFFD), `(null)`/`(none)` → undefined.
 * `interpreted` (ausearch -i output) values are already text: only quotes are removed.
 */
export function decodeValue(raw: string, interpreted = false): string | undefined {
  return decodeAt(raw, 0, raw.length, interpreted);
}

/** `decodeValue` of the raw value `line[from, to)`, without slicing it out first. */
export function decodeAt(line: string, from: number, to: number, interpreted: boolean): string | undefined {
  const c = line.charCodeAt(from);
  if (c === 34 || c === 39) {
    const end = to - from > 1 && line.charCodeAt(to - 1) === c ? to - 1 : to;
    return line.slice(from + 1, end);
  }
  if (isUnset(line, from, to)) return undefined;
  if (!interpreted && c < 128 && HEX[c]! >= 0) {
    const text = hexText(line, from, to, false);
    if (text !== undefined) return text;
  }
  return from === 0 && to === line.length ? line : line.slice(from, to);
}

/** `(null)`, `(none)` or `?`: a value the kernel had none for. */
function isUnset(line: string, from: number, to: number): boolean {
  const len = to - from;
  if (len === 1) return line.charCodeAt(from) === 63;
  return len === 6 && (line.startsWith('(null)', from) || line.startsWith('(none)', from));
}

/** A decoded `proctitle=` value `line[from, to)`: NUL separators become spaces, trailing NULs dropped. */
export function proctitleAt(
  line: string,
  from: number,
  to: number,
  interpreted: boolean,
): string | undefined {
  const c = line.charCodeAt(from);
  if (!interpreted && c !== 34 && c !== 39) {
    const text = hexText(line, from, to, true);
    if (text !== undefined) return text;
  }
  return decodeAt(line, from, to, interpreted);
}

/**
 * A `proctitle=` value starting at `v` (the record ends at `to`), decoded as
 * `proctitleAt` does. A hex value is decoded in the same pass that finds its end.
 */
export function proctitleValue(
  line: string,
  v: number,
  to: number,
  interpreted: boolean,
): string | undefined {
  if (!interpreted) {
    const text = cachedHexRun(line, v, to);
    if (text !== undefined) return text;
  }
  return proctitleAt(line, v, valueEnd(line, v, to), interpreted);
}

/**
 * Decoded hex proctitles by their raw text. A log repeats a limited set of command lines,
 * and decoding (hex loop + TextDecoder call) costs far more than hashing the key. Bounded:
 * cleared when full, and only short values are kept.
 */
const proctitleCache = new Map<string, string>();
const MAX_CACHED_ENTRIES = 1024;
const MAX_CACHED_HEX = 512;

/**
 * `hexRun` through `proctitleCache`. `hexRun`'s result depends only on `line[v, e)` with `e`
 * the first space at or after `v` (or `to`): it stops at the first non-hex pair, which is at
 * or before that space, and a space after the run is as good as the record end. So that text
 * is a sound key; failed decodes are not cached.
 */
function cachedHexRun(line: string, v: number, to: number): string | undefined {
  let e = line.indexOf(' ', v);
  if (e === -1 || e > to) e = to;
  if (e - v > MAX_CACHED_HEX) return hexRun(line, v, to);
  const key = line.slice(v, e);
  const hit = proctitleCache.get(key);
  if (hit !== undefined) return hit;
  const text = hexRun(line, v, to);
  if (text !== undefined) {
    if (proctitleCache.size >= MAX_CACHED_ENTRIES) proctitleCache.clear();
    // A slice of the line would keep its whole read chunk alive: store a flat copy.
    proctitleCache.set(` ${key}`.slice(1), text);
  }
  return text;
}

/**
 * The hex run at `v` decoded as a proctitle, when it is the whole value: at least one byte,
 * ended by a space, a tab or `to`. Undefined otherwise.
 */
function hexRun(line: string, v: number, to: number): string | undefined {
  let k = v;
  let n = 0;
  for (;;) {
    if (k + 1 >= to) break;
    const a = line.charCodeAt(k);
    const b = line.charCodeAt(k + 1);
    if ((a | b) > 127) break;
    const h = HEX[a]!;
    const l = HEX[b]!;
    if ((h | l) < 0) break;
    if (n === scratch.length) {
      const grown = new Uint8Array(scratch.length * 2);
      grown.set(scratch);
      scratch = grown;
      views = [];
    }
    scratch[n++] = (h << 4) | l;
    k += 2;
  }
  if (n === 0) return undefined;
  if (k < to) {
    const c = line.charCodeAt(k);
    if (c !== 32 && c !== 9) return undefined;
  }
  const bytes = scratch;
  while (n > 0 && bytes[n - 1] === 0) n--;
  for (let i = 0; i < n; i++) if (bytes[i] === 0) bytes[i] = 32;
  return decoder.decode(view(n));
}

/**
 * A plain decimal `line[from, to)` (1–15 digits, so exact as a double) → its value, else -1.
 * Callers fall back to `Number()` on the slice for anything else.
 */
export function digitsAt(line: string, from: number, to: number): number {
  const len = to - from;
  if (len <= 0 || len > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Calls `visit(key, rawValue)` for each `key=value` in `line[from, to)`. Quoted, `'…'`
 * and `{ … }` values are kept whole; words without `=` (e.g. `avc:  denied`) are skipped.
 */
export function forEachField(
  line: string,
  from: number,
  to: number,
  visit: (key: string, raw: string) => void,
): void {
  let i = from;
  while (i < to) {
    while (i < to && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    const start = i;
    while (i < to) {
      const c = line.charCodeAt(i);
      if (c === 61 /* = */ || c === 32 || c === 9) break;
      i++;
    }
    if (i >= to || line.charCodeAt(i) !== 61) {
      // A bare word, or `{ perms }` of an SELinux AVC: skip it whole.
      if (line.charCodeAt(start) === 123) {
        const close = line.indexOf('}', start);
        i = close === -1 || close >= to ? to : close + 1;
      }
      continue;
    }
    const key = line.slice(start, i);
    const v = i + 1;
    let end: number;
    if (line.charCodeAt(v) === 123 /* { */) {
      const close = line.indexOf('}', v);
      end = close === -1 || close >= to ? to : close + 1;
    } else {
      end = valueEnd(line, v, to);
    }
    if (key.length > 0) visit(key, line.slice(v, end));
    i = end;
  }
}
