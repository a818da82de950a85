import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@syscan/source'] },
  ssr: { resolve: { conditions: ['@syscan/source'] } },
  // Files run one at a time: each spawns real strace processes on a shared 2-core machine.
  test: {
    name: 'sandbox-runner',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    fileParallelism: false,
  },
});
