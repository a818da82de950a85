import type { Writable } from 'node:stream';
import { printable } from '../report/style.js';

/**
 * A one-line progress bar on stderr, drawn only on a TTY (never into a log or a pipe), at
 * most ten times a second so a fast reader is not slowed by its own drawing.
 */
export class Progress {
  readonly #stream: Writable & { columns?: number };
  readonly #enabled: boolean;
  readonly #tty: boolean;
  #total: number | undefined;
  #done = 0;
  #label = '';
  #lastDraw = 0;
  #drawn = false;
  readonly #start = Date.now();

  constructor(stream: Writable & { isTTY?: boolean; columns?: number }, enabled: boolean) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#enabled = enabled && this.#tty;
  }

  /** A one-line hint for a person at the terminal (never written into a log or a pipe). */
  hint(text: string): void {
    if (this.#tty) this.#stream.write(`syscan: ${printable(text, 300)}\n`);
  }

  /** Starts a new input of `total` bytes (undefined for a pipe). */
  begin(label: string, total: number | undefined): void {
    this.#label = label;
    this.#total = total;
    this.#done = 0;
  }

  add(bytes: number): void {
    if (!this.#enabled) return;
    this.#done += bytes;
    const now = Date.now();
    if (now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#draw(now);
  }

  /** Removes the bar so that whatever follows on stderr starts on a clean line. */
  clear(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const rate = `${(this.#done / 1e6 / seconds).toFixed(0)} MB/s`;
    const width = Math.max(20, Math.min(this.#stream.columns || 80, 120));
    let line: string;
    if (this.#total && this.#total > 0) {
      const ratio = Math.min(this.#done / this.#total, 1);
      const barWidth = width >= 100 ? 30 : 16;
      const filled = Math.round(ratio * barWidth);
      line = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${mb(this.#done)}/${mb(this.#total)} ${rate}`;
    } else {
      line = `${mb(this.#done)} read, ${rate}`;
    }
    // The file's base name, escaped (a file name can hold ESC or bidi controls too).
    const label = printable(this.#label.slice(this.#label.lastIndexOf('/') + 1), 20);
    this.#stream.write(`\r\x1b[K${`${label} ${line}`.slice(0, width - 1)}`);
    this.#drawn = true;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
