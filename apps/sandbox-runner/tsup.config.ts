import { defineConfig } from 'tsup';

// One self-contained ESM file: the workspace packages are bundled from source (the
// `@syscan/source` condition) so the bin never depends on their dist being built first;
// express and commander stay external (installed dependencies).
export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  // `serve`'s HTTP stack is imported dynamically (server/start.ts): a chunk of its own,
  // loaded only when serving, so that `exec` starts without it.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  noExternal: ['@syscan/core', '@syscan/express-middleware'],
  external: ['express', 'commander'],
  outExtension: () => ({ js: '.mjs' }),
  // Bundled CommonJS dependencies (core's yaml) call require('process'): give the ESM bundle a require.
  banner: {
    js: "import { createRequire as __syscanRequire } from 'node:module'; const require = __syscanRequire(import.meta.url);",
  },
  esbuildOptions(o) {
    o.conditions = ['@syscan/source'];
  },
});
