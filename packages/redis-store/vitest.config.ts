import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@syscan/source'] },
  ssr: { resolve: { conditions: ['@syscan/source'] } },
  test: { name: 'redis-store', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
