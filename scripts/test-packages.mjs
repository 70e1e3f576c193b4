// The packages as users get them: packed by pnpm (workspace:* rewritten, `files` applied), then
//   1. publint on every tarball: no error, no warning;
//   2. attw (@arethetypeswrong/cli) on every tarball, `--profile esm-only`: no problem;
//   3. the pack test: the tarballs installed with npm into throwaway consumer projects outside
//      the repository, each running a smoke program:
//        esm         Node ESM: imports every entry point, runs a pipeline
//        cjs         a default CommonJS project: require() of every entry point (require(esm),
//                    Node >= 20.19), runs a pipeline
//        ts-node16   TypeScript strict, module node16, an ESM source; compiled, then run
//        ts-node20   TypeScript strict, module node20, a CommonJS source (TypeScript's model of
//                    require(esm)); compiled, then run
//        ts-bundler  TypeScript strict, moduleResolution bundler, no Node types; bundled, run
//        browser     an esbuild browser bundle of `faultline`: no `node:` import; run in
//                    headless Chromium (/usr/bin/chromium; required under CI=true)
// Packages are discovered, so a package added later is covered. Run by `pnpm test` after the
// build (`pnpm test:packages`). Needs the npm registry for the packages' third-party
// dependencies (uuid, @types/node).
//
//   node scripts/test-packages.mjs [--keep] [--no-attw]
//   (--keep leaves the temporary directory; --no-attw, while working on the consumers only)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { CHROMIUM_PATH as CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { inParallel, publishablePackages, repoRoot } from './workspace.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const inCI = process.env.CI === 'true' || process.env.CI === '1';
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`  ✗ ${message}`);
};

async function sh(command, args, options = {}) {
  try {
    return await run(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    throw new Error(`${command} ${args.join(' ')} failed (exit ${error.code}):\n${output}`);
  }
}

// --- pack ---------------------------------------------------------------------------------------

const packages = publishablePackages();
const work = mkdtempSync(join(tmpdir(), 'faultline-packages-'));
const tarballs = join(work, 'tarballs');
console.log(`test-packages: ${packages.length} packages, working in ${work}`);
await sh(
  'npx',
  [
    '-y',
    'pnpm@12.4.2',
    '--silent',
    ...packages.flatMap((pkg) => ['--filter', pkg.manifest.name]),
    'pack',
    '--pack-destination',
    tarballs,
  ],
  { cwd: repoRoot },
);
for (const pkg of packages) {
  pkg.tarball = join(
    tarballs,
    `${pkg.manifest.name.replace(/^@/, '').replace('/', '-')}-${pkg.manifest.version}.tgz`,
  );
  if (!existsSync(pkg.tarball)) throw new Error(`pnpm pack made no ${pkg.tarball}`);
}
console.log(`packed (${elapsed()})`);

// --- publint ------------------------------------------------------------------------------------

const { publint } = await import('publint');
const { formatMessage } = await import('publint/utils');
for (const pkg of packages) {
  const data = readFileSync(pkg.tarball);
  const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg: manifest } = await publint({ pack: { tarball }, level: 'suggestion' });
  for (const message of messages) {
    const text = `publint ${pkg.manifest.name}: ${message.type}: ${formatMessage(message, manifest)}`;
    if (message.type === 'suggestion') console.log(`  note: ${text}`);
    else fail(text);
  }
}
console.log(`publint: ${packages.length} packages checked (${elapsed()})`);

// --- attw ---------------------------------------------------------------------------------------

// esm-only: the packages are ESM; CommonJS loads them with require(esm) (Node >= 20.19, and
// TypeScript's `module node20`), which attw's node16-from-CJS column does not model, and
// node10 resolution (no "exports") is deprecated in TypeScript 6. Every other problem fails.
const attwBin = join(
  dirname(require.resolve('@arethetypeswrong/cli/package.json')),
  'dist',
  'index.js',
);
await inParallel(
  (process.argv.includes('--no-attw') ? [] : packages).map((pkg) => async () => {
    try {
      await sh(process.execPath, [
        attwBin,
        pkg.tarball,
        '--profile',
        'esm-only',
        '--format',
        'ascii',
      ]);
    } catch (error) {
      fail(`attw ${pkg.manifest.name}:\n${error.message}`);
    }
  }),
  2,
);
console.log(`attw: ${packages.length} packages checked (${elapsed()})`);

