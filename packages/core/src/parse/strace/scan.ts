/**
 * Character-level scanning of strace text: where the argument list of a syscall line ends,
 * and what follows its `=`. Hand-written charCodeAt loops (no regular expressions) because
 * this runs once per line over hundreds of MB: one forward pass, no backtracking.
 */

import { intern, MAX_INTERNED_LENGTH } from './intern.js';

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const LPAREN = 40;
const RPAREN = 41;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const LT = 60;
const GT = 62;
const SPACE = 32;
const EQUALS = 61;
const SLASH = 47;
const STAR = 42;
const MINUS = 45;

const WORD_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  WORD_CHARS[c] = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 ? 1 : 0;
}

/** True for `[0-9A-Za-z_]` (one table load: this runs for every character of every name). */
export function isWordChar(c: number): boolean {
  return c < 128 && WORD_CHARS[c] === 1;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Index just past the closing quote of the string whose opening `"` is at `at`, or
 * `s.length` when it never closes. indexOf jumps over the bulk of the string natively;
 * a quote preceded by an odd run of backslashes is escaped and skipped.
 */
export function skipString(s: string, at: number): number {
  let q = s.indexOf('"', at + 1);
  while (q !== -1) {
    let k = q - 1;
    while (s.charCodeAt(k) === BACKSLASH) k--;
    if (((q - 1 - k) & 1) === 0) return q + 1;
    q = s.indexOf('"', q + 1);
  }
  return s.length;
}

/**
 * A `-y`/`-yy` decoration starts with `<` glued to an fd or `AT_FDCWD` (`3</etc/passwd>`,
 * `AT_FDCWD</tmp>`, `5<TCP:[1.2.3.4:5->6.7.8.9:80]>`). Paths inside are printed unquoted
 * with `(`, `)` and `"` as they are, so the region is skipped as a whole. `<<` (a shift)
 * and `<=` are operators, not decorations.
 */
export function isDecorationStart(s: string, at: number): boolean {
  if (at === 0 || !isWordChar(s.charCodeAt(at - 1))) return false;
  if (at + 1 >= s.length) return false;
  const next = s.charCodeAt(at + 1);
  return next !== LT && next !== EQUALS;
}

/**
 * Index just past the `>` that closes the decoration opened at `at` (nested `<…>` as in
 * `-yy`'s `</dev/pts/0<char 136:0>>` counted), or `s.length` when it never closes. A `->`
 * inside a socket address (`[a->b]`) is an arrow, not a close; strace escapes `<`/`>` in
 * paths, so any other `>` is structural.
 */
export function skipDecoration(s: string, at: number): number {
  const n = s.length;
  let depth = 0;
  for (let i = at; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
    } else if (c === LT) {
      depth++;
    } else if (c === GT) {
      if (s.charCodeAt(i - 1) === MINUS && i + 1 < n && isArrowTarget(s.charCodeAt(i + 1))) continue;
      if (--depth === 0) return i + 1;
    }
  }
  return n;
}

/** After `->` in a socket decoration comes an address (digit, `[`, hex, letters), never a separator. */
function isArrowTarget(c: number): boolean {
  return c !== GT && c !== SPACE && c !== 44 && c !== RPAREN && c !== RBRACKET;
}

/**
 * Finds the `)` that closes a syscall's argument list starting at `from` (just inside the
 * list), or -1 when there is none (an `<unfinished …>` half, or a broken line).
 *
 * Fast path: strace ends a completed call with `) ` + padding + `= RET`, and its return
 * part never contains ` = `, so the last ` = ` of the line is the candidate; it holds when
 * it follows a `)` and no string of the arguments runs across it (strings are walked quote
 * to quote with indexOf). Anything else goes to
 * {@link scanArgsEnd}, the full quote/bracket-depth scan, which decides on its own.
 */
