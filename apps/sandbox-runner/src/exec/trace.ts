/** The trace channel: a private FIFO strace writes, read in batches as it comes. */
import { spawn } from 'node:child_process';
import { close, closeSync, constants, open, openSync, read, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldToEvents } from 'node:timers/promises';
import { SyscanError } from '@syscan/core';
import { ReadPace } from './read-pace.js';

/** Bytes per read of the trace FIFO (a pipe holds 64 KiB by default). */
export const TRACE_READ_BYTES = 64 * 1024;

export interface TraceFifo {
  dir: string;
  fifo: string;
  /** Removes the directory (idempotent). */
  remove: () => Promise<void>;
}

/**
 * A private directory holding the trace FIFO; removed as soon as strace has opened it.
 * `alongside(dir)` runs while mkfifo does (each is a process to start, so they overlap);
 * when it throws, the directory is removed and the error passed on.
 */
export async function makeTraceFifo(alongside?: (dir: string) => void): Promise<TraceFifo> {
  const dir = await mkdtemp(join(tmpdir(), 'syscan-sandbox-'));
  const fifo = join(dir, 'trace');
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await rm(dir, { recursive: true, force: true });
  };
  const made = mkfifo(fifo);
  try {
    alongside?.(dir);
  } catch (error) {
    await made;
    await remove();
    throw error;
  }
  const failed = await made;
  if (failed !== undefined) {
    await remove();
    throw new SyscanError('ERR_SYSCAN_SPAWN', `cannot create the trace FIFO (mkfifo: ${failed})`, {
      reason: 'strace_failed',
    });
  }
  return { dir, fifo, remove };
}

/** Node has no mkfifo(); coreutils' is everywhere strace is. Resolves to why it failed, or undefined. */
function mkfifo(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('mkfifo', ['-m', '600', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 1000) stderr += s;
    });
    child.once('error', (error) => resolve(error.message));
    child.once('close', (code, signal) =>
      resolve(code === 0 ? undefined : stderr.trim() || `exit ${code ?? signal}`),
    );
  });
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
  // A second, non-blocking read end of the same pipe, opened while the path still exists:
  // what piles up while the trace flows is taken from it on the main thread (see readAll).
  let drainFd: number;
  try {
    drainFd = openSync(trace.fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    close(fd, () => {});
    end.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return end;
  }
  onOpen();
  // strace holds it open now: the path can go, nothing else can open the trace by name.
  await trace.remove();
  await readAll(fd, drainFd, end, onChunk);
  return end;
}

/**
 * Plain reads with a pause between them, rather than a socket that wakes on every write:
 * strace writes a line at a time (two writes a call), and a wake-up per line (a context
 * switch, in a VM an inter-processor interrupt) cost more than tracing itself. Pausing lets
 * lines pile up in the pipe (64 KiB); strace only waits if it fills. How long to pause is
 * {@link ReadPace}'s: until about half the pipe has piled up, at most 20 ms.
 *
 * While the trace is idle, a blocking read on the libuv thread pool waits for it (no
 * polling). Once it flows, what piled up during each pause is read at once from the
 * non-blocking end on the main thread: a thread-pool read costs two thread wake-ups and
 * an event-loop wake-up per chunk, as much as judging the chunk's lines. A full read is
 * followed by another without pausing, after the event loop had its turn (timeouts,
 * aborts and the tracer watchdog run however fast strace writes).
 */
async function readAll(
  fd: number,
  drainFd: number,
  end: TraceReadEnd,
  onChunk: (bytes: Uint8Array) => void,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(TRACE_READ_BYTES);
  const pace = new ReadPace();
  // The consumer decodes the bytes before returning, so the buffer can be reused.
  const deliver = (n: number): void => {
    end.chunks++;
    onChunk(buffer.subarray(0, n));
  };
  try {
    for (;;) {
      const first = await new Promise<number>((resolve, reject) =>
        read(fd, buffer, 0, buffer.length, null, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      );
      if (first === 0) return; // every writer (strace) has closed the FIFO
      deliver(first);
      let last = first;
      for (;;) {
        const wait = pace.next(last);
        if (wait > 0) await sleep(wait);
        else await yieldToEvents();
        const n = readNow(drainFd, buffer);
        if (n === 0) return;
        if (n === undefined) break; // nothing piled up: wait on the blocking end again
        deliver(n);
        last = n;
      }
    }
  } catch (error) {
    end.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  } finally {
    close(fd, () => {});
    close(drainFd, () => {});
  }
}

/** One read of the non-blocking end: bytes read, 0 at the end of the trace, undefined when the pipe is empty. */
function readNow(fd: number, buffer: Buffer): number | undefined {
  try {
    return readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return undefined;
    throw error;
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
