import { defineConfig } from 'vitest/config';

// One run over every package (`npm test`), so CI reads a single summary.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