export function findArgsEnd(s: string, from: number, found?: ReturnParts): number {
  // The last ` = ` at or after `from`, walked back from the end by hand: the return part is
  // short, and `lastIndexOf` is a call into the runtime that costs more than the walk. `e`
  // is the candidate `=`; a character that is neither ` ` nor `=` rules out both candidates
  // whose ` = ` would cover it, so most steps skip one.
  if (found !== undefined) found.equalsAt = -1;
  let e = s.length - 2;
  while (e > from) {
    const c = s.charCodeAt(e);
    if (c === SPACE) {
      e--;
    } else if (c === EQUALS && s.charCodeAt(e - 1) === SPACE && s.charCodeAt(e + 1) === SPACE) {
      break;
    } else {
      e -= 2;
    }
  }
  const eq = e - 1;
  if (eq < from) return scanArgsEnd(s, from);
  let k = eq;
  while (s.charCodeAt(k) === SPACE) k--;
  if (k < from || s.charCodeAt(k) !== RPAREN) return scanArgsEnd(s, from);
  let q = s.indexOf('"', from);
  while (q !== -1 && q < k) {
    const end = skipString(s, q);
    if (end > k) return scanArgsEnd(s, from);
    q = s.indexOf('"', end);
  }
  if (found !== undefined) found.equalsAt = eq + 1;
  return k;
}

/**
 * The full scan behind {@link findArgsEnd}: from `from` at depth 1, the last `)` that
 * brings the depth to 0 and is followed by spaces and `=`. Strings, comments and fd
 * decorations are skipped, so a `) = ` inside `"…"` never counts.
 */
export function scanArgsEnd(s: string, from: number): number {
  const n = s.length;
  let depth = 1;
  let last = -1;
  let i = from;
  while (i < n) {
    const c = s.charCodeAt(i);
    // One table load decides for the bulk of characters (letters, digits, `,`, `|`).
    const k = c < 128 ? CHAR_CLASS[c]! : 0;
    if (k === 0) {
      i++;
      continue;
    }
    if (k === C_QUOTE) {
      i = skipString(s, i);
      continue;
    }
    if (k === C_OPEN) {
      depth++;
    } else if (k === C_CLOSE) {
      if (--depth === 0 && c === RPAREN && isFollowedByEquals(s, i + 1)) last = i;
      if (depth < 0) depth = 0;
    } else if (k === C_LT) {
      if (isDecorationStart(s, i)) {
        i = skipDecoration(s, i);
        continue;
      }
    } else if (s.charCodeAt(i + 1) === STAR) {
      // `/* 39 vars */`, `/* MS_??? */`
      const close = s.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
      continue;
    }
    i++;
  }
  return last;
}

const C_QUOTE = 1;
const C_OPEN = 2;
const C_CLOSE = 3;
const C_LT = 4;
const C_SLASH = 5;
/** Class of each ASCII character for {@link findArgsEnd}; 0 = nothing to do. */
const CHAR_CLASS = new Uint8Array(128);
CHAR_CLASS[QUOTE] = C_QUOTE;
CHAR_CLASS[LPAREN] = C_OPEN;
CHAR_CLASS[LBRACKET] = C_OPEN;
CHAR_CLASS[LBRACE] = C_OPEN;
CHAR_CLASS[RPAREN] = C_CLOSE;
CHAR_CLASS[RBRACKET] = C_CLOSE;
CHAR_CLASS[RBRACE] = C_CLOSE;
CHAR_CLASS[LT] = C_LT;
CHAR_CLASS[SLASH] = C_SLASH;

/** True when `s` at `i` holds zero or more spaces, `=`, then a space or the end. */
function isFollowedByEquals(s: string, i: number): boolean {
  let c = s.charCodeAt(i);
  while (c === SPACE) c = s.charCodeAt(++i);
  if (c !== EQUALS) return false;
  return i + 1 === s.length || s.charCodeAt(i + 1) === SPACE;
}

/**
 * Fallback for lines whose quoting is broken (the traced program's own output interleaved
 * into the line, e.g. `write(2, "\"", 1") = 1`): the last `)` followed by `=` and a
 * plausible return value. Returns -1 when there is none.
 */
export function findArgsEndLoose(s: string, from: number): number {
  let k = s.lastIndexOf(')', s.length - 1);
  while (k >= from) {
    if (isFollowedByEquals(s, k + 1)) {
      let r = s.indexOf('=', k) + 1;
      if (s.charCodeAt(r) === SPACE) r++;
      const c = s.charCodeAt(r);
      if (isDigit(c) || c === MINUS || c === 63 /* ? */) return k;
    }
    k = s.lastIndexOf(')', k - 1);
  }
  return -1;
}

/**
 * What follows the `=` of a complete syscall line. Written into by {@link readReturn}; one
 * object per parser, reused line after line (no allocation per line, no shared state).
 */
