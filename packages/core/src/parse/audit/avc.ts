/**
 * Mandatory access control verdicts: AppArmor (`apparmor="DENIED" operation=… profile=…`,
 * also inside USER_AVC `msg='…'` and the old APPARMOR_* record types) and SELinux
 * (`avc:  denied  { read } for … scontext=…`).
 */
import type { ValueDecoder } from './decoder.js';
import { MAX_AVCS, type PendingEvent } from './event.js';
import { intField, rawField } from './fields.js';
import { identity } from './syscall-record.js';

/**
 * A record about a subject that is not a syscall's aux record (AVC, USER_*, ANOM_*,
 * CONFIG_CHANGE, …): the event keeps the first such record's identity and pid, and its
 * AVC verdicts: the deciding one (a denial wins over an earlier grant) and, once there are
 * several, all of them. `raw` is the record's line.
 */
export function readSubjectRecord(
  p: PendingEvent,
  text: string,
  raw: string,
  lineNo: number,
  body: number,
  to: number,
  type: string,
  decoder: ValueDecoder,
): void {
  if (p.ids === undefined) {
    p.ids = identity(text, body, to, p.interpreted, decoder);
    p.pid = intField(text, 'pid=', body, to);
  }
  const avc = readAvc(text, body, to, type, decoder);
  if (avc === undefined) return;
  if (p.avc !== undefined) {
    p.avcs ??= [p.avc];
    if (p.avcs.length < MAX_AVCS) p.avcs.push(avc);
    else p.overflow++;
  }
  if (p.avc === undefined || (avc.denied && !p.avcDenied)) {
    p.avc = avc;
    p.avcLine = raw;
    p.avcLineNo = lineNo;
  }
  if (avc.denied) p.avcDenied = true;
}

export interface AvcFacts {
  lsm: 'apparmor' | 'selinux';
  result: string;
  operation: string | undefined;
  profile: string | undefined;
  name: string | undefined;
  /** SELinux `path=` (AppArmor names its object in `name=`). */
  path: string | undefined;
  denied: boolean;
}

/**
 * AVC facts of a record: AppArmor `apparmor="DENIED" operation=… profile=… name=…` (AVC,
 * USER_AVC msg='…', dbus lines), SELinux `avc:  denied  { read } for … name=…`, and the old
 * APPARMOR_* record types. SELinux `permissive=1` denials were logged, not enforced.
 */
export function readAvc(
  line: string,
  from: number,
  to: number,
  type: string,
  decoder: ValueDecoder,
): AvcFacts | undefined {
  const aa = rawField(line, 'apparmor=', from, to);
  if (aa !== undefined) {
    const result = decoder.decodeValue(aa) ?? aa;
    return {
      lsm: 'apparmor',
      result,
      operation: decodedField(decoder, line, 'operation=', from, to),
      profile: decodedField(decoder, line, 'profile=', from, to),
      name: decodedField(decoder, line, 'name=', from, to),
      path: undefined,
      denied: result.toUpperCase() === 'DENIED',
    };
  }
  const avc = line.indexOf('avc:', from);
  if (avc !== -1 && avc < to) {
    let i = avc + 4;
    while (line.charCodeAt(i) === 32) i++;
    let e = i;
    while (e < to && line.charCodeAt(e) !== 32) e++;
    const result = line.slice(i, e);
    if (result !== 'denied' && result !== 'granted') return undefined;
    let operation: string | undefined;
    const open = line.indexOf('{', e);
    if (open !== -1 && open < to) {
      const close = line.indexOf('}', open);
      if (close !== -1 && close < to) operation = line.slice(open + 1, close).trim();
    }
    return {
      lsm: 'selinux',
      result,
      operation,
      profile: rawField(line, 'scontext=', from, to),
      name: decodedField(decoder, line, 'name=', from, to),
      path: decodedField(decoder, line, 'path=', from, to),
      denied: result === 'denied' && rawField(line, 'permissive=', from, to) !== '1',
    };
  }
  if (type.startsWith('APPARMOR')) {
    let result = type === 'APPARMOR_DENIED' ? 'DENIED' : type === 'APPARMOR_ALLOWED' ? 'ALLOWED' : '';
    if (type === 'APPARMOR') {
      const word = /^(REJECTING|PERMITTING|AUDITING)\b/.exec(line.slice(from, Math.min(to, from + 16)));
      if (word !== null) result = word[1]!;
    }
    if (result === '') return undefined;
    return {
      lsm: 'apparmor',
      result,
      operation: decodedField(decoder, line, 'operation=', from, to),
      profile: decodedField(decoder, line, 'profile=', from, to),
      name: decodedField(decoder, line, 'name=', from, to),
      path: undefined,
      denied: result === 'DENIED' || result === 'REJECTING',
    };
  }
  return undefined;
}

function decodedField(
  decoder: ValueDecoder,
  line: string,
  keyEq: string,
  from: number,
  to: number,
): string | undefined {
  const raw = rawField(line, keyEq, from, to);
  return raw === undefined ? undefined : decoder.decodeValue(raw);
}

/** A bare verdict word (`denied`, `DENIED`, `blocked`) or a blocking `action=`, as the seed read loose lines. */
export function looseVerdict(line: string): boolean {
  return /(?:^|[\s:])(?:denied|DENIED|blocked)(?=$|[\s,.;:])|\baction="?(?:blocked|block|deny|denied|kill\w*|trap|errno)\b/.test(
    line,
  );
}
