import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Traces `argv` with the real strace (-f, plus `flags`), as a user would, into `dir/name`, run in `dir`. */
export function straceInto(
  dir: string,
  name: string,
  argv: readonly string[],
  flags: readonly string[] = [],
): string {
  const out = join(dir, name);
  const r = spawnSync('strace', ['-f', '-o', out, ...flags, '--', ...argv], { encoding: 'utf8', cwd: dir });
  if (!existsSync(out)) throw new Error(`strace failed: ${r.stderr}`);
  return out;
}
