/**
 * The stamp of an audit record, `audit(SEC.MS:SERIAL)`: auditd's usual form read in one
 * pass, and the rarer ones (ausearch -i's date, the seed's serial-less `audit(SEC)`).
 */
import { parseIntAt } from './fields.js';

export interface Stamp {
  time: number | undefined;
  serial: number | undefined;
  interpreted: boolean;
  /** Index just past `)` of the stamp. */
  end: number;
}

/**
 * auditd's usual stamp, `SEC.MMM:SERIAL)` at `i`, read in one pass into `stamp`. Returns
 * false for any other shape, which `readStamp` then reads (same result where both apply).
 */
export function fastStamp(line: string, i: number, stamp: Stamp): boolean {
  let k = i;
  let sec = 0;
  let d = line.charCodeAt(k) - 48;
  if (d < 0 || d > 9) return false;
  do {
    sec = sec * 10 + d;
    d = line.charCodeAt(++k) - 48;
  } while (d >= 0 && d <= 9);
  if (line.charCodeAt(k) !== 46) return false;
  const d1 = line.charCodeAt(k + 1) - 48;
  const d2 = line.charCodeAt(k + 2) - 48;
  const d3 = line.charCodeAt(k + 3) - 48;
  if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || line.charCodeAt(k + 4) !== 58) return false;
  k += 5;
  let serial = 0;
  d = line.charCodeAt(k) - 48;
  if (d < 0 || d > 9) return false;
  do {
    serial = serial * 10 + d;
    d = line.charCodeAt(++k) - 48;
  } while (d >= 0 && d <= 9);
  if (line.charCodeAt(k) !== 41 || k - i > 40) return false;
  stamp.time = sec * 1000 + d1 * 100 + d2 * 10 + d3;
  stamp.serial = serial;
  stamp.interpreted = false;
  stamp.end = k + 1;
  return true;
}

/**
 * Reads `SEC.MS:SERIAL)` (or ausearch -i's `MM/DD/YY HH:MM:SS.mmm:SERIAL)`, read as UTC since
 * the zone is not printed; or the seed's serial-less `SEC)`) starting at `i`.
 */
export function readStamp(line: string, i: number): Stamp | undefined {
  const close = line.indexOf(')', i);
  if (close === -1 || close - i > 40) return undefined;
  const colon = line.lastIndexOf(':', close);
  let serial: number | undefined;
  let timeEnd = close;
  if (colon > i) {
    const s = allDigits(line, colon + 1, close) ? parseIntAt(line, colon + 1, close) : undefined;
    if (s !== undefined) {
      serial = s;
      timeEnd = colon;
    }
  }
  const slash = line.indexOf('/', i);
  if (slash !== -1 && slash < timeEnd) {
    const time = readDate(line.slice(i, timeEnd));
    if (time === undefined) return undefined;
    return { time, serial, interpreted: true, end: close + 1 };
  }
  const sec = parseIntAt(line, i, timeEnd);
  if (sec === undefined || sec < 0) return undefined;
  let j = i;
  while (j < timeEnd && line.charCodeAt(j) !== 46) j++;
  if (!allDigits(line, i, j)) return undefined;
  let ms = 0;
  if (j < timeEnd) {
    // Fraction: milliseconds as auditd prints them; longer fractions are cut, not rounded.
    let scale = 100;
    for (let k = j + 1; k < timeEnd; k++) {
      const d = line.charCodeAt(k) - 48;
      if (d < 0 || d > 9) return undefined;
      ms += d * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  return { time: sec * 1000 + ms, serial, interpreted: false, end: close + 1 };
}

function allDigits(line: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let k = from; k < to; k++) {
    const d = line.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** `11/28/26 08:18:04.639` (or a 4-digit year) → epoch ms, as UTC. */
function readDate(text: string): number | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2,4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (m === null) return undefined;
  let year = Number(m[3]);
  if (year < 100) year += 2000;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  return Date.UTC(year, Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}
