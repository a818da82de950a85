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

/** Hex digit values of ASCII codes, -1 for any other (never written after load). */
export const HEX: Int8Array = hexTable();

function hexTable(): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let c = 0; c < 10; c++) table[48 + c] = c;
  for (let c = 0; c < 6; c++) {
    table[65 + c] = 10 + c;
    table[97 + c] = 10 + c;
  }
  return table;
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

/** `(null)`, `(none)` or `?`: a value the kernel had none for. */
export function isUnset(line: string, from: number, to: number): boolean {
  const len = to - from;
  if (len === 1) return line.charCodeAt(from) === 63;
  if (len !== 6 || line.charCodeAt(from) !== 40 || line.charCodeAt(from + 5) !== 41) return false;
  const a = line.charCodeAt(from + 1);
  const b = line.charCodeAt(from + 2);
  const c = line.charCodeAt(from + 3);
  const d = line.charCodeAt(from + 4);
  // `(null)` or `(none)`, compared code by code (cheaper than `startsWith` on a sliced line).
  return a === 110 && ((b === 117 && c === 108 && d === 108) || (b === 111 && c === 110 && d === 101));
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
