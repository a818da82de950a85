/**
 * The few character scanners the context tracker shares with the strace reader's own
 * (`parse/strace/scan.ts`), kept here so that the tracker does not depend on the reader's
 * internal layout. Same rules: strings end at an unescaped `"`; a `-y` decoration is `<…>`
 * glued to an fd or `AT_FDCWD`, with `->` inside socket addresses not closing it.
 */

const BACKSLASH = 92;
const LT = 60;
const GT = 62;
const MINUS = 45;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95;
}

/** Index just past the closing quote of the string opened at `at`, or `s.length`. */
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

/** `<` at `at` opens a decoration (glued to a word; `<<` and `<=` are operators). */
export function isDecorationStart(s: string, at: number): boolean {
  if (at === 0 || !isWordChar(s.charCodeAt(at - 1))) return false;
  if (at + 1 >= s.length) return false;
  const next = s.charCodeAt(at + 1);
  return next !== LT && next !== 61;
}

/** Index just past the `>` closing the decoration opened at `at` (nesting counted), or `s.length`. */
export function skipDecoration(s: string, at: number): number {
  // Fast path, the common `3</usr/lib/libc.so.6>`: the first `>` closes it when no `<`
  // opens a nested one before it and it is not an arrow (strace escapes both in paths).
  const gt = s.indexOf('>', at + 1);
  if (gt !== -1 && s.charCodeAt(gt - 1) !== MINUS && !hasLt(s, at + 1, gt)) return gt + 1;
  const n = s.length;
  let depth = 0;
  for (let i = at; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
    } else if (c === LT) {
      depth++;
    } else if (c === GT) {
      // `a->b` inside `TCP:[…]` is an arrow, not a close.
      if (s.charCodeAt(i - 1) === MINUS && i + 1 < n && isArrowTarget(s.charCodeAt(i + 1))) continue;
      if (--depth === 0) return i + 1;
    }
  }
  return n;
}

/** A `<` in `s[from, to)` (a hand loop: `lastIndexOf` with a position is a slow runtime call). */
function hasLt(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === LT) return true;
  return false;
}

function isArrowTarget(c: number): boolean {
  return c !== GT && c !== 32 && c !== 44 && c !== 41 && c !== 93;
}
