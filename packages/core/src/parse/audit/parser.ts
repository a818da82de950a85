/**
 * Linux audit reader: auditd's audit.log (RAW and ENRICHED), `node=` prefixes, kernel /
 * journal / dmesg / syslog lines (`audit: type=1400 audit(…)`), ausearch's default and `-i`
 * output, and the seed's loose `seccomp: syscall=connect denied` lines.
 *
 * Where each job is done: `locate.ts` finds the records of a line (type, stamp, body),
 * `grouping.ts` groups them into events by serial, one reader per record family fills the
 * event (`syscall-record.ts`: SYSCALL, SECCOMP; `avc.ts`: AVC, AppArmor and other subject
 * records; `execve.ts`; `aux-records.ts`: CWD, PATH, PROCTITLE), and `emit.ts` turns a
 * complete event into records. Every piece of state is this parser's own.
 */
import type { ParsedRecord } from '../../types.js';
import type { LineParser, ResolvedParseOptions } from '../line-parser.js';
import { readAvcPath, readCwd, readPath, readProctitle, readSockaddr } from './aux-records.js';
import { readSubjectRecord } from './avc.js';
import { ValueDecoder } from './decoder.js';
import type { PendingEvent } from './event.js';
import { readExecve } from './execve.js';
import { rawField } from './fields.js';
import { EventGrouper } from './grouping.js';
import { keepFields } from './keep-fields.js';
import { MALFORMED, NO_RECORD, RecordCursor } from './locate.js';
import { readLooseLine } from './loose.js';
import { type Identity, SyscallRecordReader, userName } from './syscall-record.js';

/** Record types that carry no subject fields worth a search. */
const AUX_TYPES: ReadonlySet<string> = new Set([
  'PATH',
  'CWD',
  'EXECVE',
  'PROCTITLE',
  'SOCKADDR',
  'AVC_PATH',
  'BPRM_FCAPS',
  'OBJ_PID',
  'MMAP',
  'FD_PAIR',
  'CAPSET',
  'IPC',
  'SOCKETCALL',
  'NETFILTER_CFG',
  'TIME_INJOFFSET',
  'TIME_ADJNTPVAL',
  'KERN_MODULE',
  'OPENAT2',
  'URINGOP',
  'EOE',
]);

/** The user names an ENRICHED record's interpreted part gives (`AUID="alice" UID="root"`), where none was read. */
function enrichedNames(ids: Identity, text: string, rawEnd: number, recEnd: number): void {
  ids.user ??= userName(rawField(text, 'UID=', rawEnd + 1, recEnd));
  ids.loginUser ??= userName(rawField(text, 'AUID=', rawEnd + 1, recEnd));
}

/**
 * Keeps a CONFIG_CHANGE record's fields: every one, up to a cap (a netlink send may carry
 * several changes, and the last may be the one that blinds the trail). Flat copies: a slice
 * would keep the line's read chunk alive.
 */
function keepConfigChange(p: PendingEvent, text: string, body: number, rawEnd: number): void {
  p.configChange ??= [];
  if (p.configChange.length < MAX_CONFIG_CHANGES)
    p.configChange.push(` ${text.slice(body, Math.min(rawEnd, body + MAX_CONFIG_CHANGE)).trim()}`.slice(1));
}

/** Most characters of a CONFIG_CHANGE record kept (its fields are a few short ones). */
const MAX_CONFIG_CHANGE = 400;
/** Most CONFIG_CHANGE records of one event kept. */
const MAX_CONFIG_CHANGES = 8;
/** Longest raw text an issue quotes. */
const RAW_SAMPLE = 240;

export class AuditParser implements LineParser {
  readonly #deniedErrnos: ReadonlySet<string>;
  readonly #keepFields: boolean;
  readonly #decoder = new ValueDecoder();
  readonly #records = new SyscallRecordReader(this.#decoder);
  readonly #cursor = new RecordCursor();
  readonly #events: EventGrouper;
  #work = 0;

  constructor(options: ResolvedParseOptions) {
    this.#deniedErrnos = options.deniedErrnos;
    this.#keepFields = options.auditFields;
    this.#events = new EventGrouper(this.#deniedErrnos, this.#decoder, this.#records);
  }

