/**
 * A checksum over one stored program model, so that a baseline cut short or changed after
 * `syscan learn` (a flipped base64 character still decodes, into other counts) is refused
 * instead of scoring with numbers nobody learned. It detects corruption, not forgery: whoever
 * can write the baseline can also write its checksum.
 *
 * It is computed over the parsed values, keys sorted and numbers as JavaScript prints them,
 * so re-indenting the JSON or re-writing it with another tool (`jq -S`, Python) keeps it valid.
 */

/** The key of a stored program that holds its checksum (left out of what it covers). */
export const CHECKSUM_KEY = 'checksum';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** `crc32:` and eight hex digits: CRC-32 (IEEE) over the canonical text's UTF-16 code units. */
export function programChecksum(stored: object): string {
  let crc = 0xffffffff;
  const text = canonical(stored, true);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    crc = (CRC_TABLE[(crc ^ unit) & 0xff] as number) ^ (crc >>> 8);
    if (unit > 0xff) crc = (CRC_TABLE[(crc ^ (unit >>> 8)) & 0xff] as number) ^ (crc >>> 8);
  }
  return `crc32:${((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0')}`;
}

/** JSON-like text of a parsed value with object keys sorted; `top` leaves the checksum key out. */
function canonical(value: unknown, top = false): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => !(top && k === CHECKSUM_KEY) && (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
