// What a user gets from the published package: `import` and `require` of the built dist,
// with the shape the issue fixes (`import { RedisStore } from '@syscan/redis-store'`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(pkgDir, 'dist/index.cjs')) && existsSync(join(pkgDir, 'dist/index.mjs'));
if (!built)
  console.warn('[syscan] packages/redis-store/dist not built (run `pnpm build`); export tests skipped');

describe.skipIf(!built)('@syscan/redis-store as installed', () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'syscan-redis-exports-'));
    mkdirSync(join(app, 'node_modules/@syscan'), { recursive: true });
    symlinkSync(pkgDir, join(app, 'node_modules/@syscan/redis-store'), 'dir');
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));
  const run = (args: string[]): string =>
    execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
  // Constructing connects in the background: a URL nobody listens on, disconnected at once.
  const probe =
    "const s = new RedisStore({ url: 'redis://127.0.0.1:1', timeoutMs: 50 }); console.log(typeof s.update, s.prefix); s.client.disconnect();";

  it('import', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import { RedisStore } from '@syscan/redis-store'; ${probe}`,
    ]);
    expect(out.trim()).toBe('function syscan:');
  });

  it('require()', () => {
    const out = run(['-e', `const { RedisStore } = require('@syscan/redis-store'); ${probe}`]);
    expect(out.trim()).toBe('function syscan:');
  });
});
