import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds build/adcs.wasm and dist/ once (both cached) before any test file runs: the CLI tests spawn
    // bin/lockstep.js, which runs dist/, and the flight tests load the reference flight software.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
