// Which test files of the browser-safe packages can run outside Node (in headless Chromium, Bun,
// Deno): shared by vitest.browser.config.ts and scripts/test-runtimes.mjs.
//
// A test file runs there unless it reaches a Node built-in (`node:*` or a bare builtin name),
// directly or through any module it imports (relative imports and workspace packages followed
// through their "@faultline/source" exports), or a package from NODE_ONLY. Each exclusion
// carries the reason; packages added to BROWSER_SAFE later are picked up when their directory
// exists. The entries of BROWSER_ENTRIES are the exception to NODE_ONLY: they are followed
// through their sources like a workspace package, so a Node built-in under them still counts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from './workspace.mjs';

/** The packages whose main entry is browser-safe (quality bar, "Runtimes"). */
export const BROWSER_SAFE = [
  'clock',
  'core',
  'timeout',
  'retry',
  'breaker',
  'failure-detector',
  'hedge',
  'chaos',
  'limits',
  'idempotency',
  'lease',
  'fleet',
];

/** Third-party packages that only run on Node (servers, database and Redis clients, …). */
const NODE_ONLY = new Set([
  'express',
  'fastify',
  'ioredis',
  'redis',
  'pg',
  'undici',
  '@hono/node-server',
  'autocannon',
  '@faultline/test-support',
]);

/**
 * Entry points of NODE_ONLY packages that are meant for every runtime: a test may import them,
 * and is checked through their sources (`@faultline/test-support/browser`: its helpers that
 * need nothing from Node).
 */
const BROWSER_ENTRIES = new Set(['@faultline/test-support/browser']);

const builtins = new Set(builtinModules);

function specifiersOf(file) {
  const text = readFileSync(file, 'utf8');
  const found = [];
  const patterns = [
    /^\s*import\s+(?!type\b)(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\b)(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

function resolveRelative(from, specifier) {
  const target = resolve(dirname(from), specifier).replace(/\.js$/, '');
  for (const candidate of [`${target}.ts`, join(target, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function resolveWorkspace(specifier, root) {
  const match = /^(@faultline\/[^/]+|faultline)(\/.*)?$/.exec(specifier);
  if (match === null) return undefined;
  const dir = match[1] === 'faultline' ? 'faultline' : match[1].slice('@faultline/'.length);
  const manifestPath = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const entry = manifest.exports?.[`.${match[2] ?? ''}`];
  const source = entry?.['@faultline/source'];
  return source === undefined ? undefined : join(root, 'packages', dir, source);
}

/**
 * Why `file` cannot run outside Node (the first Node-only import it reaches), or undefined.
 * `provided`: module names the target runtime provides anyway (the browser config aliases
 * node:events to a shim).
 */
export function nodeOnlyReason(file, root = repoRoot, provided = new Set()) {
  const seen = new Set();
  const pending = [[file, []]];
  while (pending.length > 0) {
    const [current, path] = pending.pop();
    if (seen.has(current)) continue;
    seen.add(current);
    for (const specifier of specifiersOf(current)) {
      const via = [...path, relative(root, current)];
      const chain = via.length > 1 ? ` (via ${via.slice(1).join(' → ')})` : '';
      if (provided.has(specifier)) continue;
      if (specifier.startsWith('node:') || builtins.has(specifier)) {
        return `imports ${specifier}${chain}`;
      }
      const bare = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (NODE_ONLY.has(bare) && !BROWSER_ENTRIES.has(specifier)) {
        return `imports ${specifier}${chain}`;
      }
      const next = specifier.startsWith('.')
        ? resolveRelative(current, specifier)
        : resolveWorkspace(specifier, root);
      // Allowed only because its sources are read: one that cannot be found is not allowed.
      if (next === undefined && BROWSER_ENTRIES.has(specifier)) {
        return `imports ${specifier}${chain}, whose "@faultline/source" export is missing`;
      }
      if (next !== undefined) pending.push([next, via]);
    }
  }
  return undefined;
}

/** `{ dir, runnable: [files], excluded: [{ file, reason }] }` for each browser-safe package. */
export function browserTestPlan(root = repoRoot, provided = new Set(['node:events'])) {
  const plan = [];
  for (const name of BROWSER_SAFE) {
    const src = join(root, 'packages', name, 'src');
    if (!existsSync(src)) continue;
    const tests = [];
    const walk = (dir) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.test.ts')) tests.push(path);
      }
    };
    walk(src);
    const runnable = [];
    const excluded = [];
    for (const file of tests.sort()) {
      const reason = nodeOnlyReason(file, root, provided);
      if (reason === undefined) runnable.push(relative(root, file));
      else excluded.push({ file: relative(root, file), reason });
    }
    plan.push({ name, dir: `packages/${name}`, runnable, excluded });
  }
  return plan;
}
