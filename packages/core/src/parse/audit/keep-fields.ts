/** `auditFields: true`: every field of every record of an event, kept decoded. */
import type { ValueDecoder } from './decoder.js';
import type { PendingEvent } from './event.js';
import { forEachField } from './fields.js';

/** `auditFields: true`: every field of every record, decoded, first occurrence per `TYPE.key`. */
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
    if (count >= 512) return;
    const k = `${type}.${key}`;
    if (Object.hasOwn(fields, k)) return;
    if (key === 'msg' && raw.charCodeAt(0) === 39) {
      // Userspace records nest their own fields in msg='…'.
      forEachField(raw, 1, raw.length - 1, visit);
      return;
    }
    const v = decoder.decodeValue(raw, p.interpreted);
    fields[k] = v ?? raw;
    count++;
  };
  forEachField(line, from, to, visit);
}
