/** Small facts about the text of a syscall line, shared by the strace reader's parts. */
import { syscallNumber } from '../../syscalls/index.js';

export const UNFINISHED = ' <unfinished ...>';
export const DETACHED = ' <detached ...>';

/**
 * The argument text `s[from, close)`, without the marker of `read(3,  <unfinished ...>) = ?`
 * (the process died mid-call): the marker is not an argument. `close - 1` is at least the
 * `(` (never out of range, which would stop V8 inlining charCodeAt).
 */
export function argsBefore(s: string, from: number, close: number): string {
  if (
    s.charCodeAt(close - 1) === 62 &&
    close - from >= UNFINISHED.length &&
    s.startsWith(UNFINISHED, close - UNFINISHED.length)
  ) {
    return s.slice(from, close - UNFINISHED.length);
  }
  return s.slice(from, close);
}

/**
 * Without a prefix only strace prints, `word(` is taken for a syscall line only when the
 * word is a syscall name, so program output such as `usage(1` is not reported as broken.
 */
export function isKnownSyscall(name: string): boolean {
  return syscallNumber(name, 'x86_64') !== undefined || syscallNumber(name, 'aarch64') !== undefined;
}

/** Cheap pre-check for the ` <unfinished ...>` / ` <detached ...>` endings. */
export function endsWithEllipsis(s: string): boolean {
  const n = s.length;
  return s.charCodeAt(n - 1) === 62 && s.charCodeAt(n - 2) === 46;
}
