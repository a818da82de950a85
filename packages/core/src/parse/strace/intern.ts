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
 * Syscall names (at most MAX_KEYED_NAME word characters) by an exact numeric key the reader
 * builds while it reads the name: no string compare per line (`startsWith` at an offset was
 * the reader's hottest line). Each word character has a code 1..63 (WORD_CODE), five codes
 * pack into one 30-bit number, so `(k0, k1, k2)` are the name itself (no code is 0, so the
 * length is in them too) and an equal key is the same text.
 */
export const MAX_KEYED_NAME = 15;
/** `[0-9A-Za-z_]` → 1..63; 0 for every other ASCII character. */
export const WORD_CODE = new Uint8Array(128);
{
  let code = 1;
  for (const [lo, hi] of [
    [48, 57],
    [65, 90],
    [97, 122],
    [95, 95],
  ] as const) {
    for (let c = lo; c <= hi; c++) WORD_CODE[c] = code++;
  }
}

const NAME_SLOTS = 1024;
const nameKeys = new Int32Array(NAME_SLOTS * 3);
const names: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);

/**
 * `s.slice(from, to)` as its one string object, for a name of at most MAX_KEYED_NAME word
 * characters whose codes packed five by five (`k = k * 64 + WORD_CODE[c]`) are k0 (first
 * five), k1 (next five), k2 (last five; 0 where the name is shorter). The same object as
 * intern() gives (both are V8's internalized copy).
 */
export function internName(s: string, from: number, to: number, k0: number, k1: number, k2: number): string {
  const slot = (Math.imul(k0, 0x9e3779b1) ^ Math.imul(k1, 0x85ebca6b) ^ Math.imul(k2, 0xc2b2ae35)) >>> 22;
  const at = slot * 3;
  const kept = names[slot];
  if (kept !== undefined && nameKeys[at] === k0 && nameKeys[at + 1] === k1 && nameKeys[at + 2] === k2)
    return kept;
  const fresh = internalized(s.slice(from, to));
  names[slot] = fresh;
  nameKeys[at] = k0;
  nameKeys[at + 1] = k1;
  nameKeys[at + 2] = k2;
  return fresh;
}

/**
 * V8's own copy of `text` from its string table (a property key is internalized): it owns
 * its characters (no slice keeping an input chunk alive) and equals the literals of other
 * modules' tables by pointer. Array-index keys (`"3"`) come back as a plain string: fine.
 */
export function internalized(text: string): string {
  const holder: Record<string, number> = { [text]: 0 };
  for (const key in holder) return key;
  return text;
}
