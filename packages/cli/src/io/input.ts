import { closeSync, constants, createReadStream, openSync, readSync } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createParser, type ParsedRecord, type ParseOptions, type ParseStats } from '@syscan/core';
import { fileError, usageError } from '../errors.js';
import type { Progress } from './progress.js';

/**
 * Read size: large enough that per-chunk costs vanish, small enough that the records parsed
 * from one chunk (one batch, alive together) stay few. V8 lets the old generation grow to a
 * multiple of the live heap before a full GC, so fewer records alive at once is a lower peak
 * (1 GB audit log, rules and sequence model on: peak RSS 338–370 MB at 64 KiB, 328 at
 * 32 KiB, 318–323 at 16 KiB; 256 KiB was ~50 MB above 64 KiB; CPU time within noise).
 */
export const READ_CHUNK_BYTES = 32 * 1024;

/** How reports name standard input. */
export const STDIN_LABEL = '<stdin>';

/** One input: a file path, or `-` for stdin. */
export interface InputSpec {
  /** `-` for stdin. */
  path: string;
  /** How reports name it (`<stdin>` for `-`). */
  label: string;
  /** Size in bytes for regular files (drives the progress bar). */
  size: number | undefined;
}

/**
 * Checks every path before any output is written, so that a typo in the third file fails
 * with one line and exit 2 instead of after two files of output. No file → stdin.
 */
export async function resolveInputs(paths: readonly string[]): Promise<InputSpec[]> {
  const list = paths.length === 0 ? ['-'] : paths;
  if (list.filter((p) => p === '-').length > 1) throw usageError("stdin ('-') can be read only once");
  const specs: InputSpec[] = [];
  for (const path of list) {
    if (path === '-') {
      specs.push({ path, label: STDIN_LABEL, size: undefined });
      continue;
    }
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      // A regular file is opened to prove it is readable. A FIFO is only checked: opening it
      // would wait for its writer (strace -o FIFO) and closing it again would kill that writer
      // with SIGPIPE.
      if (st.isFile()) await (await open(path, 'r')).close();
      else await access(path, constants.R_OK);
      specs.push({ path, label: path, size: st.isFile() ? st.size : undefined });
    } catch (error) {
      throw fileError('read', path, error);
    }
  }
  return specs;
}

/** Bytes read from a regular file between two turns of the event loop. */
const YIELD_EVERY_BYTES = 8 * 1024 * 1024;

/** The bytes of one input, in large chunks. */
export function openInput(spec: InputSpec, stdin: Readable): AsyncIterable<Uint8Array> {
  if (spec.path === '-') return stdin as AsyncIterable<Uint8Array>;
  if (spec.size !== undefined) return readRegularFile(spec.path);
  // A FIFO or a device: a stream, since a read may wait for its writer.
  return createReadStream(spec.path, { highWaterMark: READ_CHUNK_BYTES });
}

/**
 * A regular file's bytes, read synchronously. A read stream costs a thread-pool hop, a
 * promise and a turn of the event loop per chunk: on the 210 MB audit corpus `analyze` took
 * 4.2 s with one and 3.0 s this way (medians of 5 alternating runs), with the same output. The loop still turns every 8 MiB,
 * so timers and signal handlers run during a long file.
 */
async function* readRegularFile(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  const fd = openSync(path, 'r');
  try {
    let sinceTurn = 0;
    for (;;) {
      // A new buffer per chunk, as a stream gives: a consumer may keep the one it was handed.
      const chunk = Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return;
      yield read === chunk.length ? chunk : chunk.subarray(0, read);
      sinceTurn += read;
      if (sinceTurn >= YIELD_EVERY_BYTES) {
        sinceTurn = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of one input in large chunks, with progress, the terminal hint, and read
 * errors turned into one-line input errors. The caller parses them (a session, a parser).
 */
export async function* readChunks(
  spec: InputSpec,
  stdin: Readable,
  progress?: Progress,
): AsyncGenerator<Uint8Array, void, undefined> {
  progress?.begin(spec.label, spec.size);
  if (spec.path === '-' && (stdin as { isTTY?: boolean }).isTTY === true) {
    // Otherwise a bare `syscan analyze` at a prompt looks hung.
    progress?.hint('reading a trace from the terminal; end it with Ctrl-D, or pass a file or a pipe');
  }
  try {
    for await (const chunk of openInput(spec, stdin)) {
      progress?.add(chunk.length);
      yield chunk;
    }
  } catch (error) {
    // Only system errors (EIO, EISDIR…) are the input's fault; anything else is a bug.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw fileError('read', spec.label, error);
    throw error;
  }
}

/**
 * Parses one input as it streams: yields the records each chunk completes, as one batch
 * (one array per chunk, so per-record async overhead stays out of the hot path), and
 * returns the parser's counters. Memory stays flat: a chunk at a time.
 */
export async function* readBatches(
  spec: InputSpec,
  stdin: Readable,
  options: ParseOptions,
  progress?: Progress,
): AsyncGenerator<ParsedRecord[], ParseStats, undefined> {
  const parser = createParser({ ...options, ...inputParseOptions(spec) });
  for await (const chunk of readChunks(spec, stdin, progress)) {
    const records = parser.push(chunk);
    if (records.length > 0) yield records;
  }
  const rest = parser.end();
  if (rest.length > 0) yield rest;
  return { ...parser.stats };
}

/**
 * Parse options one input implies: `strace -ff -o PREFIX` writes `PREFIX.PID` files whose
 * lines carry no pid, so the pid comes from the name (the reader still prefers a pid a line shows).
 */
export function inputParseOptions(spec: InputSpec): ParseOptions {
  const m = /\.(\d{1,7})$/.exec(spec.path);
  return m === null ? {} : { stracePid: Number(m[1]) };
}
