/**
 * Finds the records of an audit line: `type=… msg=audit(…): …`, with or without a `node=`
 * prefix, after a syslog/journal/dmesg prefix (`… audit: type=1400 audit(…): …`), and
 * several on one line. One cursor per parser: it holds where the record being read lies.
 */
import { valueEnd } from './fields.js';
import { recordTypeName } from './record-types.js';
import { fastStamp, readStamp, type Stamp } from './stamp.js';

/** How far `audit(` may follow the type token (` msg=audit(` or ` audit(`). */
const MAX_TYPE_TO_STAMP = 16;
/** ENRICHED logs append interpreted fields after this byte. */
const GS = '\x1d';

/** `locate` found no record at the place asked. */
export const NO_RECORD = -1;
/** `locate` found a record it cannot read (`problem` says why). */
export const MALFORMED = -2;

export class RecordCursor {
  /** Record type name (`SYSCALL`; numbers resolved: `1400` → `AVC`). */
  type = '';
  /** `node=` of the record, when it has one. */
  node: string | undefined;
  /** The stamp of the record (one object, reused: records are read one at a time). */
  readonly stamp: Stamp = { time: undefined, serial: undefined, interpreted: false, end: 0 };
  /**
   * The line, cut at the end of the record when another follows it on the same line: every
   * search of the record's readers ends there, so a line of many records is read in one
   * pass (a cut is a view of the line, not a copy). Offsets below index both.
   */
  text = '';
  /** Start of the record's fields (after `): `). */
  body = 0;
  /** End of the raw fields (an ENRICHED record's interpreted part starts after it). */
  rawEnd = 0;
  /** End of the record. */
  recEnd = 0;
  /** Why the last `locate` returned MALFORMED. */
  problem = '';
  /** Where the stamp of the old kernel form (`audit(…): type=1503 …`) is, else -1. */
  #stampFirst = -1;

  /**
   * Finds the record starting at or after `start` (at `start` exactly when `continuation`:
   * a further record on the same line). Returns the index where a further record on the
   * line starts (`line.length` when none), NO_RECORD or MALFORMED.
   */
  locate(line: string, start: number, continuation: boolean): number {
    const typeAt = this.#typeAt(line, start, continuation);
    if (typeAt < 0) return NO_RECORD;
    // The usual types are recognised with their trailing space, which also ends the token.
    let type = knownType(line, typeAt);
    let typeEnd: number;
    if (type !== undefined) typeEnd = typeAt + type.length;
    else {
      typeEnd = line.indexOf(' ', typeAt);
      if (typeEnd === -1) typeEnd = line.length;
    }
    // auditd's own form first: ` msg=audit(` right after the type. (`audit(` cannot overlap
    // itself, so one found there is the first after the type.) The old kernel form has
    // the stamp before the type.
    const stampFirst = this.#stampFirst;
    const a =
      stampFirst >= 0
        ? stampFirst
        : at4(line, typeEnd + 5, 97, 117, 100, 105) && at4(line, typeEnd + 7, 100, 105, 116, 40) // audit(
          ? typeEnd + 5
          : line.indexOf('audit(', typeEnd);
    if (a === -1 || (stampFirst < 0 && a - typeEnd > MAX_TYPE_TO_STAMP)) {
      // `type=` without a stamp: not an audit record (e.g. a strace argument) unless the
      // line starts like one.
      if (start === 0 && typeAt === 5) return this.#malformed('no audit(…) stamp');
      return NO_RECORD;
    }
    const stamp = this.stamp;
    if (!fastStamp(line, a + 6, stamp)) {
      const slow = readStamp(line, a + 6);
      if (slow === undefined) return this.#malformed('unreadable audit(…) stamp');
      stamp.time = slow.time;
      stamp.serial = slow.serial;
      stamp.interpreted = slow.interpreted;
      stamp.end = slow.end;
    }
    if (type === undefined) {
      type = line.slice(typeAt, typeEnd);
      const t0 = type.charCodeAt(0);
      if (t0 >= 48 && t0 <= 57) type = recordTypeName(Number(type));
      else if (type.startsWith('UNKNOWN[')) {
        const nr = Number(type.slice(8, -1));
        if (Number.isInteger(nr)) type = recordTypeName(nr);
      }
    }
    // Body: after `): ` (or ausearch -i's `) : `; the kernel form's after its type), up to a
    // following record on this line.
    let body = stampFirst >= 0 ? typeEnd : stamp.end;
    while (body < line.length) {
      const ch = line.charCodeAt(body);
      if (ch !== 58 && ch !== 32) break;
      body++;
    }
    let recEnd = line.length;
    let next = line.length;
    const m = nextRecordStamp(line, body);
    if (m !== -1) {
      const t = line.lastIndexOf(' type=', m);
      if (t >= body) {
        // `… node=HOST type=…`: the next record's host belongs to it, not to this one.
        const n = nodeBefore(line, t, body);
        recEnd = n === -1 ? t : n;
        next = recEnd + 1;
      }
    }
    const text = recEnd < line.length ? line.slice(0, recEnd) : line;
    let rawEnd = recEnd;
    const gs = text.indexOf(GS, body);
    if (gs !== -1) rawEnd = gs;
    this.type = type;
    this.text = text;
    this.body = body;
    this.rawEnd = rawEnd;
    this.recEnd = recEnd;
    return next;
  }

