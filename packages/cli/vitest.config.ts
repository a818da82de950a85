import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@syscan/source'] },
  ssr: { resolve: { conditions: ['@syscan/source'] } },
  test: {
    name: 'cli',
    include: ['test/**/*.test.ts'],
    // The tests run the built bin; build it first when src is newer than dist.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
