import { closeSync, constants, createReadStream, openSync, readSync, type Stats } from 'node:fs';
import { access, open, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  createParser,
  isSyscanError,
  type ParsedRecord,
  type ParseOptions,
  type ParseStats,
} from '@syscan/core';
import { fileError, inputError, usageError } from '../errors.js';
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
  /** A regular file that is gzip data (a rotated `audit.log.1.gz`): read through gunzip. */
  gzip?: boolean | undefined;
}

/** Magic bytes of compressed formats: gzip is read, the others are named in the error. */
const GZIP_MAGIC = [0x1f, 0x8b];
const OTHER_COMPRESSIONS: ReadonlyArray<[name: string, magic: readonly number[], tool: string]> = [
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd], 'zstdcat'],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xzcat'],
];

const startsWith = (head: Uint8Array, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((b, i) => head[i] === b);

/** Files a command reads from the directories it is given; past it it fails rather than grow without bound. */
export const MAX_DIRECTORY_FILES = 100_000;

/**
 * Checks every path before any output is written, so that a typo in the third file fails
 * with one line and exit 2 instead of after two files of output. No file → stdin. A
 * directory stands for every file beneath it, in path order (a data set's folders:
 * `syscan learn ADFA-LD/Training_Data_Master`); one with no file in it is an error, not an
 * input of nothing.
 */
export async function resolveInputs(
  paths: readonly string[],
  maxDirectoryFiles = MAX_DIRECTORY_FILES,
): Promise<InputSpec[]> {
  const list = paths.length === 0 ? ['-'] : paths;
  if (list.filter((p) => p === '-').length > 1) throw usageError("stdin ('-') can be read only once");
  const specs: InputSpec[] = [];
  for (const path of list) {
    if (path === '-') {
      specs.push({ path, label: STDIN_LABEL, size: undefined });
      continue;
    }
    let st: Stats;
    try {
      st = await stat(path);
    } catch (error) {
      throw fileError('read', path, error);
    }
    if (!st.isDirectory()) {
      specs.push(await inputSpec(path, st));
      continue;
    }
    const files = await filesUnder(path, st, maxDirectoryFiles, specs.length);
    if (files.length === 0) throw inputError(`'${path}' is a directory with no file in it: nothing to read`);
    for (const file of files) specs.push(await inputSpec(file.path, file.stat));
  }
  return specs;
}

/** One named file (or FIFO, or device): checked readable, gzip found out by its first bytes. */
async function inputSpec(path: string, st: Stats): Promise<InputSpec> {
  // A regular file is opened to prove it is readable (and its first bytes read). A FIFO is
  // only checked: opening it would wait for its writer (strace -o FIFO) and closing it again
  // would kill that writer with SIGPIPE.
  let head: Uint8Array = new Uint8Array(0);
  try {
    if (st.isFile()) {
      const handle = await open(path, 'r');
      try {
        const { buffer, bytesRead } = await handle.read(Buffer.alloc(8), 0, 8, 0);
        head = buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    } else await access(path, constants.R_OK);
  } catch (error) {
    throw fileError('read', path, error);
  }
  // Compressed: read as text it would only be "no telemetry". Gzip is read through
  // gunzip (its size is not the text's: no progress bar); the others are named.
  const other = OTHER_COMPRESSIONS.find(([, magic]) => startsWith(head, magic));
  if (other !== undefined)
    throw inputError(
      `'${path}' is ${other[0]}-compressed: syscan reads gzip itself, not ${other[0]}; decompress it first (${other[2]} '${path}' | syscan … -)`,
    );
  if (startsWith(head, GZIP_MAGIC)) return { path, label: path, size: undefined, gzip: true };
  return { path, label: path, size: st.isFile() ? st.size : undefined };
}

/**
 * The regular files beneath `dir` (symbolic links followed, each directory once), sorted by
 * path. Anything else beneath it (a FIFO, a socket, a device) is an error rather than skipped:
 * a file left out is telemetry not read. Past `limit` inputs in all (`before` of them named
 * already) it fails; entries are read one at a time, so a huge directory fails at the cap
 * instead of first listing all of it.
 */
async function filesUnder(
  dir: string,
  st: Stats,
  limit: number,
  before: number,
): Promise<Array<{ path: string; stat: Stats }>> {
  const out: Array<{ path: string; stat: Stats }> = [];
  const visited = new Set<string>();
  const walk = async (at: string, atStat: Stats): Promise<void> => {
    const id = `${atStat.dev}:${atStat.ino}`;
    if (visited.has(id)) return;
    visited.add(id);
    try {
      for await (const entry of await opendir(at)) {
        const path = join(at, entry.name);
        const entryStat = await stat(path).catch((error: unknown) => {
          throw fileError('read', path, error);
        });
        if (entryStat.isDirectory()) await walk(path, entryStat);
        else if (entryStat.isFile()) {
          if (before + out.length >= limit)
            throw inputError(
              `more than ${limit.toLocaleString('en-US')} files to read with '${dir}': name fewer directories or files at a time`,
            );
          out.push({ path, stat: entryStat });
        } else
          throw inputError(
            `cannot read '${path}' in directory '${dir}': not a regular file (a FIFO, socket or device); name it on its own to read it`,
          );
      }
    } catch (error) {
      // The entry's own error names the entry; one reading the listing names the directory.
      throw isSyscanError(error) ? error : fileError('read', at, error);
    }
  };
  await walk(dir, st);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Bytes read from a regular file between two turns of the event loop. */
const YIELD_EVERY_BYTES = 8 * 1024 * 1024;

/** The bytes of one input, in large chunks. */
export function openInput(spec: InputSpec, stdin: Readable): AsyncIterable<Uint8Array> {
  if (spec.path === '-') return stdin as AsyncIterable<Uint8Array>;
  if (spec.gzip === true) {
    // Concatenated members (logrotate's, `cat a.gz b.gz`) are read on; data cut short or
    // corrupt fails the read (Z_BUF_ERROR, Z_DATA_ERROR): never a silently shorter trace.
    const gunzip = createGunzip({ chunkSize: READ_CHUNK_BYTES });
    const file = createReadStream(spec.path, { highWaterMark: READ_CHUNK_BYTES });
    file.on('error', (error) => gunzip.destroy(error));
    return file.pipe(gunzip);
  }
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
    if (spec.gzip === true && typeof code === 'string' && code.startsWith('Z_'))
      throw inputError(
        `cannot read '${spec.label}': gzip data ${code === 'Z_BUF_ERROR' ? 'cut short' : 'corrupt'} (${(error as Error).message}): the trace after that point is unknown`,
        error,
      );
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
