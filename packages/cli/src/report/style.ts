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
 * Makes untrusted text (a traced program's output, an audit value) safe to print on a
 * terminal: control characters, including ESC, become `\xNN`, so a trace cannot move the
 * cursor, recolour or retitle the reader's terminal.
 */
export function printable(text: string, max = 200): string {
  let out = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) =>
    c === '\n' ? '⏎' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (out.length > max) out = `${out.slice(0, max - 1)}…`;
  return out;
}

/** 1234567 → `1,234,567`. */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}