// --- consumers ----------------------------------------------------------------------------------

/** Entry points of a packed package: `{ specifier, types, code }` for every code subpath. */
function entryPoints(pkg) {
  return (
    Object.entries(pkg.manifest.exports)
      // Code entries only: './package.json' and data files (a JSON Schema) are not modules to run.
      .filter(([subpath, target]) => subpath !== './package.json' && typeof target === 'object')
      .map(([subpath, target]) => ({
        specifier: posix.join(pkg.manifest.name, subpath),
        types: target.types,
        code: target.default,
      }))
  );
}

/**
 * Bare module specifiers a file reaches, following its relative imports (`.d.ts` files for
 * types, `.js` files for code). An entry point that reaches an optional peer (express, pg,
 * @opentelemetry/api, …) is left out of the consumers, which do not install the peers.
 */
function reachedImports(packageDir, file) {
  const seen = new Set();
  const bare = new Set();
  const declarations = file.endsWith('.d.ts');
  const pending = [join(packageDir, file)];
  while (pending.length > 0) {
    const current = pending.pop();
    if (seen.has(current) || !existsSync(current)) continue;
    seen.add(current);
    // Without comments: a doc comment's example (`import Redis from 'ioredis'`) is no import.
    const text = readFileSync(current, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    // Types: every import; code: static imports only (a lazy import('pg') loads without pg).
    const pattern = declarations
      ? /(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g
      : /(?:\bfrom|^\s*import)\s*['"]([^'"]+)['"]/gm;
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) {
        const target = join(dirname(current), specifier);
        pending.push(declarations ? target.replace(/\.js$/, '.d.ts') : target);
      } else {
        bare.add(specifier);
      }
    }
  }
  return bare;
}

const consumers = join(work, 'consumers');
mkdirSync(consumers);
writeFileSync(
  join(consumers, 'package.json'),
  JSON.stringify({ name: 'consumers', version: '0.0.0', private: true }, null, 2),
);
const nodeTypes = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).devDependencies[
  '@types/node'
];
await sh(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...packages.map((pkg) => pkg.tarball),
    `@types/node@${nodeTypes}`,
  ],
  { cwd: consumers },
);
console.log(`installed the tarballs with npm (${elapsed()})`);

