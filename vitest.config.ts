import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn the CLI and local servers; two cores here, so keep workers modest.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
