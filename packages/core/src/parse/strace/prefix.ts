/**
 * The prefix strace puts before each record:
 *
 * ```
 * [PID ][TIME ][[NR] ][[IP] ]
 * ```
 *
 * PID is `1234  `, `[pid 1234] ` or `-Y`'s `1234<comm> `; TIME is `-t`/`-tt`
 * (`HH:MM:SS[.frac]`), `-ttt` (`EPOCH.frac`) or `-r` (`  0.000123`), µs or ns. One reader per
 * parser: it holds the fields of the line being read (no object per line) and the clock
 * state that carries across lines (`-t` wraps past midnight, `-r` is a running sum).
 */
import { isDigit } from './scan.js';

/** pid_max is at most 2^22 (7 digits); a longer leading number is a `-ttt`-style epoch. */
const MAX_PID_DIGITS = 7;
/** `-Y`'s `<comm>`: 15 characters, each up to 4 with `-xx` (`\\x73`), plus the brackets. */
const MAX_COMM_LENGTH = 64;
const DAY_MS = 86_400_000;

export class PrefixReader {
  /** The pid of lines that show none (`strace -ff -o PREFIX` files), if known. */
  readonly #defaultPid: number | undefined;
  // Fields of the line last read by `read`.
  pid: number | undefined;
  time: number | undefined;
  nr: number | undefined;
  /** `-Y`'s comm as printed (`-xx` escapes kept), when the prefix has one. */
  comm: string | undefined;
  hadPrefix = false;
  /** A prefix only strace prints (`[pid N]`, `N<comm>`, a timestamp, `[nr]`/`[ip]`), not just a number. */
  strongPrefix = false;

  // Clock state: `-t`/`-tt` wrap past midnight, `-r` running sum.
  #dayOffset = 0;
  #lastTod = -1;
  #relativeNs = 0;

  constructor(defaultPid: number | undefined) {
    this.#defaultPid = defaultPid;
  }

  /**
   * Reads pid, timestamp, `-n` number and `-i` address; returns the index after them, or
   * -1 when the line cannot start a strace record. Sets every field of this reader.
   */
  read(s: string): number {
    this.pid = this.#defaultPid;
    this.time = undefined;
    this.nr = undefined;
    this.comm = undefined;
    this.hadPrefix = false;
    this.strongPrefix = false;
    let i = this.#readPid(s);
    if (i < 0) return -1;
    let c = s.charCodeAt(i);
    // Timestamp: after the pid, or at the start (`-r` pads with leading spaces).
    if (c === 32 && i === 0) {
      while (c === 32) c = s.charCodeAt(++i);
      if (!isDigit(c)) return -1;
    }
    if (isDigit(c)) {
      const after = this.#readTime(s, i);
      if (after < 0) return this.hadPrefix ? i : -1;
      i = after;
      this.hadPrefix = true;
      this.strongPrefix = true;
      c = s.charCodeAt(i);
    }
    // `-n` syscall number `[ 257] ` and `-i` instruction pointer `[00007f…] `.
    while (c === 91 /* [ */) {
      const close = s.indexOf('] ', i);
      if (close === -1 || close - i > 20) break;
      const nr = readBracketNumber(s, i + 1, close);
      if (nr === -2) break; // not ours: `[ Process PID=…`
      if (nr >= 0) this.nr = nr;
      this.hadPrefix = true;
      this.strongPrefix = true;
      i = close + 2;
      c = s.charCodeAt(i);
    }
    return i;
  }

