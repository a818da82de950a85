import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tests run the built bin, as users do. Build it when it is missing or older than any
 * source it bundles (cli and core src); `npm test` at the root builds first anyway.
 */
const pkg = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(pkg, 'dist', 'bin.mjs');

function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const built = existsSync(bin) ? statSync(bin).mtimeMs : 0;
  const sources = Math.max(
    newest(join(pkg, 'src')),
    newest(join(pkg, '..', 'core', 'src')),
    statSync(join(pkg, 'tsup.config.ts')).mtimeMs,
  );
  if (built >= sources) return;
  const tsup = join(pkg, '..', '..', 'node_modules', '.bin', 'tsup');
  const result = spawnSync(tsup, [], { cwd: pkg, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`building the syscan bin failed:\n${result.stdout}\n${result.stderr}`);
}
