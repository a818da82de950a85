import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from the published package: `import` and `require` of both entries on
// Node, and types for both module systems. Reads the built dist (`npm test` builds first).
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(pkgDir, 'dist/index.cjs')) && existsSync(join(pkgDir, 'dist/node.d.cts'));
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
if (!built) console.warn('[syscan] packages/core/dist not built (run `pnpm build`); export tests skipped');

describe.skipIf(!built)('@syscan/core as installed', () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'syscan-exports-'));
    mkdirSync(join(app, 'node_modules/@syscan'), { recursive: true });
    symlinkSync(pkgDir, join(app, 'node_modules/@syscan/core'), 'dir');
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const run = (args: string[]): string =>
    execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8' });

  it('require() gives both entries', () => {
    const out = run([
      '-e',
      "const c = require('@syscan/core'); const n = require('@syscan/core/node');" +
        "console.log(c.parseSyscallEvents('close(3) = 0')[0].syscall, typeof c.SyscallAnomalyDetector, typeof n.createFastUtf8Decoder)",
    ]);
    expect(out.trim()).toBe('close function function');
  });

  it('import gives both entries', () => {
    const out = run([
      '--input-type=module',
      '-e',
      "import { parseSyscallEvents, SyscallAnomalyDetector } from '@syscan/core'; import { createFastUtf8Decoder } from '@syscan/core/node';" +
        "console.log(parseSyscallEvents('close(3) = 0')[0].syscall, typeof SyscallAnomalyDetector, typeof createFastUtf8Decoder)",
    ]);
    expect(out.trim()).toBe('close function function');
  });

  it('has types for CommonJS and ESM consumers (NodeNext resolution)', () => {
    const use = `
      const events = parseSyscallEvents('close(3) = 0');
      const name: string = events[0]!.syscall;
      const verdict = new SyscallAnomalyDetector({ maxAlertsPerMinute: 3 }).analyze('close(3) = 0');
      const kind: 'clean' | 'alert' | 'suppressed' = verdict.kind;
      const decoder = createFastUtf8Decoder();
      export { name, kind, decoder };
    `;
    writeFileSync(
      join(app, 'consumer.cts'),
      `import { parseSyscallEvents, SyscallAnomalyDetector } from '@syscan/core';\nimport { createFastUtf8Decoder } from '@syscan/core/node';\n${use}`,
    );
    writeFileSync(
      join(app, 'consumer.mts'),
      `import { parseSyscallEvents, SyscallAnomalyDetector } from '@syscan/core';\nimport { createFastUtf8Decoder } from '@syscan/core/node';\n${use}`,
    );
    const args = [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    args.push(
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      join(pkgDir, '../../node_modules/@types'),
    );
    args.push('consumer.cts', 'consumer.mts');
    expect(() => run(args)).not.toThrow();
  }, 60_000);
});
