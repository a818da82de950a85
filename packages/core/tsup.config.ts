import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  // The node entry needs Node's types; the purity test keeps them out of everything else.
  dts: { compilerOptions: { types: ['node'] } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.cjs' }),
});
