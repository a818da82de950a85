import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// One self-contained ESM file: @syscan/core is bundled from source (the `@syscan/source`
// condition) so the bin never depends on core's dist having been built first.
export default defineConfig({
  entry: ['src/bin.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  noExternal: ['@syscan/core'],
  outExtension: () => ({ js: '.mjs' }),
  // Bundled CommonJS dependencies (core's yaml) call require('process'): give the ESM bundle a require.
  banner: {
    js: "import { createRequire as __syscanRequire } from 'node:module'; const require = __syscanRequire(import.meta.url);",
  },
  define: { SYSCAN_VERSION: JSON.stringify(version) },
  esbuildOptions(o) {
    o.conditions = ['@syscan/source'];
  },
});
