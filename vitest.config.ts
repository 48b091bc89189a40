import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fixture tools (a static busybox, `inspect`, docker-registry) come in
    // through intact once per user cache: test/setup/toolchain.ts.
    globalSetup: ['test/setup/global.ts'],
    reporters: ['default', './test/setup/skip-summary.ts'],
    // Tests spawn the CLI and local servers; two cores here, so keep workers modest.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
