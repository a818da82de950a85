/**
 * One string object per distinct short token (syscall names, errno names, small return
 * values), so that the reader does not make a fresh copy of `openat` for each of millions
 * of lines. Consumers gain too: a reused string keeps its hash, so the Map and Set look-ups
 * of the detector, the rules and the tracker by syscall name stop hashing, and (internalized
 * here) compare by pointer with the names of their tables.
 *
 * A fixed-size table indexed by a hash of the characters; a collision replaces the slot, so
 * memory is bounded (SLOTS strings of at most MAX_INTERNED_LENGTH characters) whatever the
 * input. A pure cache, shared by every reader: whichever slot answers, the text is the same.
 */

const SLOTS = 4096;
/** Longer tokens are sliced as usual (they are rarely repeated: addresses, pointers). */
export const MAX_INTERNED_LENGTH = 64;

const table: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/** `s.slice(from, to)`, as the one string object kept for that text (`to - from` ≤ MAX_INTERNED_LENGTH). */
export function intern(s: string, from: number, to: number): string {
  let h = 0;
  for (let i = from; i < to; i++) h = nextHash(h, s.charCodeAt(i));
  return internHashed(s, from, to, h);
}

/** The hash intern() takes of a text, one character `c` at a time from 0. */
export function nextHash(h: number, c: number): number {
  return (Math.imul(h, 31) + c) | 0;
}

/** intern() of a text whose hash (nextHash over its characters) the caller took already. */
export function internHashed(s: string, from: number, to: number, h: number): string {
  const length = to - from;
  const slot = (h ^ (h >>> 13) ^ length) & (SLOTS - 1);
  const kept = table[slot];
  if (kept !== undefined && kept.length === length && s.startsWith(kept, from)) return kept;
  const fresh = internalized(s.slice(from, to));
  table[slot] = fresh;
  return fresh;
}

/**
 * V8's own copy of `text` from its string table (a property key is internalized): it owns
 * its characters (no slice keeping an input chunk alive) and equals the literals of other
 * modules' tables by pointer. Array-index keys (`"3"`) come back as a plain string: fine.
 */
function internalized(text: string): string {
  const holder: Record<string, number> = { [text]: 0 };
  for (const key in holder) return key;
  return text;
}
