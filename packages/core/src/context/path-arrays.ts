/**
 * Absolute path arguments the tracker has read before, by their quoted text: a trace names
 * the same files over and over (`openat`, `newfstatat`, `statx` of one file), and every
 * call to one file can share one `[path]` array instead of decoding, normalising and
 * allocating it again. Only text that needs no decoding is kept (no escapes, not cut by
 * `-s`, within the path cap), so a hit is exactly what readCString + resolvePath give.
 */
import { normalizePath } from './paths.js';
import { skipString } from './strace-scan.js';

const QUOTE = 34;
const SLASH = 47;
const DOT = 46;

/** Distinct paths kept; past it the cache starts again (bounded memory, no LRU upkeep). */
const MAX_PATHS = 4_096;

export class PathArrays {
  readonly #byText = new Map<string, readonly string[]>();
  readonly #maxLength: number;

  constructor(maxPathLength: number) {
    this.#maxLength = maxPathLength;
  }

  /**
   * `[path]` for the string argument at `args[at]` when it is an absolute path printed
   * whole; undefined when it is anything else (the caller reads it the long way).
   * The array is shared: callers must not change it.
   */
  lookup(args: string, at: number): readonly string[] | undefined {
    if (args.charCodeAt(at) !== QUOTE || args.charCodeAt(at + 1) !== SLASH) return undefined;
    const end = skipString(args, at);
    // `"…"...` was cut by -s; an unclosed string ends the text without its quote.
    if (args.charCodeAt(end) === DOT || args.charCodeAt(end - 1) !== QUOTE || end - 1 <= at) return undefined;
    const text = args.slice(at + 1, end - 1);
    const byText = this.#byText;
    const hit = byText.get(text);
    if (hit !== undefined) return hit;
    if (text.length > this.#maxLength || text.indexOf('\\') !== -1) return undefined;
    // A copy of its own: a slice would keep the reader's whole input chunk alive.
    const key = ` ${text}`.slice(1);
    const paths = [normalizePath(key)];
    if (byText.size >= MAX_PATHS) byText.clear();
    byText.set(key, paths);
    return paths;
  }
}