  parseLine(line: string, lineNo: number, out: ParsedRecord[]): boolean {
    const c = line.charCodeAt(0);
    // ausearch block separators: `----` and `time->Sat Nov 28 08:18:04 2026`.
    if (c === 45 && /^-{4,}\s*$/.test(line)) return true;
    // (`startsWith` only past a second-letter test: every `type=` line starts with `t` too.)
    if (c === 116 && line.charCodeAt(1) === 105 && line.startsWith('time->')) return true;
    const cursor = this.#cursor;
    let start = 0;
    let any = false;
    for (;;) {
      const next = cursor.locate(line, start, any);
      if (next === NO_RECORD) break;
      if (next === MALFORMED) {
        this.#malformed(line, lineNo, out, cursor.problem);
        return true;
      }
      this.#add(line, start, !any && next >= line.length, lineNo, out);
      any = true;
      if (next >= line.length) break;
      start = next;
    }
    if (any) return true;
    return readLooseLine(line, lineNo, out, this.#deniedErrnos, this.#records, this.#decoder);
  }

  end(out: ParsedRecord[]): void {
    this.#events.end(out);
  }

  /**
   * Work done so far: characters the record readers were allowed to scan, plus EXECVE
   * slots filled. Grows linearly with the input whatever its shape (the tests hold it to
   * that, counting instead of timing).
   */
  get work(): number {
    return this.#work;
  }

  /** Adds the record the cursor found on `line` to its event. */
  #add(line: string, start: number, alone: boolean, lineNo: number, out: ParsedRecord[]): void {
    const cursor = this.#cursor;
    this.#work += cursor.text.length - start;
    // A record that shares its line carries its own text, not the whole line.
    const raw = alone ? line : line.slice(start, cursor.recEnd);
    const p = this.#events.open(cursor.type, cursor.node, cursor.stamp, raw, lineNo, out);
    if (p === undefined) return;
    this.#fill(p, raw, lineNo);
    this.#events.close(p, out);
  }

  /** Takes what the event keeps from the record the cursor found (`raw`: its line). */
  #fill(p: PendingEvent, raw: string, lineNo: number): void {
    const { type, text, body, rawEnd, recEnd } = this.#cursor;
    const decoder = this.#decoder;
    switch (type) {
      case 'SYSCALL':
      case 'SECCOMP': {
        const records = this.#records;
        const rec =
          type === 'SECCOMP'
            ? records.readSeccomp(text, raw, lineNo, body, rawEnd, p.interpreted)
            : records.readSyscall(text, raw, lineNo, body, rawEnd, p.interpreted);
        // ENRICHED-only values, where the raw part lacks them.
        if (rawEnd < recEnd) {
          if (rec.arch === undefined) rec.arch = rawField(text, 'ARCH=', rawEnd + 1, recEnd);
          enrichedNames(rec, text, rawEnd, recEnd);
          if (rec.syscall === undefined && rec.nr < 0) {
            const s = rawField(text, 'SYSCALL=', rawEnd + 1, recEnd);
            if (s !== undefined && !s.startsWith('unknown')) rec.syscall = s;
          }
        }
        p.addSyscall(rec);
        break;
      }
      case 'EXECVE':
        this.#work += readExecve(p, text, body, rawEnd);
        break;
      case 'CWD':
        readCwd(p, text, body, rawEnd, decoder);
        break;
      case 'PATH':
        readPath(p, text, body, rawEnd, decoder);
        break;
      case 'PROCTITLE':
        readProctitle(p, text, body, rawEnd, decoder);
        break;
      case 'SOCKADDR':
        readSockaddr(p, text, body, rawEnd);
        break;
      case 'AVC_PATH':
        readAvcPath(p, text, body, rawEnd, decoder);
        break;
      default:
        if (type === 'CONFIG_CHANGE') keepConfigChange(p, text, body, rawEnd);
        if (!AUX_TYPES.has(type)) {
          readSubjectRecord(p, text, raw, lineNo, body, rawEnd, type, decoder);
          if (p.ids !== undefined && rawEnd < recEnd) enrichedNames(p.ids, text, rawEnd, recEnd);
        }
    }
    if (this.#keepFields) keepFields(p, text, type, body, rawEnd, decoder);
  }

  #malformed(line: string, lineNo: number, out: ParsedRecord[], why: string): void {
    out.push({
      kind: 'issue',
      code: 'malformed_audit_record',
      message: `line ${lineNo}: audit record with ${why}`,
      raw: line.length > RAW_SAMPLE ? line.slice(0, RAW_SAMPLE) : line,
      line: lineNo,
    });
  }
}
