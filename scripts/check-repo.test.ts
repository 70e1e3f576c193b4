import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations (scripts/ is not a TypeScript project)
import { checkRepo, compiledFilesInSrc, importCycles } from './check-repo.mjs';
import { fixtureRepos } from './fixture-repo.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fixture = fixtureRepos('check-repo');

describe('this repository', () => {
  it('has no compiled JavaScript under packages/*/src (Vitest would load it instead of the .ts)', () => {
    expect(compiledFilesInSrc(repoRoot)).toEqual([]);
  });

  it('has no import cycle inside any package (beyond the listed, issue-tracked ones)', () => {
    expect(importCycles(repoRoot).problems).toEqual([]);
  });
});

describe('check-repo: compiled files in src/', () => {
  it('reports a .js next to its .ts, source maps and a shadowing .d.ts; allows .mjs fixtures', () => {
    const root = fixture({
      'packages/a/src/index.ts': 'export const a = 1;\n',
      'packages/a/src/index.js': 'export const a = 0;\n',
      'packages/a/src/index.js.map': '{}',
      'packages/a/src/util.ts': 'export {};\n',
      'packages/a/src/util.d.ts': 'export {};\n',
      'packages/a/src/ambient.d.ts': 'declare const x: number;\n',
      'packages/a/src/testing/app.mjs': 'console.log(1);\n',
      'packages/a/dist/index.js': 'export const a = 1;\n',
    });
    const reported = compiledFilesInSrc(root).map((line: string) => line.split(':')[0]);
    expect(reported.sort()).toEqual([
      'packages/a/src/index.js',
      'packages/a/src/index.js.map',
      'packages/a/src/util.d.ts',
    ]);
  });

  it('covers a package added later without any configuration', () => {
    const root = fixture({ 'packages/new-one/src/index.js': '' });
    expect(checkRepo(root, []).problems).toHaveLength(1);
  });
});

describe('check-repo: import cycles', () => {
  it('reports a runtime cycle with its path, and labels type-only edges', () => {
    const root = fixture({
      'packages/a/src/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'packages/a/src/b.ts': "export { c as b } from './c.js';\n",
      'packages/a/src/c.ts': "import type { A } from './a.js';\nexport const c: A | 1 = 1;\n",
      'packages/a/src/leaf.ts': "import { a } from './a.js';\nexport const leaf = a;\n",
    });
    const { problems } = importCycles(root, []);
    expect(problems).toEqual([
      'import cycle in packages/a: packages/a/src/a.ts -> packages/a/src/b.ts -> packages/a/src/c.ts -(type)-> packages/a/src/a.ts',
    ]);
  });

  it('finds no cycle in a diamond, across packages, or through a dynamic import()', () => {
    const root = fixture({
      'packages/a/src/index.ts': "export * from './x.js';\nexport * from './y.js';\n",
      'packages/a/src/x.ts': "import { z } from './z.js';\nexport const x = z;\n",
      'packages/a/src/y.ts': "import { z } from './z.js';\nexport const y = z;\n",
      'packages/a/src/z.ts':
        "export const z = 1;\nexport const load = () => import('./index.js');\n",
      'packages/b/src/index.ts': "export * from '../../a/src/index.js';\n",
    });
    expect(importCycles(root, []).problems).toEqual([]);
  });

  it('reports a self-import and a cycle through a directory index', () => {
    const root = fixture({
      'packages/a/src/self.ts': "import './self.js';\n",
      'packages/a/src/dir/index.ts': "import '../user.js';\n",
      'packages/a/src/user.ts': "import './dir/index.js';\n",
    });
    expect(importCycles(root, []).problems).toHaveLength(2);
  });

  it('a known cycle is a note; a known cycle that no longer exists is an error', () => {
    const files = {
      'packages/a/src/a.ts': "import './b.js';\n",
      'packages/a/src/b.ts': "import './a.js';\n",
    };
    const known = [{ files: ['packages/a/src/a.ts', 'packages/a/src/b.ts'], issue: 'test' }];
    const listed = importCycles(fixture(files), known);
    expect(listed.problems).toEqual([]);
    expect(listed.notes).toHaveLength(1);
    const fixed = importCycles(
      fixture({ 'packages/a/src/a.ts': '', 'packages/a/src/b.ts': '' }),
      known,
    );
    expect(fixed.problems).toEqual([expect.stringMatching(/is gone: delete its entry/)]);
  });
});
