import type { Severity } from '@syscan/core';

/**
 * Colour only for a human at a terminal: `NO_COLOR` (any value) turns it off, `FORCE_COLOR`
 * turns it on (`0`/`false` off), as https://no-color.org and most CLIs agree.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  severity(severity: Severity, s: string): string;
}

const sgr =
  (open: string, close: string) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`;

export function createStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string): string => s;
    return { bold: id, dim: id, red: id, green: id, yellow: id, severity: (_sev, s) => s };
  }
  const bold = sgr('1', '22');
  const red = sgr('31', '39');
  const yellow = sgr('33', '39');
  const magenta = sgr('35', '39');
  const cyan = sgr('36', '39');
  return {
    bold,
    dim: sgr('2', '22'),
    red,
    green: sgr('32', '39'),
    yellow,
    severity: (severity, s) => {
      switch (severity) {
        case 'critical':
          return bold(magenta(s));
        case 'high':
          return bold(red(s));
        case 'medium':
          return yellow(s);
        case 'low':
          return cyan(s);
        default:
          return s;
      }
    },
  };
}

/**
 * What a terminal must not be handed raw: C0 and C1 controls (ESC moves the cursor,
 * recolours, retitles; U+009B is an 8-bit CSI), DEL, invisible format characters (bidi
 * embeddings, overrides and isolates U+202A–E/U+2066–9, marks U+200E/F/U+061C, zero-width
 * characters, BOM, tag characters) that make text read differently from what it is
 * (Trojan Source, CVE-2021-42574), line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * The same set inside JSON text, minus what `JSON.stringify` already escapes (C0, lone
 * surrogates) and the newlines and indents of the document itself.
 */
const UNSAFE_IN_JSON = /[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu;

/** `\xNN` below U+0100, `\u{NNNN}` above: visible, unambiguous, and short. */
function escapeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  if (c === '\n') return '⏎';
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Makes untrusted text (a file name, a traced program's output, an audit value) safe to
 * print on a terminal: every character of {@link UNSAFE} becomes a visible escape, so a
 * trace can neither drive the reader's terminal nor reorder what it shows. Cut to `max`
 * characters (never inside a surrogate pair).
 */
export function printable(text: string, max = 200): string {
  UNSAFE.lastIndex = 0;
  let out = UNSAFE.test(text) ? text.replace(UNSAFE, escapeChar) : text;
  if (out.length > max) {
    let cut = max - 1;
    const code = out.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    out = `${out.slice(0, cut)}…`;
  }
  return out;
}

/**
 * JSON text (one document or NDJSON line) with every character a terminal could act on
 * written as a `\uXXXX` escape. The parsed value is unchanged; only what a person sees
 * when the document lands on a terminal is safe.
 */
export function terminalSafeJson(json: string): string {
  UNSAFE_IN_JSON.lastIndex = 0;
  if (!UNSAFE_IN_JSON.test(json)) return json;
  return json.replace(UNSAFE_IN_JSON, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/** 1234567 → `1,234,567`. */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}
