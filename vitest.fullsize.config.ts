import { defineConfig } from 'vitest/config';

// Full-size model checks: minutes of model generation and inference, so never part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/fullsize/**/*.fullsize.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
  },
});
