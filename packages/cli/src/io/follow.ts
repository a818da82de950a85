import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileError } from '../errors.js';
import { READ_CHUNK_BYTES } from './input.js';

export type FollowReset = 'rotated' | 'truncated' | 'rewritten';

/** Bytes from the file's start kept to see it rewritten in place (a line of audit or strace). */
const HEAD_BYTES = 64;

export interface FollowOptions {
  path: string;
  /** Poll period in ms: how often size and inode are checked once the end is reached. */
  intervalMs: number;
  signal: AbortSignal;
  /** New bytes, in order. The buffer is reused: consume it before returning. */
  onChunk(chunk: Uint8Array): Promise<void> | void;
  /**
   * The file was replaced (logrotate: rename + create), truncated (copytruncate, or a wiped
   * log), or rewritten in place (its first bytes changed: cut and written past where it was
   * read before the next poll, which its size alone cannot show). `bytesRead`: how much of
   * the old content was read.
   */
  onReset(reason: FollowReset, bytesRead: number): Promise<void> | void;
  /** Called once, when what the file held at the start has been read. */
  onCaughtUp?(): void;
}

/**
 * `tail -F` for a growing log such as audit.log: reads what is there, then polls. Polling
 * fstat + the path's inode (rather than fs.watch) works on every filesystem, sees both
 * rename-and-create and copytruncate rotation, and costs two stat calls and a 64-byte read
 * per period.
 * Returns when `signal` aborts, after reading everything written until then.
 */
export async function follow(options: FollowOptions): Promise<void> {
  const { path, signal } = options;
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  let handle = await openFile(path);
  let inode = (await handle.stat()).ino;
  let position = 0;
  // The file's first bytes as read, to compare with what it starts with at each poll.
  let head = new Uint8Array(0);
  const probe = new Uint8Array(HEAD_BYTES);

  const drain = async (): Promise<void> => {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      if (position < HEAD_BYTES) {
        const more = buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES - position));
        const grown = new Uint8Array(head.length + more.length);
        grown.set(head);
        grown.set(more, head.length);
        head = grown;
      }
      position += bytesRead;
      await options.onChunk(buffer.subarray(0, bytesRead));
    }
  };
  const restart = async (reason: FollowReset): Promise<void> => {
    const read = position;
    position = 0;
    head = new Uint8Array(0);
    await options.onReset(reason, read);
  };
  /** True when the file no longer starts with the bytes read from it. */
  const rewritten = async (): Promise<boolean> => {
    if (head.length === 0) return false;
    const { bytesRead } = await handle.read(probe, 0, head.length, 0);
    if (bytesRead < head.length) return true;
    for (let i = 0; i < head.length; i++) if (probe[i] !== head[i]) return true;
    return false;
  };

  /** What happened to the file since it was last read; undefined when it only grew (or not at all). */
  const changed = async (): Promise<FollowReset | undefined> => {
    if ((await handle.stat()).size < position) return 'truncated';
    if (await rewritten()) return 'rewritten';
    // A missing path is a rotation in progress (renamed, not yet recreated): keep the old file.
    const named = await stat(path).catch(() => undefined);
    return named && named.ino !== inode ? 'rotated' : undefined;
  };

  let caughtUp = false;
  try {
    for (;;) {
      await drain();
      if (!caughtUp) {
        caughtUp = true;
        options.onCaughtUp?.();
      }
      if (signal.aborted) return;
      await sleep(options.intervalMs, undefined, { signal }).catch(() => undefined);
      // Checked before reading on from the old position: in a file cut or rewritten since, the
      // bytes there are the middle of other lines. (After an abort too: the loop drains, then returns.)
      const change = await changed();
      if (change === 'rotated') {
        await drain(); // whatever was appended to the old file before the rename
        await handle.close();
        handle = await openFile(path);
        inode = (await handle.stat()).ino;
      }
      if (change !== undefined) await restart(change);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw fileError('read', path, error);
  }
}
