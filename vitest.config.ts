import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import './vitest.polyfills.js';

// Tests import workspace packages through the "@faultline/source" export condition, so they run
// against the TypeScript sources without a build step. Child processes spawned by tests use the
// built `dist/` (the test command runs `tsc -b` first).
const conditions = ['@faultline/source'];
const packages = readdirSync(new URL('./packages', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

export default defineConfig({
  // Vite's own defaults plus ours. Never list 'import' here: Vitest hands the SSR conditions to
  // its workers as Node `--conditions`, and a CommonJS `require` of a dual package (Express's
  // router requiring is-promise, pg) would then load the package's ESM file.
  resolve: { conditions: [...conditions, 'module', 'node', 'development|production'] },
  ssr: {
    resolve: {
      conditions: [...conditions, 'node', 'development|production'],
      externalConditions: conditions,
    },
  },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['src/**/*.test.ts'] },
      })),
      {
        extends: true as const,
        test: {
          name: 'examples',
          root: 'examples',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
      {
        // Tests of the repository's own scripts (scripts/check-repo.mjs, …).
        extends: true as const,
        test: { name: 'scripts', root: 'scripts', include: ['**/*.test.ts'] },
      },
      {
        extends: true as const,
        test: {
          name: 'docs',
          root: 'docs',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
    ],
    // Builds the workspace once (tsc -b) for the tests that spawn Node on the built dist/.
    globalSetup: [
      fileURLToPath(new URL('./packages/test-support/src/global-setup.ts', import.meta.url)),
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // An unhandled rejection anywhere fails the run (Vitest's default; stated here on purpose).
    dangerouslyIgnoreUnhandledErrors: false,
    passWithNoTests: false,
  },
});
