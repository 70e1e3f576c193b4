import { buildWorkspace } from './build.js';

/**
 * Vitest global setup (root `vitest.config.ts`): builds the workspace once before any test file
 * runs, for the tests that spawn Node on the built `dist/`.
 */
export default function setup(): void {
  buildWorkspace();
}
