/** The trace channel: a private FIFO strace writes, read in batches as it comes. */
import { spawnSync } from 'node:child_process';
import { close, closeSync, constants, open, openSync, read } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyscanError } from '@syscan/core';

/** Bytes per read of the trace FIFO (a pipe holds 64 KiB by default). */
export const TRACE_READ_BYTES = 64 * 1024;
/** Pause after a small read so that lines accumulate; bounds how late an alert is seen. */
const TRACE_BATCH_WAIT_MS = 2;

export interface TraceFifo {
  dir: string;
  fifo: string;
  /** Removes the directory (idempotent). */
  remove: () => Promise<void>;
}

/** A private directory holding the trace FIFO; removed as soon as strace has opened it. */
export async function makeTraceFifo(): Promise<TraceFifo> {
  const dir = await mkdtemp(join(tmpdir(), 'syscan-sandbox-'));
  const fifo = join(dir, 'trace');
  // Node has no mkfifo(); coreutils' is everywhere strace is.
  const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
  if (made.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    const why = made.error ? made.error.message : made.stderr.trim();
    throw new SyscanError('ERR_SYSCAN_SPAWN', `cannot create the trace FIFO (mkfifo: ${why})`, {
      reason: 'strace_failed',
    });
  }
  let removed = false;
  return {
    dir,
    fifo,
    remove: async () => {
      if (removed) return;
      removed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TraceReadEnd {
  /** Reads of the FIFO that returned data. */
  chunks: number;
  /** True once strace had opened the FIFO (false: it died or failed before). */
  opened: boolean;
  /** Set when reading failed (EIO and the like) before every writer had closed the FIFO. */
  error?: string | undefined;
}

/**
 * Opens the FIFO (blocks until strace opens its end), then hands every chunk to `onChunk`
 * until every writer has closed it. `onOpen` runs once strace holds it (the path can go).
 */
export async function readTrace(
  trace: TraceFifo,
  exited: Promise<unknown>,
  onOpen: () => void,
  onChunk: (bytes: Uint8Array) => void,
): Promise<TraceReadEnd> {
  const end: TraceReadEnd = { chunks: 0, opened: false };
  // If strace dies before opening the FIFO, our blocking open would wait forever: open the
  // write end ourselves to release it. That succeeds only once our reader waits (ENXIO
  // before: the exit may be seen before our open has started), so retry until it got in.
  exited.then(() => {
    const release = (): void => {
      if (end.opened) return;
      try {
        closeSync(openSync(trace.fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENXIO') setTimeout(release, 5);
        // ENOENT: the reader got in and removed the path.
      }
    };
    release();
  });
  const fd = await new Promise<number>((resolve, reject) =>
    open(trace.fifo, constants.O_RDONLY, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
  end.opened = true;
  onOpen();
  // strace holds it open now: the path can go, nothing else can open the trace by name.
  await trace.remove();
  await readAll(fd, end, onChunk);
  return end;
}

/**
 * Plain reads with a short pause after a small one, rather than a socket that wakes on
 * every write: strace writes a line at a time, and a wake-up per line (a context switch, in
 * a VM an inter-processor interrupt) cost more than tracing itself. Pausing lets lines pile
 * up in the pipe (64 KiB); strace only waits if it fills.
 */
async function readAll(fd: number, end: TraceReadEnd, onChunk: (bytes: Uint8Array) => void): Promise<void> {
  const buffer = Buffer.allocUnsafe(TRACE_READ_BYTES);
  try {
    for (;;) {
      const n = await new Promise<number>((resolve, reject) =>
        read(fd, buffer, 0, buffer.length, null, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      );
      if (n === 0) break; // every writer (strace) has closed the FIFO
      end.chunks++;
      // The consumer decodes the bytes before returning, so the buffer can be reused.
      onChunk(buffer.subarray(0, n));
      if (n < TRACE_READ_BYTES / 4) await sleep(TRACE_BATCH_WAIT_MS);
    }
  } catch (error) {
    end.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  } finally {
    close(fd, () => {});
  }
}

/**
 * Counts trace lines that strace cannot have written: with `-f -o FILE` every line it
 * writes starts with the pid. Anything else (a flood of bytes, a forged fragment written
 * into the FIFO) is text the parser may pass over as not telemetry at all, so the runner
 * counts it itself: such a line is a loss, never ignored. One `indexOf` per line.
 */
export class ForeignLineCounter {
  /** Lines not starting with a digit. */
  count = 0;
  /** The next byte starts a line (the previous chunk ended with a newline). */
  #atLineStart = true;

  scan(bytes: Uint8Array): number {
    const before = this.count;
    let at = 0;
    const n = bytes.length;
    while (at < n) {
      if (this.#atLineStart) {
        const c = bytes[at]!;
        if (c < 48 || c > 57) this.count++;
      }
      const nl = bytes.indexOf(10, at);
      if (nl === -1) {
        this.#atLineStart = false;
        break;
      }
      at = nl + 1;
      this.#atLineStart = true;
    }
    return this.count - before;
  }
}
