/** `auditFields: true`: every field of every record of an event, kept as text. */
import type { ValueDecoder } from './decoder.js';
import type { PendingEvent } from './event.js';
import { forEachField } from './fields.js';

/** Most fields kept per event. */
const MAX_FIELDS = 512;

/**
 * The fields auditd writes as untrusted strings, hex-encoded when they hold a space, `"`
 * or control byte (audit-userspace auparse/typetab.h: T_ESCAPED, T_PROCTITLE, TTY data):
 * only these are hex-decoded. Any other value is kept as written, so `uid=1000` or
 * `arch=c000003e` stay numbers and ids, never bytes. EXECVE arguments are decoded too.
 */
const ENCODED_FIELDS: ReadonlySet<string> = new Set([
  'path',
  'comm',
  'exe',
  'file',
  'name',
  'watch',
  'cwd',
  'cmd',
  'acct',
  'dir',
  'key',
  'proctitle',
  'data',
  'ocomm',
  'grp',
  'new_group',
  'vm',
  'device',
  'cgroup',
  'sw',
  'root_dir',
]);

/** EXECVE `a<N>` and `a<N>[i]` (not `a<N>_len`). */
function isArgumentKey(key: string): boolean {
  return /^a\d+(?:\[\d+\])?$/.test(key);
}

/** Keeps each field of the record `line[from, to)`, first occurrence per `TYPE.key`. */
export function keepFields(
  p: PendingEvent,
  line: string,
  type: string,
  from: number,
  to: number,
  decoder: ValueDecoder,
): void {
  p.fields ??= {};
  const fields = p.fields;
  let count = Object.keys(fields).length;
  const visit = (key: string, raw: string): void => {
    if (count >= MAX_FIELDS) return;
    const k = `${type}.${key}`;
    if (Object.hasOwn(fields, k)) return;
    if (key === 'msg' && raw.charCodeAt(0) === 39) {
      // Userspace records nest their own fields in msg='…'.
      forEachField(raw, 1, raw.length - 1, visit);
      return;
    }
    const encoded = ENCODED_FIELDS.has(key) || (type === 'EXECVE' && isArgumentKey(key));
    fields[k] = (encoded ? decoder.decodeValue(raw, p.interpreted) : unquoted(raw)) ?? raw;
    count++;
  };
  forEachField(line, from, to, visit);
}

/** `"text"` or `'text'` → text; anything else as written. */
function unquoted(raw: string): string {
  const c = raw.charCodeAt(0);
  if ((c === 34 || c === 39) && raw.length > 1 && raw.charCodeAt(raw.length - 1) === c)
    return raw.slice(1, -1);
  return raw;
}
