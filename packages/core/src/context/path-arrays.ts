/**
 * Path arguments the tracker has read before, by their quoted text (and, for a relative
 * one, the directory it was resolved against): a trace names the same files over and over
 * (`openat`, `newfstatat`, `statx` of one file, `"."` and `"repo"` against one cwd), and
 * every call to one file can share one `[path]` array instead of decoding, resolving,
 * normalising and allocating it again. Only text that needs no decoding is kept (no
 * escapes, not cut by `-s`, within the path cap), so a hit is exactly what readCString and
 * resolvePath give.
 *
 * The closing quote is found natively, a hash is taken from the length and the characters
 * (no slice when the bucket is empty), and only then the text is cut out once and compared
 * with the bucket's entries by `===`, a native compare of the characters (`startsWith` at
 * the offset, which needs no slice, measured 2-4x slower and was the tracker's top line).
 */
import { normalizePath, resolvePath } from './paths.js';
import { skipString } from './strace-scan.js';

const QUOTE = 34;
const SLASH = 47;
const DOT = 46;

/** Paths kept in all (about 2 MB); past it the cache starts again (bounded, no LRU upkeep). */
const MAX_PATHS = 16_384;
/** Most buckets of the hash table (a power of two, twice MAX_PATHS: short chains). */
const BUCKETS = 32_768;
/**
 * Buckets a new cache starts with; the table doubles while it holds more paths than half
 * its buckets. A guard makes a tracker per response (a few hundred paths at most): a full
 * table up front was a 256 KB array filled per request, more than the rest of the tracker.
 */
const FIRST_BUCKETS = 256;

/** Longest bucket chain: a look-up compares at most this many texts, whatever the input. */
const MAX_CHAIN = 8;

/** One cached path: its argument text, the base it was resolved against, the shared array. */
interface Entry {
  readonly text: string;
  /** The directory a relative text was resolved against; undefined for an absolute one. */
  readonly base: string | undefined;
  readonly paths: readonly string[];
  readonly next: Entry | undefined;
}

export class PathArrays {
  #buckets: (Entry | undefined)[] = new Array<Entry | undefined>(FIRST_BUCKETS).fill(undefined);
  /** 32 minus log2 of the bucket count: the hash's top bits pick the bucket. */
  #shift = 32 - Math.log2(FIRST_BUCKETS);
  #size = 0;
  readonly #maxLength: number;
  /** The base last kept, and its own copy (entries of one cwd share one string). */
  #lastBase: string | undefined;
  #lastBaseCopy: string | undefined;

  constructor(maxPathLength: number) {
    this.#maxLength = maxPathLength;
  }

  /**
   * `[resolvePath(base, text)]` for the string argument at `args[at]` when it is a
   * non-empty path printed whole (a relative one needs a known `base`); undefined when it
   * is anything else (the caller reads it the long way). The array is shared: callers
   * must not change it.
   */
  lookup(args: string, at: number, base: string | undefined): readonly string[] | undefined {
    if (args.charCodeAt(at) !== QUOTE) return undefined;
    const first = args.charCodeAt(at + 1);
    if (first === QUOTE) return undefined;
    const absolute = first === SLASH;
    if (!absolute && (base === undefined || base.length === 0)) return undefined;
    const from = at + 1;
    // The first `"` closes the string unless the text holds a backslash; a kept text never
    // does, so a match of a kept text up to this quote is the whole string.
    const quote = args.indexOf('"', from);
    if (quote !== -1 && args.charCodeAt(quote + 1) !== DOT) {
      const length = quote - from;
      const key = absolute ? undefined : base;
      let e = this.#buckets[hashOf(args, from, length, key) >>> this.#shift];
      if (e !== undefined) {
        // One slice compared with `===` (a native compare of the characters): measured 3-4x
        // faster than `startsWith` at an offset of the same text, the tracker's hottest line.
        const text = args.slice(from, quote);
        for (; e !== undefined; e = e.next) if (e.text === text && e.base === key) return e.paths;
      }
    }
    return this.#miss(args, at, absolute ? undefined : base);
  }

  /** Reads and keeps a text not seen before (or says it cannot be kept). */
  #miss(args: string, at: number, base: string | undefined): readonly string[] | undefined {
    const end = skipString(args, at);
    // `"…"...` was cut by -s; an unclosed string ends the text without its quote.
    if (args.charCodeAt(end) === DOT || args.charCodeAt(end - 1) !== QUOTE || end - 2 <= at) return undefined;
    const from = at + 1;
    const length = end - 1 - from;
    if (length > this.#maxLength) return undefined;
    const backslash = args.indexOf('\\', from);
    if (backslash !== -1 && backslash < end - 1) return undefined;
    // Copies of their own: a slice would keep the reader's whole input chunk alive.
    const text = ownCopy(args.slice(from, end - 1));
    const path = base === undefined ? normalizePath(text) : resolvePath(base, text);
    if (path === '') return undefined;
    if (this.#size >= MAX_PATHS) {
      this.#buckets.fill(undefined);
      this.#size = 0;
    }
    const paths = [path];
    if (this.#size >= this.#buckets.length >> 1 && this.#buckets.length < BUCKETS) this.#grow();
    const slot = hashOf(args, from, length, base) >>> this.#shift;
    let next = this.#buckets[slot];
    let chain = 0;
    for (let e = next; e !== undefined; e = e.next) chain++;
    if (chain >= MAX_CHAIN) {
      // Texts made to share a bucket: start the bucket again, so that no look-up walks far.
      this.#size -= chain;
      next = undefined;
    }
    this.#buckets[slot] = {
      text,
      base: base === undefined ? undefined : this.#baseCopy(base),
      paths,
      next,
    };
    this.#size++;
    return paths;
  }

  /** Twice the buckets, the kept entries spread over them (same texts, same arrays). */
  #grow(): void {
    const old = this.#buckets;
    this.#buckets = new Array<Entry | undefined>(old.length * 2).fill(undefined);
    this.#shift--;
    for (const first of old) {
      for (let e = first; e !== undefined; e = e.next) {
        const slot = hashOf(e.text, 0, e.text.length, e.base) >>> this.#shift;
        this.#buckets[slot] = { text: e.text, base: e.base, paths: e.paths, next: this.#buckets[slot] };
      }
    }
  }

  #baseCopy(base: string): string {
    if (base !== this.#lastBase) {
      this.#lastBase = base;
      this.#lastBaseCopy = ownCopy(base);
    }
    return this.#lastBaseCopy!;
  }
}

/**
 * Hash of the `length` characters at `args[from]` resolved against `base`: every
 * character of the text counts (sampling a few put `n1.txt` … `n53.txt` of one directory
 * in one chain), and the base's length and last characters (`find` opens one `"include"`
 * against hundreds of directories, which differ at their ends).
 */
function hashOf(args: string, from: number, length: number, base: string | undefined): number {
  let h = length;
  for (let i = from + length - 1; i >= from; i--) h = (Math.imul(h, 31) + args.charCodeAt(i)) | 0;
  if (base !== undefined) {
    const n = base.length;
    h = (Math.imul(h, 31) + n) | 0;
    for (let i = n - 1, stop = n > BASE_CHARS ? n - BASE_CHARS : 0; i >= stop; i--)
      h = (Math.imul(h, 31) + base.charCodeAt(i)) | 0;
  }
  h ^= h >>> 15;
  // Unsigned, so that its top bits (`>>> shift`) pick a bucket of any power-of-two table.
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

/** Characters at the end of a base that go into its bucket. */
const BASE_CHARS = 16;

/** The same text in a string of its own (not a slice of a larger one). */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1);
}
