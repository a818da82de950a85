/**
 * Reading single arguments out of a strace argument list (`SyscallEvent.args`) without
 * splitting the whole list: the tracker needs one or two arguments of a call, so it walks
 * to the N-th top-level argument (strings, brackets, `-y` decorations and comments jumped
 * over as units) and reads only that. charCodeAt loops, no regular expressions, and the
 * results of the small readers go through module-level fields, not returned objects, so
 * the per-event path allocates nothing it does not keep.
 */
import { isDecorationStart, isDigit, skipDecoration, skipString } from './strace-scan.js';

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const SPACE = 32;
const LT = 60;
const SLASH = 47;
const STAR = 42;
const DOT = 46;
const MINUS = 45;

/** `AT_FDCWD` as a dirfd number (its value on Linux). */
export const AT_FDCWD = -100;

/**
 * Index of the first character of the top-level argument `n` (0-based) of `args`, or -1
 * when the list has fewer. `from`/`nFrom` let a caller continue from an argument it already
 * found (argument `nFrom` starts at `from`).
 */
export function argAt(args: string, n: number, from = 0, nFrom = 0): number {
  let i = from;
  const len = args.length;
  let index = nFrom;
  while (i < len && args.charCodeAt(i) === SPACE) i++;
  if (index === n) return i < len ? i : -1;
  let depth = 0;
  while (i < len) {
    const c = args.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(args, i);
      continue;
    }
    if (c === LT && isDecorationStart(args, i)) {
      i = skipDecoration(args, i);
      continue;
    }
    if (c === SLASH && args.charCodeAt(i + 1) === STAR) {
      const close = args.indexOf('*/', i + 2);
      i = close === -1 ? len : close + 2;
      continue;
    }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if ((c === 41 || c === 93 || c === 125) && depth > 0) depth--;
    else if (c === COMMA && depth === 0) {
      i++;
      while (i < len && args.charCodeAt(i) === SPACE) i++;
      if (++index === n) return i < len ? i : -1;
      continue;
    }
    i++;
  }
  return -1;
}

/** End (exclusive) of the argument starting at `at`: the next top-level `,` or the end. */
export function argEnd(args: string, at: number): number {
  const next = argAt(args, 1, at, 0);
  if (next === -1) return args.length;
  let e = next - 1;
  while (e > at && (args.charCodeAt(e) === SPACE || args.charCodeAt(e) === COMMA)) e--;
  return e + 1;
}

/**
 * Index of `needle` in `args[from, to)` outside strings and decorations, or -1. Used for
 * keys inside structures (`flags=`, `msg_name=`) where the program's own data could carry
 * the same text inside a string.
 */
export function findOutsideStrings(args: string, needle: string, from: number, to: number): number {
  const first = needle.charCodeAt(0);
  let i = from;
  while (i < to) {
    const c = args.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(args, i);
      continue;
    }
    if (c === LT && isDecorationStart(args, i)) {
      i = skipDecoration(args, i);
      continue;
    }
    if (c === first && args.startsWith(needle, i)) return i;
    i++;
  }
  return -1;
}

// Results of the readers below (read right after the call).
/** Index just past what the last reader consumed. */
export let readEnd = 0;
/** The last string read was cut by `-s` (`"…"...`), or the last array by strace's limit. */
export let readTruncated = false;
/** The last array read: indices of the entries strace cut at `-s` (undefined: none was). */
export let readCutEntries: number[] | undefined;
/** Start and end (exclusive) of the `<…>` text inside the last fd's decoration, or -1. */
export let decorStart = -1;
export let decorEnd = -1;

const utf8 = new TextDecoder('utf-8');

/**
 * The C-escaped string whose opening quote is at `at`, decoded (`\n`, `\"`, octal `\303`,
 * `-x` hex `\xc3` as bytes, UTF-8 decoded), at most `maxLength` characters; undefined when
 * `at` is not a string (`NULL`, an address). Sets readEnd and readTruncated.
 */
