// Repository invariants that no compiler or linter checks, run by `pnpm test` (and so by CI):
//
// 1. No compiled JavaScript under packages/*/src. A stale `index.js` next to `index.ts` is
//    resolved before the `.ts` by Vitest (and shipped in the tarball, since `files` lists `src`),
//    so the tests silently test the stale copy. Hand-written `.mjs`/`.cjs` fixtures are allowed;
//    `.js`, `.jsx`, source maps and a `.d.ts` shadowing a `.ts` of the same name are not.
// 2. No import cycle inside a package, between the TypeScript files of its src/ (relative
//    imports, `import type` included: a type-only cycle still means two modules that cannot be
//    read, or moved, one without the other).
//
// Packages are discovered (every directory of packages/, plus benchmarks/ and examples/*), so a
// package added later is covered without editing this file.
//
// Usage: node scripts/check-repo.mjs [root]   (exit code 1 and a list of problems on failure)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const COMPILED = /\.(?:js|jsx|js\.map|d\.ts\.map)$/;

/**
 * Cycles that existed when this check was written, each with the issue that removes it. A cycle
 * listed here is reported as a note, not an error; an entry whose cycle is gone is an error, so
 * the exemption cannot outlive the cycle (delete the entry when you break the cycle). Never add
 * an entry for a new cycle: break it (move the shared types or helpers to their own module).
 */
export const KNOWN_CYCLES = [];

/** Directories holding workspace packages with a src/: packages/*, benchmarks, examples/*. */
export function packageDirs(root) {
  const dirs = [];
  const children = (parent) => {
    const path = join(root, parent);
    if (!existsSync(path)) return [];
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'node_modules')
      .map((entry) => join(parent, entry.name));
  };
  for (const dir of [...children('packages'), 'benchmarks', ...children('examples')]) {
    if (existsSync(join(root, dir, 'src'))) dirs.push(dir);
  }
  return dirs;
}

/** Files under `dir` (relative to root): git's tracked files in a clone, else the file system. */
function listFiles(root, dir) {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--', dir], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .split('\0')
      .filter((file) => file !== '')
      .map((file) => file.split('/').join(sep));
  } catch {
    // Not a git checkout (an unpacked tarball): every file counts.
    const files = [];
    const walk = (rel) => {
      for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
        if (entry.name === 'node_modules') continue;
        const path = join(rel, entry.name);
        if (entry.isDirectory()) walk(path);
        else files.push(path);
      }
    };
    if (existsSync(join(root, dir))) walk(dir);
    return files;
  }
}

