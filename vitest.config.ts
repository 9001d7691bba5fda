import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds build/adcs.wasm and dist/ once (both cached) before any test file runs: the CLI tests spawn
    // bin/lockstep.js, which runs dist/, and the flight tests load the reference flight software.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    // Both cores: many files mostly wait on the lockstep processes they spawn (vitest's default leaves one
    // core idle on a two-core machine).
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