export function readCString(args: string, at: number, maxLength: number): string | undefined {
  readTruncated = false;
  if (args.charCodeAt(at) !== QUOTE) {
    readEnd = at;
    return undefined;
  }
  const end = skipString(args, at);
  readEnd = end;
  if (args.charCodeAt(end) === DOT && args.startsWith('...', end)) {
    readTruncated = true;
    readEnd = end + 3;
  }
  const close = end - 1;
  const bs = args.indexOf('\\', at + 1);
  let value: string;
  if (bs === -1 || bs >= close) value = args.slice(at + 1, close);
  else value = unescapeC(args, at + 1, close);
  if (value.length > maxLength) {
    readTruncated = true;
    return value.slice(0, maxLength);
  }
  return value;
}

/** Decodes strace's C escapes in `s[from, to)`; escaped bytes go through UTF-8 together. */
function unescapeC(s: string, from: number, to: number): string {
  let out = '';
  let bytes: number[] | undefined;
  const flush = (): void => {
    if (bytes !== undefined && bytes.length > 0) {
      out += utf8.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    }
  };
  for (let i = from; i < to; i++) {
    if (s.charCodeAt(i) !== BACKSLASH) {
      flush();
      out += s[i];
      continue;
    }
    bytes ??= [];
    bytes.push(escapedByte(s, i));
    i = escapeEnd;
  }
  flush();
  return out;
}

/**
 * The bytes of the C-escaped string whose opening quote is at `at` (`"\xa9\xfe"`, as `-X raw`
 * prints a struct's address bytes), undefined when `at` is not a string or it holds more
 * than `maxBytes`.
 */
export function readCBytes(args: string, at: number, maxBytes: number): number[] | undefined {
  if (args.charCodeAt(at) !== QUOTE) return undefined;
  const close = skipString(args, at) - 1;
  const bytes: number[] = [];
  for (let i = at + 1; i < close; i++) {
    if (bytes.length === maxBytes) return undefined;
    if (args.charCodeAt(i) !== BACKSLASH) bytes.push(args.charCodeAt(i) & 0xff);
    else {
      bytes.push(escapedByte(args, i));
      i = escapeEnd;
    }
  }
  return bytes;
}

/** Where the escape {@link escapedByte} last read ends (its last character). */
let escapeEnd = 0;

/** The byte of the C escape whose backslash is at `i` (octal, `\x` hex, or a letter); sets escapeEnd. */
function escapedByte(s: string, i: number): number {
  const e = s.charCodeAt(++i);
  let byte: number;
  if (e >= 48 && e <= 55) {
    // Octal: up to three digits.
    byte = e - 48;
    for (let k = 0; k < 2 && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 55; k++) {
      byte = byte * 8 + (s.charCodeAt(++i) - 48);
    }
  } else if (e === 120 /* x */ && isHexDigit(s.charCodeAt(i + 1))) {
    byte = hexValue(s.charCodeAt(++i));
    if (isHexDigit(s.charCodeAt(i + 1))) byte = byte * 16 + hexValue(s.charCodeAt(++i));
  } else {
    byte = SIMPLE_ESCAPES[e] ?? e;
  }
  escapeEnd = i;
  return byte & 0xff;
}

