import type { Readable } from 'node:stream';

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

/**
 * Waits for streams to end, at most `graceMs` (a process that escaped may hold them open),
 * then destroys them.
 */
export async function drainStreams(
  streams: Array<Readable | null | undefined>,
  graceMs: number,
): Promise<void> {
  const open = streams.filter((s): s is Readable => s != null && !s.readableEnded);
  if (open.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const ended = open.map(
    (s) =>
      new Promise<void>((r) => {
        s.once('end', r);
        s.once('close', r);
      }),
  );
  await Promise.race([Promise.all(ended), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  for (const s of open) s.destroy();
}
