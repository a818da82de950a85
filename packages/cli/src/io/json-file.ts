import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileError, inputError } from '../errors.js';

/** A config or baseline is a few KiB; refuse to slurp a trace passed by mistake. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** Reads a JSON object from `path`; every failure is one line naming the path. */
export async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > MAX_JSON_BYTES) throw inputError(`${what} '${path}' is too large (${st.size} bytes)`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { name?: string }).name === 'SyscanError') throw error;
    throw fileError('read', path, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw inputError(`${what} '${path}' is not valid JSON: ${detail}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw inputError(
      `${what} '${path}' must hold a JSON object, not ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Writes `text` to `path` atomically (temp file + rename): a failed run never leaves half a baseline. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw fileError('write', path, error);
  }
}
