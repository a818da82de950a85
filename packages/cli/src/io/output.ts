import type { Writable } from 'node:stream';

/**
 * Writes to stdout (or a file) with backpressure. A reader that goes away (`syscan parse
 * big.log | head`) closes the pipe: writes then stop quietly and `closed` tells the
 * producer to stop reading, instead of an EPIPE stack trace.
 */
export class Output {
  readonly #stream: Writable;
  #closed = false;
  #error: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.#closed = true;
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') this.#error = error;
    });
  }

  /** True once the reader has gone away: stop producing. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `text`, waiting for the stream to drain when its buffer is full. */
  async write(text: string): Promise<void> {
    if (this.#closed) return this.#check();
    if (text.length === 0) return;
    if (!this.#stream.write(text)) await this.#drain();
    return this.#check();
  }

  /** Flushes: resolves once everything written has been handed to the OS. */
  async end(): Promise<void> {
    if (this.#closed) return this.#check();
    // stdout must not be ended (Node owns it); waiting for an empty write is enough.
    await new Promise<void>((resolve) => {
      if (this.#stream.write('', () => resolve())) return;
      this.#stream.once('error', () => resolve());
    });
    return this.#check();
  }

  #drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('error', done);
        this.#stream.off('close', done);
        resolve();
      };
      this.#stream.on('drain', done);
      this.#stream.on('error', done);
      this.#stream.on('close', done);
    });
  }

  #check(): void {
    if (this.#error) throw this.#error;
  }
}
