import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations (scripts/ is not a TypeScript project)
import { nodeOnlyReason } from './browser-safe.mjs';

const fixtures: string[] = [];

afterEach(() => {
  for (const dir of fixtures.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway repository with a private test-support package and the given files. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'faultline-browser-safe-'));
  fixtures.push(root);
  const all: Record<string, string> = {
    'packages/test-support/package.json': JSON.stringify({
      name: '@faultline/test-support',
      private: true,
      exports: {
        '.': { '@faultline/source': './src/index.ts', default: './dist/index.js' },
        './browser': { '@faultline/source': './src/browser.ts', default: './dist/browser.js' },
      },
    }),
    'packages/test-support/src/index.ts': "export * from './browser.js';\n",
    'packages/test-support/src/browser.ts': "export { deferred } from './deferred.js';\n",
    'packages/test-support/src/deferred.ts': 'export function deferred() {}\n',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('browser-safe: @faultline/test-support', () => {
  it('the bare package is Node-only; its /browser entry is allowed', () => {
    const root = fixture({
      'packages/a/src/bare.test.ts': "import { deferred } from '@faultline/test-support';\n",
      'packages/a/src/browser.test.ts':
        "import { deferred } from '@faultline/test-support/browser';\n",
    });
    expect(nodeOnlyReason(join(root, 'packages/a/src/bare.test.ts'), root)).toBe(
      'imports @faultline/test-support',
    );
    expect(nodeOnlyReason(join(root, 'packages/a/src/browser.test.ts'), root)).toBeUndefined();
  });

  it('a Node built-in reached under /browser still leaves the test out, naming the path', () => {
    const root = fixture({
      'packages/test-support/src/deferred.ts': "import { setTimeout } from 'node:timers';\n",
      'packages/a/src/browser.test.ts':
        "import { deferred } from '@faultline/test-support/browser';\n",
    });
    expect(nodeOnlyReason(join(root, 'packages/a/src/browser.test.ts'), root)).toBe(
      'imports node:timers (via packages/test-support/src/browser.ts → packages/test-support/src/deferred.ts)',
    );
  });

  it('/browser without a "@faultline/source" export is not allowed unread', () => {
    const root = fixture({
      'packages/test-support/package.json': JSON.stringify({
        name: '@faultline/test-support',
        exports: { '.': { '@faultline/source': './src/index.ts' } },
      }),
      'packages/a/src/browser.test.ts':
        "import { deferred } from '@faultline/test-support/browser';\n",
    });
    expect(nodeOnlyReason(join(root, 'packages/a/src/browser.test.ts'), root)).toBe(
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
