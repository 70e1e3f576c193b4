import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Returns `fixture(files)` for the scripts' tests: a throwaway repository (a temporary directory
 * named after `name`, not a git checkout: every file counts) holding `files` (path → text),
 * removed after the test. Call it at a test file's top level, where it registers that afterEach.
 */
export function fixtureRepos(name: string): (files: Record<string, string>) => string {
  const roots: string[] = [];
  afterEach(() => {
    for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (files) => {
    const root = mkdtempSync(join(tmpdir(), `faultline-${name}-`));
    roots.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
}