const installed = (pkg) => join(consumers, 'node_modules', pkg.manifest.name);
const allEntries = [];
const typedEntries = [];
const untyped = [];
for (const pkg of packages) {
  const peers = new Set(Object.keys(pkg.manifest.peerDependencies ?? {}));
  const needsPeer = (file) =>
    [...reachedImports(installed(pkg), file)].filter(
      (specifier) =>
        peers.has(specifier) ||
        peers.has(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    );
  for (const entry of entryPoints(pkg)) {
    const codeNeeds = needsPeer(entry.code);
    if (codeNeeds.length > 0) {
      untyped.push(`${entry.specifier} (needs ${codeNeeds.join(', ')} to load)`);
      continue;
    }
    allEntries.push(entry);
    const typeNeeds = needsPeer(entry.types);
    if (typeNeeds.length === 0) typedEntries.push(entry);
    else untyped.push(`${entry.specifier} (types need ${typeNeeds.join(', ')})`);
  }
}
/** Main entry points ('.'), the ones a bundler user imports; subpaths are Node's (node, express…). */
const isMainEntry = (entry) => packages.some((pkg) => pkg.manifest.name === entry.specifier);

// The same checks in every consumer: every entry point loads and exports something, and a
// pipeline from the umbrella retries a transient failure inside a timeout.
const smokeBody = (names) => `
const failures = [];
for (const [name, module] of Object.entries(modules)) {
  if (Object.keys(module).length === 0) failures.push(name + ' exports nothing');
}
const { pipeline, retry, timeout, circuitBreaker, consecutiveFailures, constant, idempotencyKey } = modules['faultline'];
const policy = pipeline(
  timeout(5_000),
  retry({ maxAttempts: 3, backoff: constant(0) }),
  circuitBreaker({ trip: consecutiveFailures(5) }),
);
let calls = 0;
const value = await policy.execute(async () => {
  calls += 1;
  if (calls < 2) throw new Error('transient');
  return 'ok';
});
if (value !== 'ok' || calls !== 2) failures.push('pipeline: ' + value + ' after ' + calls + ' calls');
if (idempotencyKey().length !== 36) failures.push('idempotencyKey');
report(failures, ${JSON.stringify(names.length)});
`;

const nodeReport = (
  typed = false,
) => `function report(failures${typed ? ': string[]' : ''}, count${typed ? ': number' : ''}) {
  if (failures.length > 0) { console.error(failures.join('\\n')); process.exitCode = 1; }
  else console.log('smoke ok: ' + count + ' entry points');
}`;

function esmSource(entries, { typed = false } = {}) {
  const imports = entries
    .map((entry, i) => `import * as m${i} from '${entry.specifier}';`)
    .join('\n');
  const table = entries.map((entry, i) => `  '${entry.specifier}': m${i},`).join('\n');
  const annotation = typed ? ': Record<string, any>' : '';
  return `${imports}\nconst modules${annotation} = {\n${table}\n};\n`;
}

const smokes = [];

function consumer(name, manifest, files) {
  const dir = join(consumers, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '0.0.0', private: true, ...manifest }, null, 2),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

async function smoke(name, steps) {
  try {
    const output = await steps();
    console.log(`  ✓ ${name}: ${output.trim().split('\n').at(-1)}`);
    smokes.push(name);
  } catch (error) {
    fail(`${name}: ${error.message}`);
  }
}

const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const compilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  target: 'ES2022',
  outDir: 'dist',
};

console.log('pack test:');
await smoke('esm (Node, "type": "module")', async () => {
  const dir = consumer(
    'esm',
    { type: 'module' },
    {
      'main.js': `${esmSource(allEntries)}${nodeReport()}\n${smokeBody(allEntries)}`,
    },
  );
  return (await sh(process.execPath, ['main.js'], { cwd: dir })).stdout;
});

await smoke('cjs (Node, default CommonJS project, require())', async () => {
  const requires = allEntries
    .map((entry) => `  '${entry.specifier}': require('${entry.specifier}'),`)
    .join('\n');
  const dir = consumer(
    'cjs',
    { type: 'commonjs' },
    {
      'main.js': `const modules = {\n${requires}\n};\n${nodeReport()}\n(async () => {\n${smokeBody(allEntries)}\n})();\n`,
    },
  );
  return (await sh(process.execPath, ['main.js'], { cwd: dir })).stdout;
});

await smoke('ts-node16 (TypeScript strict, module node16, ESM source)', async () => {
  const dir = consumer(
    'ts-node16',
    { type: 'module' },
    {
      'main.ts': `${esmSource(typedEntries, { typed: true })}${nodeReport(true)}\n${smokeBody(typedEntries)}`,
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'node16',
          moduleResolution: 'node16',
          types: ['node'],
        },
        files: ['main.ts'],
      }),
    },
  );
  await sh(process.execPath, [tsc, '-p', '.'], { cwd: dir });
  return (await sh(process.execPath, ['dist/main.js'], { cwd: dir })).stdout;
});

await smoke('ts-node20 (TypeScript strict, module node20, CommonJS source)', async () => {
  const imports = typedEntries
    .map((entry, i) => `import * as m${i} from '${entry.specifier}';`)
    .join('\n');
  const table = typedEntries.map((entry, i) => `  '${entry.specifier}': m${i},`).join('\n');
  const dir = consumer(
    'ts-node20',
    { type: 'commonjs' },
    {
      'main.ts': `${imports}\nconst modules: Record<string, any> = {\n${table}\n};\n${nodeReport(true)}\n(async () => {\n${smokeBody(typedEntries)}\n})();\n`,
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'node20',
          moduleResolution: 'node16',
          types: ['node'],
        },
        files: ['main.ts'],
      }),
    },
  );
  await sh(process.execPath, [tsc, '-p', '.'], { cwd: dir });
  const compiled = readFileSync(join(dir, 'dist', 'main.js'), 'utf8');
  if (!compiled.includes('require(')) throw new Error('tsc did not emit CommonJS');
  return (await sh(process.execPath, ['dist/main.js'], { cwd: dir })).stdout;
});

