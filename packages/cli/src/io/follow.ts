import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileError } from '../errors.js';
import { READ_CHUNK_BYTES } from './input.js';

export interface FollowOptions {
  path: string;
  /** Poll period in ms: how often size and inode are checked once the end is reached. */
  intervalMs: number;
  signal: AbortSignal;
  /** New bytes, in order. The buffer is reused: consume it before returning. */
  onChunk(chunk: Uint8Array): Promise<void> | void;
  /** The file was replaced (logrotate: rename + create) or truncated (copytruncate). */
  onReset(reason: 'rotated' | 'truncated'): Promise<void> | void;
  /** Called once, when what the file held at the start has been read. */
  onCaughtUp?(): void;
}

/**
 * `tail -F` for a growing log such as audit.log: reads what is there, then polls. Polling
 * fstat + the path's inode (rather than fs.watch) works on every filesystem, sees both
 * rename-and-create and copytruncate rotation, and costs two stat calls per period.
 * Returns when `signal` aborts, after reading everything written until then.
 */
export async function follow(options: FollowOptions): Promise<void> {
  const { path, signal } = options;
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  let handle = await openFile(path);
  let inode = (await handle.stat()).ino;
  let position = 0;

  const drain = async (): Promise<void> => {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      await options.onChunk(buffer.subarray(0, bytesRead));
    }
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
      const current = await handle.stat();
      if (current.size < position) {
        position = 0;
        await options.onReset('truncated');
        continue;
      }
      // A missing path is a rotation in progress (renamed, not yet recreated): keep the old file.
      const named = await stat(path).catch(() => undefined);
      if (named && named.ino !== inode) {
        await drain(); // whatever was appended to the old file before the rename
        await handle.close();
        handle = await openFile(path);
        inode = (await handle.stat()).ino;
        position = 0;
        await options.onReset('rotated');
        continue;
      }
      await sleep(options.intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) {
        await drain();
        return;
      }
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
