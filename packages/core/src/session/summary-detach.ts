/**
 * Copies of what the summary keeps past the chunk it came from. An alert's strings (its
 * sample, paths, message, the process's argv, a rule's output) are slices or concatenations
 * of slices of the read chunk, and a V8 slice keeps its whole parent alive: 1 000 kept
 * alerts and each group's first and last held ~25 MiB of 64 KiB chunks on a 1 GB audit log.
 */
import { detach } from '../detach.js';

/** Deeper than any alert (details of a sequence alert are the deepest, at 4). */
const MAX_DEPTH = 8;

/**
 * A deep copy of a JSON-ready value (an alert) whose strings share no memory with the input.
 * `seen` maps objects already copied (a process snapshot shared by many alerts) to their copy.
 */
export function detachValue<T>(value: T, seen: Map<object, unknown>, depth = 0): T {
  if (typeof value === 'string') return detach(value) as T;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  const known = seen.get(value);
  if (known !== undefined) return known as T;
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((v) => detachValue(v, seen, depth + 1));
  } else {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value))
      out[key] = detachValue((value as Record<string, unknown>)[key], seen, depth + 1);
    copy = out;
  }
  // Immutable facts (process snapshots) stay immutable.
  if (Object.isFrozen(value)) Object.freeze(copy);
  seen.set(value, copy);
  return copy as T;
}