const esbuild = await import('esbuild');
await smoke('ts-bundler (TypeScript strict, moduleResolution bundler, no Node types)', async () => {
  const mainEntries = typedEntries.filter(isMainEntry);
  const dir = consumer(
    'ts-bundler',
    { type: 'module' },
    {
      'main.ts': `${esmSource(mainEntries, { typed: true })}declare const process: { exitCode: number };\n${nodeReport(true)}\n${smokeBody(mainEntries)}`,
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'esnext',
          moduleResolution: 'bundler',
          types: [],
          lib: ['ES2022', 'DOM'],
          noEmit: true,
        },
        files: ['main.ts'],
      }),
    },
  );
  await sh(process.execPath, [tsc, '-p', '.'], { cwd: dir });
  await esbuild.build({
    entryPoints: [join(dir, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: join(dir, 'dist', 'main.mjs'),
    logLevel: 'silent',
  });
  return (await sh(process.execPath, ['dist/main.mjs'], { cwd: dir })).stdout;
});

await smoke('browser (esbuild browser bundle of faultline, headless Chromium)', async () => {
  const dir = consumer(
    'browser',
    { type: 'module' },
    {
      'main.js': `import * as faultline from 'faultline';
const modules = { faultline };
function report(failures, count) {
  globalThis.__smoke = failures.length > 0 ? failures.join('; ') : 'smoke ok: ' + count + ' entry point';
}
${smokeBody(['faultline'])}`,
    },
  );
  const result = await esbuild.build({
    entryPoints: [join(dir, 'main.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(dir, 'dist', 'bundle.js'),
    metafile: true,
    logLevel: 'silent',
  });
  const bundle = readFileSync(join(dir, 'dist', 'bundle.js'), 'utf8');
  const nodeImports = Object.values(result.metafile.inputs)
    .flatMap((input) => input.imports)
    .filter((imported) => imported.path.startsWith('node:') || imported.external);
  if (nodeImports.length > 0 || /\bfrom\s*["']node:|import\(["']node:/.test(bundle)) {
    throw new Error(`the bundle imports ${JSON.stringify(nodeImports.map((i) => i.path))}`);
  }
  if (!existsSync(CHROMIUM)) {
    if (inCI) throw new Error(`CI=true: no Chromium at ${CHROMIUM} (.ci/run installs it)`);
    console.warn(`  ! no Chromium at ${CHROMIUM}: the bundle was built and checked, not run`);
    return `bundle built (${(bundle.length / 1024).toFixed(0)} KiB, no node: import), not run`;
  }
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setContent('<!doctype html><title>faultline</title>');
    await page.addScriptTag({ content: bundle, type: 'module' });
    const outcome = await page.waitForFunction(() => globalThis.__smoke, undefined, {
      timeout: 20_000,
    });
    const text = await outcome.jsonValue();
    if (errors.length > 0 || !String(text).startsWith('smoke ok')) {
      throw new Error(`${text} ${errors.join('; ')}`);
    }
    return `${text} (bundle ${(bundle.length / 1024).toFixed(0)} KiB, no node: import, ran in Chromium ${browser.version()})`;
  } finally {
    await browser.close();
  }
});

if (untyped.length > 0) {
  console.log(`  note: left out (their optional peers are not installed): ${untyped.join('; ')}`);
}
if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
if (failures.length > 0) {
  console.error(`test-packages: ${failures.length} failure(s) (${elapsed()})`);
  process.exit(1);
}
console.log(
  `test-packages: ${packages.length} packages: publint and attw clean; ${smokes.length} consumers passed (${elapsed()})`,
);
