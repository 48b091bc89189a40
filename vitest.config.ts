import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fixture tools (a static busybox, `inspect`, docker-registry) come in
    // through intact once per user cache: test/setup/toolchain.ts.
    globalSetup: ['test/setup/global.ts'],
    reporters: ['default', './test/setup/skip-summary.ts'],
    // Tests spawn the CLI and local servers and mostly wait on them: one worker
    // per core, not vitest's default of one fewer (a single worker on 2 cores).
    // Measured on 2 cores: 293 s with one worker, 241 s with two.
    pool: 'forks',
    maxWorkers: availableParallelism(),
    testTimeout: 20_000,
  },
});
