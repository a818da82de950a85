/**
 * Path arguments the tracker has read before, by their quoted text (and, for a relative
 * one, the directory it was resolved against): a trace names the same files over and over
 * (`openat`, `newfstatat`, `statx` of one file, `"."` and `"repo"` against one cwd), and
 * every call to one file can share one `[path]` array instead of decoding, resolving,
 * normalising and allocating it again. Only text that needs no decoding is kept (no
 * escapes, not cut by `-s`, within the path cap), so a hit is exactly what readCString and
 * resolvePath give.
 */
import { normalizePath, resolvePath } from './paths.js';
import { skipString } from './strace-scan.js';

const QUOTE = 34;
const SLASH = 47;
const DOT = 46;

/** Paths kept in all (about 2 MB); past it the cache starts again (bounded, no LRU upkeep). */
const MAX_PATHS = 16_384;

type ByText = Map<string, readonly string[]>;

export class PathArrays {
  /** Absolute paths by text. */
  #absolute: ByText = new Map();
  /** Relative ones by the directory they resolve against (the cwd's or a dirfd's string), then by text. */
  #relative = new Map<string, ByText>();
  #size = 0;
  readonly #maxLength: number;

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
    const end = skipString(args, at);
    // `"…"...` was cut by -s; an unclosed string ends the text without its quote.
    if (args.charCodeAt(end) === DOT || args.charCodeAt(end - 1) !== QUOTE || end - 2 <= at) return undefined;
    const text = args.slice(at + 1, end - 1);
    const byText = absolute ? this.#absolute : this.#relative.get(base!);
    const hit = byText?.get(text);
    if (hit !== undefined) return hit;
    if (text.length > this.#maxLength || text.indexOf('\\') !== -1) return undefined;
    // Copies of their own: a slice would keep the reader's whole input chunk alive.
    const key = ownCopy(text);
    const path = absolute ? normalizePath(key) : resolvePath(base, key);
    if (path === '') return undefined;
    if (this.#size >= MAX_PATHS) {
      this.#absolute = new Map();
      this.#relative.clear();
      this.#size = 0;
    }
    let map = absolute ? this.#absolute : this.#relative.get(base!);
    if (map === undefined) {
      map = new Map();
      this.#relative.set(ownCopy(base!), map);
    }
    const paths = [path];
    map.set(key, paths);
    this.#size++;
    return paths;
  }
}

/** The same text in a string of its own (not a slice of a larger one). */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1);
}
