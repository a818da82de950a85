/** Output of a stream kept up to a byte cap; what arrives past the cap is counted, not kept. */
export interface CapturedOutput {
  /** The kept bytes, decoded as UTF-8 (invalid sequences replaced). */
  text: string;
  /** Bytes the command wrote in total. */
  bytes: number;
  /** True when `bytes` exceeded the cap and `text` holds only the first part. */
  truncated: boolean;
}

export class OutputCapture {
  readonly #cap: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #total = 0;

  constructor(cap: number) {
    this.#cap = cap;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    const room = this.#cap - this.#kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  result(): CapturedOutput {
    return {
      text: Buffer.concat(this.#chunks, this.#kept).toString('utf8'),
      bytes: this.#total,
      truncated: this.#total > this.#kept,
    };
  }
}
