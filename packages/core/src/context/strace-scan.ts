/**
 * The strace reader's own character scanners (`parse/strace/scan.ts`), shared, plus a fast
 * path for the decorations the tracker walks over on nearly every `-y` event.
 */
import { skipDecoration as skipDecorationScan } from '../parse/strace/scan.js';

export { isDecorationStart, isDigit, skipString } from '../parse/strace/scan.js';

const MINUS = 45;

/**
 * Index just past the `>` closing the decoration opened at `at`. The common
 * `3</usr/lib/libc.so.6>` is closed by its first `>` when no `<` opens a nested one before
 * it and that `>` is no `->` arrow (strace escapes both in paths); anything else goes to
 * the reader's full scan. Both searches are `indexOf` (native, fast over sliced strings):
 * a charCodeAt loop over the decoration was the tracker's hottest line (8 % of a run).
 */
export function skipDecoration(s: string, at: number): number {
  const gt = s.indexOf('>', at + 1);
  if (gt !== -1 && s.charCodeAt(gt - 1) !== MINUS) {
    const lt = s.indexOf('<', at + 1);
    if (lt === -1 || lt > gt) return gt + 1;
  }
  return skipDecorationScan(s, at);
}
