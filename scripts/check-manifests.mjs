// What every published package must have, checked for each one found under packages/ (so a
// package added later is held to the same rules without editing this file). Run by `pnpm check`.
//
//   node scripts/check-manifests.mjs          list the problems, exit 1 if any
//   node scripts/check-manifests.mjs --fix    also fill in what is derived from the root
//                                             (repository, homepage, bugs, license, author,
//                                             type, engines, publishConfig, LICENSE, CHANGELOG)
//
// The rules are the list in CONTRIBUTING.md, "A new package".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishablePackages, repoRoot, workspacePackages } from './workspace.mjs';

/** The fields every package takes from the root manifest, as they must read in `pkg`. */
export function derivedFields(rootManifest, dir) {
  const web = rootManifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  return {
    homepage: `${web}/tree/main/${dir}#readme`,
    bugs: rootManifest.bugs,
    repository: { ...rootManifest.repository, directory: dir },
    license: rootManifest.license,
    author: rootManifest.author,
    type: 'module',
    engines: rootManifest.engines,
    publishConfig: { access: 'public' },
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Problems of one publishable package (strings naming the package directory). */
export function manifestProblems(pkg, context) {
  const { dir, path, manifest: m } = pkg;
  const problems = [];
  const fail = (message) => problems.push(`${dir}: ${message}`);
  const expectedName = basename(dir) === 'faultline' ? 'faultline' : `@faultline/${basename(dir)}`;
  if (m.name !== expectedName)
    fail(`"name" is ${JSON.stringify(m.name)}, expected "${expectedName}"`);
  if (typeof m.version !== 'string' || !/^\d+\.\d+\.\d+(?:-[\w.]+)?$/.test(m.version)) {
    fail('"version" is not a semantic version');
  }
  if (typeof m.description !== 'string' || m.description.length < 10) {
    fail('"description": one sentence saying what problem the package solves');
  }
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) fail('"keywords" is missing');
  for (const [field, value] of Object.entries(derivedFields(context.rootManifest, dir))) {
    if (!same(m[field], value)) {
      fail(`"${field}" must be ${JSON.stringify(value)} (node scripts/check-manifests.mjs --fix)`);
    }
  }
  if (m.sideEffects === undefined) {
    fail('"sideEffects" is missing (false, or the list of files with side effects)');
  }
  const exportsMap = m.exports;
  if (exportsMap === null || typeof exportsMap !== 'object' || exportsMap['.'] === undefined) {
    fail('"exports" must map "." (and every public subpath)');
  } else {
    if (exportsMap['./package.json'] !== './package.json') {
      fail('"exports" must include "./package.json": "./package.json"');
    }
    for (const [subpath, target] of Object.entries(exportsMap)) {
      if (subpath === './package.json') continue;
      // Data files (a JSON Schema, …) are exported as themselves.
      if (typeof target === 'string' && target.endsWith('.json')) continue;
      const keys = target !== null && typeof target === 'object' ? Object.keys(target) : [];
      const types = keys.indexOf('types');
      const fallback = keys.indexOf('default');
      if (types < 0 || fallback < 0 || types > fallback) {
        fail(
          `exports["${subpath}"] needs "types" then "default" (TypeScript reads the first match)`,
        );
      } else if (!/^\.\/dist\/.+\.d\.ts$/.test(target.types)) {
        fail(`exports["${subpath}"].types must point into ./dist/`);
      } else if (!/^\.\/dist\/.+\.js$/.test(target.default)) {
        fail(`exports["${subpath}"].default must point into ./dist/`);
      }
    }
    const main = exportsMap['.'];
    if (main?.types !== undefined && (m.types !== main.types || m.main !== main.default)) {
      fail('"main" and "types" must repeat exports["."] (for tools that ignore "exports")');
    }
  }
  if (!Array.isArray(m.files) || !m.files.includes('dist') || !m.files.includes('CHANGELOG.md')) {
    fail('"files" must list "dist" and "CHANGELOG.md" (README and LICENSE are always packed)');
  }
  for (const kind of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(m[kind] ?? {})) {
      const local = context.byName.get(name);
      if (local !== undefined && local.manifest.private === true) {
        fail(`${kind} names the private package ${name}, which is never published`);
      }
      if (local !== undefined && kind === 'dependencies' && range !== 'workspace:*') {
        fail(`${kind}: "${name}" must be "workspace:*" (pnpm writes the version on publish)`);
      }
      if (/^(?:file|link|portal):/.test(String(range))) fail(`${kind}: "${name}" is ${range}`);
    }
  }
  const license = join(path, 'LICENSE');
  if (!existsSync(license) || readFileSync(license, 'utf8') !== context.rootLicense) {
    fail('LICENSE must be a copy of the root LICENSE (--fix copies it)');
  }
  if (!existsSync(join(path, 'README.md'))) {
    fail('README.md is missing (the problem, a 10-line example, options and defaults, reference)');
  }
  const changelog = join(path, 'CHANGELOG.md');
  if (!existsSync(changelog) || !readFileSync(changelog, 'utf8').startsWith(`# ${m.name}\n`)) {
    fail(`CHANGELOG.md must start with "# ${m.name}" (--fix creates it; Changesets fills it)`);
  }
  if (!context.tsconfigReferences.has(dir)) fail('missing from the root tsconfig.json references');
  if (!context.readme.includes(`](${dir})`)) {
    fail(`missing from the README's package table (a row linking ](${dir}))`);
  }
  return problems;
}

function context(root) {
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  return {
    rootManifest,
    rootLicense: readFileSync(join(root, 'LICENSE'), 'utf8'),
    readme: readFileSync(join(root, 'README.md'), 'utf8'),
    tsconfigReferences: new Set((tsconfig.references ?? []).map((ref) => ref.path)),
    byName: new Map(workspacePackages(root).map((pkg) => [pkg.manifest.name, pkg])),
  };
}

export function checkManifests(root = repoRoot) {
  const ctx = context(root);
  return publishablePackages(root).flatMap((pkg) => manifestProblems(pkg, ctx));
}

/** Writes the derived fields, LICENSE and a first CHANGELOG.md where they are missing or stale. */
export function fixManifests(root = repoRoot) {
  const ctx = context(root);
  for (const { dir, path, manifest } of publishablePackages(root)) {
    const fixed = { ...manifest, ...derivedFields(ctx.rootManifest, dir) };
    if (!same(fixed, manifest)) {
      writeFileSync(join(path, 'package.json'), `${JSON.stringify(fixed, null, 2)}\n`);
    }
    writeFileSync(join(path, 'LICENSE'), ctx.rootLicense);
    const changelog = join(path, 'CHANGELOG.md');
    if (!existsSync(changelog)) writeFileSync(changelog, `# ${manifest.name}\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--fix')) fixManifests();
  const problems = checkManifests();
  if (problems.length > 0) {
    console.error(`check-manifests: ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  ${problem}`);
    console.error('The rules: CONTRIBUTING.md, "A new package".');
    process.exit(1);
  }
  console.log(`check-manifests: ${publishablePackages().length} publishable packages, complete`);
}
