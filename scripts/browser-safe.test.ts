import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations (scripts/ is not a TypeScript project)
import { nodeOnlyReason } from './browser-safe.mjs';
import { fixtureRepos } from './fixture-repo.js';

const fixture = fixtureRepos('browser-safe');

const manifest = (exports: Record<string, unknown>) =>
  JSON.stringify({ name: '@faultline/test-support', private: true, exports });

/** A private test-support package with a /browser entry, and `files` over it. */
const testSupport = {
  'packages/test-support/package.json': manifest({
    '.': { '@faultline/source': './src/index.ts', default: './dist/index.js' },
    './browser': { '@faultline/source': './src/browser.ts', default: './dist/browser.js' },
  }),
  'packages/test-support/src/index.ts': "export * from './browser.js';\n",
  'packages/test-support/src/browser.ts': "export { deferred } from './deferred.js';\n",
  'packages/test-support/src/deferred.ts': 'export function deferred() {}\n',
};

/** Why a test importing `specifier` cannot run outside Node, over test-support and `files`. */
function reasonFor(specifier: string, files: Record<string, string> = {}): string | undefined {
  const test = 'packages/a/src/a.test.ts';
  const root = fixture({
    ...testSupport,
    ...files,
    [test]: `import { deferred } from '${specifier}';\n`,
  });
  return nodeOnlyReason(join(root, test), root);
}

describe('browser-safe: @faultline/test-support', () => {
  it('the bare package is Node-only; its /browser entry is allowed', () => {
    expect(reasonFor('@faultline/test-support')).toBe('imports @faultline/test-support');
    expect(reasonFor('@faultline/test-support/browser')).toBeUndefined();
  });

  it('a Node built-in reached under /browser still leaves the test out, naming the path', () => {
    const files = { 'packages/test-support/src/deferred.ts': "import 'node:timers';\n" };
    expect(reasonFor('@faultline/test-support/browser', files)).toBe(
      'imports node:timers (via packages/test-support/src/browser.ts → packages/test-support/src/deferred.ts)',
    );
  });

  it('/browser without a "@faultline/source" export is not allowed unread', () => {
    const files = {
      'packages/test-support/package.json': manifest({
        '.': { '@faultline/source': './src/index.ts' },
      }),
    };
    expect(reasonFor('@faultline/test-support/browser', files)).toBe(
      'imports @faultline/test-support/browser, whose "@faultline/source" export is missing',
    );
  });
});

describe('browser-safe: this repository', () => {
  it('@faultline/test-support/browser reaches no Node built-in and no Node-only package', () => {
    const entry = new URL('../packages/test-support/src/browser.ts', import.meta.url);
    expect(nodeOnlyReason(entry.pathname)).toBeUndefined();
  });
});
