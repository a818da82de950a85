import type { ProcessInfo } from '../context/types.js';

/** The program a process runs, as a sequence model keys it: exe, else comm, else the caller's name. */
export function programOf(process: ProcessInfo | undefined, fallback: string): string {
  return process?.exe ?? process?.comm ?? fallback;
}