export interface ReturnParts {
  ret: string;
  errno: string | undefined;
  durationUs: number | undefined;
  injected: boolean;
  /**
   * Where the fast path of {@link findArgsEnd} saw the `=` of the line being read, or -1:
   * handed to {@link readReturn} so that it need not search again.
   */
  equalsAt: number;
}

/** A fresh {@link ReturnParts}. */
export function returnParts(): ReturnParts {
  return { ret: '', errno: undefined, durationUs: undefined, injected: false, equalsAt: -1 };
}

/**
 * Reads ` = RET[ ERRNO (msg)][ (comment)][ (INJECTED)][ <0.000012>]` after the argument
 * list closed at `close`. `ret` keeps the value without its `-y` decoration
 * (`3</etc/passwd>` → `3`). `errno` only comes from this part of the line.
 */
export function readReturn(s: string, close: number, out: ReturnParts): void {
  const n = s.length;
  // The fast path of findArgsEnd already knows the `=` (it follows `close` and its padding).
  let i = (out.equalsAt > close ? out.equalsAt : s.indexOf('=', close)) + 1;
  out.equalsAt = -1;
  if (s.charCodeAt(i) === SPACE) i++;
  const start = i;
  let end = -1;
  // The value is a short token: walk it rather than pay for native searches.
  // (Never read past the end: an out-of-range charCodeAt makes V8 stop inlining the call.)
  let c = 0;
  while (i < n) {
    c = s.charCodeAt(i);
    if (c === SPACE || c === LT) break;
    i++;
  }
  if (c === LT) {
    // `3</etc/passwd>`, `5<TCP:[…]>`, `-Y`'s `14753<cat>`: the value ends at the `<`; the
    // decoration may hold spaces, so the token ends after it.
    if (isDecorationStart(s, i)) {
      end = i;
      i = skipDecoration(s, i);
    }
    while (i < n && s.charCodeAt(i) !== SPACE) i++;
  }
  out.ret = s.slice(start, end === -1 ? i : end);
  out.errno = undefined;
  out.durationUs = undefined;
  out.injected = false;
  if (i >= n) return;
  // ` ENOENT (No such file or directory)`: an errno name right after the value.
  i++;
  if (s.charCodeAt(i) === 69 /* E */) {
    let j = i + 1;
    let c = s.charCodeAt(j);
    while ((c >= 65 && c <= 90) || isDigit(c) || c === 95) c = s.charCodeAt(++j);
    if (j > i + 1 && (c === SPACE || j === n))
      out.errno = j - i <= MAX_INTERNED_LENGTH ? intern(s, i, j) : s.slice(i, j);
  }
  // `-T` duration: the line ends with ` <SECONDS.FRACTION>`.
  let restEnd = n;
  if (s.charCodeAt(n - 1) === GT && isDigit(s.charCodeAt(n - 2))) {
    const lt = readDurationBackward(s, n - 2, out);
    if (lt >= i && s.charCodeAt(lt - 1) === SPACE) restEnd = lt - 1;
    else out.durationUs = undefined;
  }
  // Fault injection marks the value it made up: `… (Permission denied) (INJECTED)`.
  if (s.charCodeAt(restEnd - 1) === RPAREN && s.startsWith('(INJECTED)', restEnd - 10)) out.injected = true;
}

/**
 * Reads a `-T` duration `<SECONDS.FRACTION>` backwards from its last digit at `last` (one
 * pass: the walk to the `<` is the parse). Returns the index of the `<` and leaves the
 * value in `out.durationUs`, or returns -1 when the text there is no duration.
 */
function readDurationBackward(s: string, last: number, out: ReturnParts): number {
  let i = last;
  let frac = 0;
  let scale = 1;
  let c = s.charCodeAt(i);
  while (isDigit(c)) {
    frac += (c - 48) * scale;
    scale *= 10;
    c = s.charCodeAt(--i);
  }
  if (c !== 46 /* . */ || scale === 1) return -1;
  let whole = 0;
  let unit = 1;
  c = s.charCodeAt(--i);
  while (isDigit(c)) {
    whole += (c - 48) * unit;
    unit *= 10;
    c = s.charCodeAt(--i);
  }
  if (c !== LT || unit === 1) return -1;
  out.durationUs = whole * 1e6 + (frac * 1e6) / scale;
  return i;
}
