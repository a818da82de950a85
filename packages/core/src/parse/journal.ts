/**
 * `journalctl -o json` exports: one JSON object per line, the logged text in `MESSAGE` (a
 * string, or an array of bytes when it is not UTF-8). The text is unwrapped (JSON escapes
 * undone) and read as any other line. Records journald received over its audit transport
 * lose their `type=… msg=audit(…):` head (journald keeps them in `_AUDIT_TYPE`, `_AUDIT_ID`
 * and `_SOURCE_REALTIME_TIMESTAMP`, and starts MESSAGE with the type name), so the head is
 * rebuilt from those fields: the audit reader then groups and times them as usual.
 */
import { recordTypeName } from './audit/record-types.js';

export class JournalReader {
  readonly #utf8 = new TextDecoder('utf-8');

  /**
   * The text lines logged in a journal export line, or undefined when the line is no
   * journal entry (not a JSON object with a MESSAGE).
   */
  read(line: string): string[] | undefined {
    if (line.charCodeAt(0) !== 123 /* { */ || !line.includes('"MESSAGE"')) return undefined;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
    const fields = entry as Record<string, unknown>;
    const message = this.#text(Object.hasOwn(fields, 'MESSAGE') ? fields.MESSAGE : undefined);
    if (message === undefined) return undefined;
    const head = auditHead(fields, message);
    const lines = message.split('\n');
    if (head !== undefined) lines[0] = head;
    return lines.filter((l) => l.length > 0);
  }

  /** MESSAGE as text: a string, or an array of byte values decoded as UTF-8. */
  #text(value: unknown): string | undefined {
    if (typeof value === 'string') return value;
    if (!Array.isArray(value) || !value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
      return undefined;
    return this.#utf8.decode(Uint8Array.from(value as number[]));
  }
}

/**
 * `type=NAME msg=audit(SEC.MS:ID): FIELDS` for an entry of journald's audit transport
 * (MESSAGE `NAME FIELDS`), else undefined.
 */
function auditHead(fields: Record<string, unknown>, message: string): string | undefined {
  const id = own(fields, '_AUDIT_ID');
  const typeNumber = own(fields, '_AUDIT_TYPE');
  if (
    id === undefined ||
    !/^\d{1,20}$/.test(id) ||
    (typeNumber === undefined && own(fields, '_AUDIT_TYPE_NAME') === undefined)
  )
    return undefined;
  const name =
    own(fields, '_AUDIT_TYPE_NAME') ??
    (typeNumber !== undefined && /^\d{1,5}$/.test(typeNumber)
      ? recordTypeName(Number(typeNumber))
      : undefined);
  if (name === undefined) return undefined;
  const firstLine = message.split('\n', 1)[0]!;
  // MESSAGE starts with the type name journald printed (`SYSCALL`, or `AUDIT1300` for a number it has no name for).
  const space = firstLine.indexOf(' ');
  const body = space === -1 ? '' : firstLine.slice(space + 1);
  const micros = own(fields, '_SOURCE_REALTIME_TIMESTAMP') ?? own(fields, '__REALTIME_TIMESTAMP');
  let stamp = `0.000:${id}`;
  if (micros !== undefined && /^\d{1,20}$/.test(micros)) {
    const ms = Math.floor(Number(micros) / 1000);
    stamp = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}:${id}`;
  }
  return `type=${name} msg=audit(${stamp}): ${body}`;
}

/** An own string field of a journal entry (journald writes every value as a string). */
function own(fields: Record<string, unknown>, key: string): string | undefined {
  if (!Object.hasOwn(fields, key)) return undefined;
  const v = fields[key];
  return typeof v === 'string' ? v : undefined;
}
