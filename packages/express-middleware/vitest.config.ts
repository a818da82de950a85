import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@syscan/source'] },
  ssr: { resolve: { conditions: ['@syscan/source'] } },
  test: { name: 'express-middleware', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