  /**
   * Reads `[pid N] `, `N  ` or `N<comm> ` at the start of `s` into `pid`/`comm`; returns
   * the index after it and its spaces (0 when there is none), or -1 when the line cannot
   * start a strace record.
   */
  #readPid(s: string): number {
    let i = 0;
    let c = s.charCodeAt(0);
    if (c === 91 /* [ */ && s.startsWith('[pid ', 0)) {
      i = 5;
      while (s.charCodeAt(i) === 32) i++;
      const start = i;
      let pid = 0;
      for (c = s.charCodeAt(i); isDigit(c); c = s.charCodeAt(++i)) pid = pid * 10 + (c - 48);
      if (i === start) return -1;
      if (c === 60 /* -Y: [pid 12<comm>] */) {
        const close = s.indexOf('>] ', i);
        if (close === -1 || close - i > MAX_COMM_LENGTH) return -1;
        this.comm = s.slice(i + 1, close);
        i = close + 1;
      }
      if (s.charCodeAt(i) !== 93 || s.charCodeAt(i + 1) !== 32) return -1;
      this.pid = pid;
      this.hadPrefix = true;
      this.strongPrefix = true;
      i += 2;
      c = s.charCodeAt(i);
      while (c === 32) c = s.charCodeAt(++i);
    } else if (isDigit(c)) {
      // `1234  ` (pid), `1234<comm> ` (-Y), or a timestamp starting with digits.
      let j = 0;
      let pid = 0;
      while (isDigit(c)) {
        pid = pid * 10 + (c - 48);
        c = s.charCodeAt(++j);
      }
      if (j <= MAX_PID_DIGITS && (c === 32 || c === 60)) {
        if (c === 60) {
          const close = s.indexOf('> ', j);
          if (close === -1 || close - j > MAX_COMM_LENGTH) return -1;
          this.comm = s.slice(j + 1, close);
          j = close + 1;
          this.strongPrefix = true;
        }
        this.pid = pid;
        this.hadPrefix = true;
        i = j;
        c = s.charCodeAt(i);
        while (c === 32) c = s.charCodeAt(++i);
      } else {
        c = s.charCodeAt(0);
      }
    }
    return i;
  }

  /**
   * Reads a timestamp at `i` (a digit) and sets `time`; returns the index after it and its
   * trailing spaces, or -1 when the digits are no timestamp.
   */
  #readTime(s: string, i: number): number {
    let whole = 0;
    let c = s.charCodeAt(i);
    const start = i;
    while (isDigit(c)) {
      whole = whole * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    let tod = -1;
    if (c === 58 /* : */) {
      // -t / -tt: HH:MM:SS
      const m = twoDigits(s, i + 1);
      const sec = twoDigits(s, i + 4);
      if (m < 0 || sec < 0 || s.charCodeAt(i + 3) !== 58 || i - start > 2) return -1;
      tod = ((whole * 60 + m) * 60 + sec) * 1000;
      i += 6;
      c = s.charCodeAt(i);
    } else if (c !== 46 /* . */ && !(c === 32 && i - start > MAX_PID_DIGITS)) {
      return -1;
    }
    let fracNs = 0;
    if (c === 46) {
      let digits = 0;
      c = s.charCodeAt(++i);
      while (isDigit(c)) {
        if (digits < 9) {
          fracNs = fracNs * 10 + (c - 48);
          digits++;
        }
        c = s.charCodeAt(++i);
      }
      if (digits === 0) return -1;
      for (; digits < 9; digits++) fracNs *= 10;
    }
    if (c !== 32) return -1;
    while (c === 32) c = s.charCodeAt(++i);
    if (tod >= 0) {
      // Time of day: ms since midnight, a day added each time the clock wraps (a jump back
      // of more than 12 h; small steps back are threads printing out of order).
      let t = tod + fracNs / 1e6 + this.#dayOffset;
      if (this.#lastTod >= 0 && t < this.#lastTod - DAY_MS / 2) {
        this.#dayOffset += DAY_MS;
        t += DAY_MS;
      }
      this.#lastTod = t;
      this.time = t;
    } else if (whole >= 100_000_000) {
      // -ttt / format:unix: seconds since the epoch.
      this.time = whole * 1000 + fracNs / 1e6;
    } else {
      // -r: seconds since the previous line; the running sum is time since the first.
      this.#relativeNs += whole * 1e9 + fracNs;
      this.time = this.#relativeNs / 1e6;
    }
    return i;
  }
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** Decimal digits at `i` → their value, or undefined when there is none. */
export function readInt(s: string, i: number): number | undefined {
  let n = 0;
  const start = i;
  for (let c = s.charCodeAt(i); isDigit(c); c = s.charCodeAt(++i)) n = n * 10 + (c - 48);
  return i > start ? n : undefined;
}

/**
 * Content of a `[…]` prefix between `from` and `to`: `-n`'s `[ 257]` → 257; `-i`'s
 * `[00007f…]` or `[????????????????]` → -1 (recognised, no number); anything else → -2.
 */
function readBracketNumber(s: string, from: number, to: number): number {
  let i = from;
  while (s.charCodeAt(i) === 32) i++;
  const padded = i > from;
  const width = to - from;
  let allDigits = true;
  let allHex = true;
  for (let j = i; j < to; j++) {
    const c = s.charCodeAt(j);
    if (!isDigit(c)) allDigits = false;
    if (!(isDigit(c) || (c >= 97 && c <= 102) || c === 63)) allHex = false;
  }
  if (i === to) return -2;
  // -i prints a fixed-width, zero-padded address (8 or 16 digits); -n pads with spaces.
  if (!padded && width >= 8 && allHex) return -1;
  if (allDigits) return readInt(s, i) ?? -2;
  return -2;
}