/** Compiled JavaScript (or its maps, or a shadowing `.d.ts`) under packages/*\/src. */
export function compiledFilesInSrc(root) {
  const problems = [];
  for (const dir of packageDirs(root).filter((d) => d.startsWith(`packages${sep}`))) {
    const files = listFiles(root, join(dir, 'src'));
    const present = new Set(files);
    for (const file of files) {
      if (COMPILED.test(file)) {
        problems.push(`${file}: compiled JavaScript in src/ (built output belongs in dist/)`);
      } else if (file.endsWith('.d.ts') && present.has(file.replace(/\.d\.ts$/, '.ts'))) {
        problems.push(
          `${file}: a declaration file that shadows ${file.replace(/\.d\.ts$/, '.ts')}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Relative imports of one TypeScript file: `import`, `import type`, `export … from`,
 * `import x = require()`. Dynamic `import()` is left out: it does not take part in loading order.
 */
function relativeImports(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found = [];
  for (const statement of source.statements) {
    let specifier;
    let typeOnly = false;
    if (ts.isImportDeclaration(statement)) {
      specifier = statement.moduleSpecifier;
      const clause = statement.importClause;
      typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) {
      specifier = statement.moduleSpecifier;
      typeOnly =
        statement.isTypeOnly ||
        (statement.exportClause !== undefined &&
          ts.isNamedExports(statement.exportClause) &&
          statement.exportClause.elements.length > 0 &&
          statement.exportClause.elements.every((element) => element.isTypeOnly));
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference)
    ) {
      specifier = statement.moduleReference.expression;
      typeOnly = statement.isTypeOnly;
    }
    if (specifier !== undefined && ts.isStringLiteral(specifier)) {
      if (specifier.text.startsWith('.')) found.push({ specifier: specifier.text, typeOnly });
    }
  }
  return found;
}

/** The .ts file a relative specifier names (NodeNext style: './x.js' is './x.ts'). */
function resolveRelative(fromFile, specifier) {
  const target = resolve(dirname(fromFile), specifier);
  const stem = target.replace(/\.(?:js|mjs|cjs|ts|mts|cts|jsx|tsx)$/, '');
  for (const candidate of [
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    join(target, 'index.ts'),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Strongly connected components of size > 1 (or a self-import), by Tarjan's algorithm. */
function cyclicComponents(graph) {
  let index = 0;
  const indices = new Map();
  const lowlink = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    indices.set(node, index);
    lowlink.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const { to } of graph.get(node) ?? []) {
      if (!indices.has(to)) {
        visit(to);
        lowlink.set(node, Math.min(lowlink.get(node), lowlink.get(to)));
      } else if (onStack.has(to)) {
        lowlink.set(node, Math.min(lowlink.get(node), indices.get(to)));
      }
    }
    if (lowlink.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).some(({ to }) => to === node);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return components;
}

/** One concrete cycle through `start` inside `members` (breadth-first, so the shortest). */
function cycleThrough(graph, start, members) {
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const edge of graph.get(node) ?? []) {
      if (!members.has(edge.to)) continue;
      if (edge.to === start) {
        const path = [edge];
        for (let at = node; at !== start; at = previous.get(at).from)
          path.unshift(previous.get(at));
        return path;
      }
      if (!previous.has(edge.to)) {
        previous.set(edge.to, { ...edge, from: node });
        queue.push(edge.to);
      }
    }
  }
  return [];
}

/**
 * Import cycles between the src/ files of each package: `{ problems, notes }`, one message per
 * cycle found (`notes` for the ones in `known`).
 */
export function importCycles(root, known = KNOWN_CYCLES) {
  const problems = [];
  const notes = [];
  const seen = new Set();
  for (const dir of packageDirs(root)) {
    const files = [];
    const walk = (path) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules') walk(child);
        } else if (/\.(?:ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
          files.push(child);
        }
      }
    };
    walk(join(root, dir, 'src'));
    const graph = new Map();
    for (const file of files) {
      const edges = [];
      for (const { specifier, typeOnly } of relativeImports(file)) {
        const to = resolveRelative(file, specifier);
        if (to !== undefined) edges.push({ from: file, to, typeOnly });
      }
      graph.set(file, edges);
    }
    for (const component of cyclicComponents(graph)) {
      const members = new Set(component);
      const start = [...component].sort()[0];
      const path = cycleThrough(graph, start, members);
      const steps = path
        .map((edge) => `${edge.typeOnly ? ' -(type)-> ' : ' -> '}${relative(root, edge.to)}`)
        .join('');
      const message =
        `import cycle in ${dir}: ${relative(root, start)}${steps}` +
        (component.length > path.length ? ` (${component.length} files in the cycle)` : '');
      const names = component.map((file) => relative(root, file).split(sep).join('/')).sort();
      const entry = known.find(
        (cycle) =>
          cycle.files.length === names.length && cycle.files.every((f) => names.includes(f)),
      );
      if (entry === undefined) {
        problems.push(message);
      } else {
        seen.add(entry);
        notes.push(`${message} [known: ${entry.issue}]`);
      }
    }
  }
  for (const entry of known) {
    if (!seen.has(entry)) {
      problems.push(
        `the known import cycle ${entry.files.join(' <-> ')} is gone: delete its entry from KNOWN_CYCLES in scripts/check-repo.mjs`,
      );
    }
  }
  return { problems, notes };
}

export function checkRepo(root, known = KNOWN_CYCLES) {
  const cycles = importCycles(root, known);
  return { problems: [...compiledFilesInSrc(root), ...cycles.problems], notes: cycles.notes };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const { problems, notes } = checkRepo(root);
  for (const note of notes) console.warn(`check-repo: note: ${note}`);
  if (problems.length > 0) {
    console.error(`check-repo: ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  console.log(
    `check-repo: ${packageDirs(root).length} packages, no compiled JS in src/, no import cycle${notes.length > 0 ? ` beyond ${notes.length} known` : ''}`,
  );
}
