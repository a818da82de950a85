/**
 * The seed's loose forms: lines with `syscall=` or an AVC/AppArmor verdict but no
 * `audit(…)` stamp (`seccomp: syscall=connect denied`, `apparmor="DENIED" …`). Each line
 * is an event of its own.
 */
import type { ParsedRecord } from '../../types.js';
import { looseVerdict, readAvc } from './avc.js';
import type { ValueDecoder } from './decoder.js';
import { emitEvent } from './emit.js';
import { PendingEvent } from './event.js';
import { findValue, intField, rawField } from './fields.js';
import { identity, readIdentity, type SyscallRecordReader } from './syscall-record.js';

/** Reads `line` as a loose form into `out`; false (nothing appended) when it is none. */
export function readLooseLine(
  line: string,
  lineNo: number,
  out: ParsedRecord[],
  deniedErrnos: ReadonlySet<string>,
  records: SyscallRecordReader,
  decoder: ValueDecoder,
): boolean {
  const s = findValue(line, 'syscall=', 0, line.length);
  const end = line.length;
  if (s !== -1) {
    let e = s;
    while (e < end) {
      const ch = line.charCodeAt(e);
      const word = (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95;
      if (!word) break;
      e++;
    }
    if (e === s) return false;
    const p = new PendingEvent(-1, undefined, undefined, line, lineNo, false);
    const success = rawField(line, 'success=', 0, end);
    const rec = records.blank(line, lineNo, false);
    rec.arch = rawField(line, 'arch=', 0, end);
    rec.syscall = line.slice(s, e);
    rec.success = success === undefined ? undefined : success === 'yes';
    rec.exit = rawField(line, 'exit=', 0, end);
    rec.pid = intField(line, 'pid=', 0, end);
    rec.code = rawField(line, 'code=', 0, end);
    rec.sig = rawField(line, 'sig=', 0, end);
    readIdentity(rec, line, 0, end, false, decoder);
    p.addSyscall(rec);
    const avc = readAvc(line, 0, end, '', decoder);
    if (avc !== undefined) p.avc = avc;
    // Seed wording: a verdict word anywhere outside a value (`… action=blocked denied`).
    p.avcDenied = (avc?.denied ?? false) || looseVerdict(line);
    if (rec.code !== undefined) rec.seccomp = true;
    p.addType(rec.seccomp ? 'SECCOMP' : 'SYSCALL');
    emitEvent(p, out, deniedErrnos, decoder);
    if (rec.seccomp && p.avcDenied) {
      // A blocking word on a loose seccomp line wins over an unreadable code.
      const last = out[out.length - 1];
      if (last?.kind === 'syscall') last.denied = true;
    }
    return true;
  }
  const avc = readAvc(line, 0, end, '', decoder);
  if (avc === undefined) return false;
  const p = new PendingEvent(-1, undefined, undefined, line, lineNo, false);
  p.addType('AVC');
  p.avc = avc;
  p.avcDenied = avc.denied;
  p.avcLine = line;
  p.avcLineNo = lineNo;
  p.ids = identity(line, 0, end, false, decoder);
  p.pid = intField(line, 'pid=', 0, end);
  emitEvent(p, out, deniedErrnos, decoder);
  return true;
}