  /**
   * Where the type token of the record at (or, unless `continuation`, after) `start`
   * begins, or -1; sets `node`.
   */
  #typeAt(line: string, start: number, continuation: boolean): number {
    let typeAt: number;
    let node: string | undefined;
    this.#stampFirst = -1;
    if (
      line.charCodeAt(start) === 116 &&
      line.charCodeAt(start + 1) === 121 &&
      line.charCodeAt(start + 2) === 112 &&
      line.charCodeAt(start + 3) === 101 &&
      line.charCodeAt(start + 4) === 61
    ) {
      // `type=`
      typeAt = start + 5;
    } else if (line.startsWith('node=', start)) {
      const sp = line.indexOf(' ', start);
      if (sp === -1) return -1;
      node = line.slice(start + 5, sp);
      let t = sp;
      while (line.charCodeAt(t) === 32) t++;
      if (!line.startsWith('type=', t)) return -1;
      typeAt = t + 5;
    } else if (!continuation) {
      // Prefixed forms: syslog/journal/dmesg (`… kernel: [ 1.2] audit: type=1400 audit(…)`),
      // grep output (`audit.log:type=AVC msg=audit(…)`).
      const a = line.indexOf('audit(', start);
      if (a === -1) return -1;
      const t = line.lastIndexOf('type=', a);
      if (t === -1 || t < start) return this.#kernelForm(line, a);
      typeAt = t + 5;
      const n = line.lastIndexOf('node=', t);
      if (n !== -1 && n >= start) node = line.slice(n + 5, valueEnd(line, n + 5, t));
    } else {
      return -1;
    }
    this.node = node;
    return typeAt;
  }

  /**
   * The old kernel form, `… kernel: audit(1189201672.746:537): type=1503 operation=…`: the
   * stamp `audit(` at `a` comes first, then the type. Returns where the type starts, or -1.
   */
  #kernelForm(line: string, a: number): number {
    const close = line.indexOf(')', a);
    if (close === -1 || close - a > 48 || !line.startsWith(': type=', close + 1)) return -1;
    this.#stampFirst = a;
    return close + 8;
  }

  #malformed(why: string): number {
    this.problem = why;
    return MALFORMED;
  }
}

/**
 * The record type names of auditd's syscall events, with the space that ends them, matched
 * in place (no slice, no lookup): narrowed by their first two letters, then compared code by
 * code (a `startsWith` call costs more on a sliced line). Undefined for any other type, or
 * one that ends the line.
 */
function knownType(line: string, at: number): string | undefined {
  switch (line.charCodeAt(at)) {
    case 80: // P
      if (line.charCodeAt(at + 1) === 65) return at4(line, at + 1, 65, 84, 72, 32) ? 'PATH' : undefined;
      return at4(line, at + 1, 82, 79, 67, 84) &&
        at4(line, at + 5, 73, 84, 76, 69) &&
        line.charCodeAt(at + 9) === 32
        ? 'PROCTITLE'
        : undefined;
    case 83: // S
      switch (line.charCodeAt(at + 1)) {
        case 89:
          return at4(line, at + 1, 89, 83, 67, 65) && at4(line, at + 4, 65, 76, 76, 32)
            ? 'SYSCALL'
            : undefined;
        case 79:
          return at4(line, at + 1, 79, 67, 75, 65) && at4(line, at + 5, 68, 68, 82, 32)
            ? 'SOCKADDR'
            : undefined;
        default:
          return at4(line, at + 1, 69, 67, 67, 79) && at4(line, at + 4, 79, 77, 80, 32)
            ? 'SECCOMP'
            : undefined;
      }
    case 67: // C
      return at4(line, at, 67, 87, 68, 32) ? 'CWD' : undefined;
    case 69: // E
      if (line.charCodeAt(at + 1) === 88)
        return at4(line, at + 1, 88, 69, 67, 86) && at4(line, at + 3, 67, 86, 69, 32) ? 'EXECVE' : undefined;
      return at4(line, at, 69, 79, 69, 32) ? 'EOE' : undefined;
    case 65: // A
      return at4(line, at, 65, 86, 67, 32) ? 'AVC' : undefined;
    default:
      return undefined;
  }
}

/** True when `line` holds the four character codes `a b c d` at `i`. */
function at4(line: string, i: number, a: number, b: number, c: number, d: number): boolean {
  return (
    line.charCodeAt(i) === a &&
    line.charCodeAt(i + 1) === b &&
    line.charCodeAt(i + 2) === c &&
    line.charCodeAt(i + 3) === d
  );
}

/**
 * Where the ` node=HOST` glued before the ` type=` at `t` starts (no earlier than `from`),
 * or -1 when there is none. Looks back over one token only (a host name is short).
 */
function nodeBefore(line: string, t: number, from: number): number {
  let i = t - 1;
  const stop = Math.max(from, t - 300);
  while (i >= stop && line.charCodeAt(i) !== 32) i--;
  return i >= from && i < t - 6 && line.startsWith(' node=', i) ? i : -1;
}

/**
 * Index of the first `msg=audit(` at or after `from`, or -1: found through its `(`, which is
 * rare in a record (a one-character search is several times cheaper than a pattern search).
 */
function nextRecordStamp(line: string, from: number): number {
  let q = line.indexOf('(', from + 9);
  while (q !== -1) {
    if (line.charCodeAt(q - 1) === 116 && line.startsWith('msg=audit', q - 9)) return q - 9;
    q = line.indexOf('(', q + 1);
  }
  return -1;
}
