/**
 * The strace reader's own character scanners (`parse/strace/scan.ts`), shared, plus a fast
 * path for the decorations the tracker walks over on nearly every `-y` event.
 */
import { skipDecoration as skipDecorationScan } from '../parse/strace/scan.js';

export { isDecorationStart, isDigit, skipString } from '../parse/strace/scan.js';

const LT = 60;
const MINUS = 45;

/**
 * Index just past the `>` closing the decoration opened at `at`. The common
 * `3</usr/lib/libc.so.6>` is closed by its first `>` when no `<` opens a nested one before
 * it and that `>` is no `->` arrow (strace escapes both in paths); anything else goes to the
 * reader's full scan.
 */
export function skipDecoration(s: string, at: number): number {
  const gt = s.indexOf('>', at + 1);
  if (gt !== -1 && s.charCodeAt(gt - 1) !== MINUS && !hasLt(s, at + 1, gt)) return gt + 1;
  return skipDecorationScan(s, at);
}

/** A `<` in `s[from, to)` (a hand loop: `lastIndexOf` with a position is a slow runtime call). */
function hasLt(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === LT) return true;
  return false;
}
