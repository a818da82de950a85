import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared corpus lives beside the checkout (`../shared/corpus`) and is never copied into
 * the repo. `SYSCAN_SHARED` points elsewhere; in a user's own clone it is absent and the
 * tests that need it skip with this message.
 */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const sharedDir = process.env.SYSCAN_SHARED ?? join(repoRoot, '..', 'shared');
export const corpusDir = join(sharedDir, 'corpus');
export const hasCorpus = existsSync(corpusDir);
export const corpusSkipReason = `corpus not found at ${corpusDir} (set SYSCAN_SHARED to the shared/ folder); corpus tests skipped`;

if (!hasCorpus) console.warn(`[syscan] ${corpusSkipReason}`);

/** Every regular file under `corpus/<sub>`, recursively, as [path relative to the sub folder, absolute path]. */
export function corpusFiles(sub: string): Array<[string, string]> {
  const base = join(corpusDir, sub);
  if (!existsSync(base)) return [];
  const out: Array<[string, string]> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push([relative(base, full), full]);
    }
  };
  walk(base);
  return out;
}