const SIMPLE_ESCAPES: Record<number, number> = {
  110: 10, // \n
  116: 9, // \t
  114: 13, // \r
  118: 11, // \v
  102: 12, // \f
  97: 7, // \a
  98: 8, // \b
  101: 27, // \e
};

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * A `["a", "b"...]` string array at `at` (execve's argv), at most `maxCount` entries of
 * `maxLength` characters; undefined when `at` is not an array. readTruncated says an entry
 * was cut, strace elided entries (`...` as the last element), or a cap was hit;
 * readCutEntries which entries were cut.
 */
export function readStringArray(
  args: string,
  at: number,
  maxCount: number,
  maxLength: number,
): string[] | undefined {
  readCutEntries = undefined;
  if (args.charCodeAt(at) !== 91 /* [ */) {
    readEnd = at;
    readTruncated = false;
    return undefined;
  }
  const out: string[] = [];
  let cut: number[] | undefined;
  let truncated = false;
  let i = at + 1;
  const len = args.length;
  while (i < len) {
    const c = args.charCodeAt(i);
    if (c === 93 /* ] */) {
      i++;
      break;
    }
    if (c === QUOTE) {
      const value = readCString(args, i, maxLength);
      if (readTruncated) truncated = true;
      if (out.length < maxCount) {
        if (readTruncated) {
          cut ??= [];
          cut.push(out.length);
        }
        out.push(value ?? '');
      } else truncated = true;
      i = readEnd;
      continue;
    }
    // `...` (strace's own elision of further entries), separators.
    if (c === DOT) truncated = true;
    i++;
  }
  readEnd = i;
  readTruncated = truncated;
  readCutEntries = cut;
  return out;
}

/**
 * The fd number at `at` (`3`, `3</etc/passwd>`, `AT_FDCWD`, `AT_FDCWD</tmp>`, `-1`), or
 * undefined when the argument is not one. Sets decorStart/decorEnd to the decoration's
 * inside (-1 without one) and readEnd.
 */
export function readFd(args: string, at: number): number | undefined {
  // The same fd argument is read by several steps of one call (its paths, its fds, its
  // effect): the last answer is kept. A pure function of (args text, at), so a hit is right
  // whichever string object holds that text.
  if (at === memoAt && args === memoArgs) {
    decorStart = memoDecorStart;
    decorEnd = memoDecorEnd;
    readEnd = memoReadEnd;
    return memoFd;
  }
  const fd = scanFd(args, at);
  memoArgs = args;
  memoAt = at;
  memoFd = fd;
  memoDecorStart = decorStart;
  memoDecorEnd = decorEnd;
  memoReadEnd = readEnd;
  return fd;
}

let memoArgs: string | undefined;
let memoAt = -1;
let memoFd: number | undefined;
let memoDecorStart = -1;
let memoDecorEnd = -1;
let memoReadEnd = 0;

/** Forgets readFd's last answer (a new event: its args never equal the last by identity). */
export function forgetReadFd(): void {
  memoArgs = undefined;
  memoAt = -1;
}

function scanFd(args: string, at: number): number | undefined {
  decorStart = -1;
  decorEnd = -1;
  let i = at;
  let fd: number;
  const c0 = args.charCodeAt(i);
  if (c0 === 65 /* A */ && args.startsWith('AT_FDCWD', i)) {
    fd = AT_FDCWD;
    i += 8;
  } else {
    const negative = c0 === MINUS;
    if (negative) i++;
    const start = i;
    fd = 0;
    for (let c = args.charCodeAt(i); isDigit(c); c = args.charCodeAt(++i)) fd = fd * 10 + (c - 48);
    if (i === start || i - start > 10) {
      readEnd = at;
      return undefined;
    }
    if (negative) fd = -fd;
  }
  if (args.charCodeAt(i) === LT) {
    const close = skipDecoration(args, i);
    decorStart = i + 1;
    decorEnd = close - 1;
    i = close;
  }
  readEnd = i;
  return fd;
}

/** A decimal (or `-1`) integer argument at `at`, or undefined (symbolic, hex, pointer). */
export function readInt(args: string, at: number): number | undefined {
  let i = at;
  const negative = args.charCodeAt(i) === MINUS;
  if (negative) i++;
  const start = i;
  let v = 0;
  for (let c = args.charCodeAt(i); isDigit(c); c = args.charCodeAt(++i)) v = v * 10 + (c - 48);
  if (i === start || i - start > 15) return undefined;
  const next = args.charCodeAt(i);
  // `0x…` or `123abc` are not plain decimals.
  if (next === 120 || (next >= 97 && next <= 122)) return undefined;
  readEnd = i;
  return negative ? -v : v;
}

/**
 * A `-y` path decoration's text, unescaped (strace escapes `<`, `>` and non-printable
 * bytes in it as octal). Socket decorations (`TCP:[…]`) are returned as they are.
 */
export function decorationText(args: string, start: number, end: number): string {
  const bs = args.indexOf('\\', start);
  if (bs === -1 || bs >= end) return args.slice(start, end);
  return unescapeC(args, start, end);
}
