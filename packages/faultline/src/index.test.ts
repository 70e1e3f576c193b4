/**
 * The umbrella re-exports every browser-safe primitive, and nothing it pulls in (through the
 * built `dist/` import graph, third-party dependencies included) imports a Node built-in.
 */
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as breaker from '@faultline/breaker';
import * as chaos from '@faultline/chaos';
import * as clock from '@faultline/clock';
import * as core from '@faultline/core';
import * as failureDetector from '@faultline/failure-detector';
import * as fleet from '@faultline/fleet';
import * as hedge from '@faultline/hedge';
import * as idempotency from '@faultline/idempotency';
import * as lease from '@faultline/lease';
import * as limits from '@faultline/limits';
import * as retry from '@faultline/retry';
import { runNode } from '@faultline/test-support';
import * as timeout from '@faultline/timeout';
import { describe, expect, it } from 'vitest';
import * as faultline from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(packageDir, '..', '..');

describe('faultline umbrella', () => {
  it('exports the key names of every primitive', () => {
    const keys = [
      // clock
      'systemClock',
      'VirtualClock',
      'Deadline',
      'sleep',
      'watchPauses',
      'HybridLogicalClock',
      // core
      'pipeline',
      'PolicyBase',
      'bulkhead',
      'fallback',
      'handleErrors',
      'seededRandom',
      'ExecutionRejectedError',
      'BulkheadRejectedError',
      // timeout
      'timeout',
      'adaptiveTimeout',
      'RttEstimator',
      'QuantileEstimator',
      'deadlineToHeaders',
      'TimeoutError',
      // retry
      'retry',
      'exponential',
      'decorrelatedJitterV2',
      'tokenBucketBudget',
      'ratioBudget',
      'quotaBudget',
      'concurrencyBudget',
      'fetchTask',
      'retryableHttp',
      'httpRetryAfter',
      'BudgetExhaustedError',
      // breaker
      'circuitBreaker',
      'consecutiveFailures',
      'failureRate',
      'adaptiveThrottle',
      'BrokenCircuitError',
      'IsolatedCircuitError',
      // failure-detector
      'PhiAccrualDetector',
      'ExponentialDetector',
      'DetectorRegistry',
      'HeartbeatMonitor',
      // fleet (browser-safe main entry)
      'fleetBudget',
      'fleetBreaker',
      'memoryFleetStore',
      'FleetStoreTimeoutError',
      // hedge
      'hedge',
      'learnedDelay',
      'HedgeSupersededError',
      // chaos
      'chaosFault',
      'chaosLatency',
      'chaosOutcome',
      'chaosBehavior',
      // lease (browser-safe main entry)
      'createLease',
      'memoryLeaseStore',
      'fenceGuard',
      'leaderElection',
      'FencedOutError',
      'LeaseUnavailableError',
      // idempotency (browser-safe main entry)
      'idempotencyKey',
      'idempotentFetch',
      'createIdempotency',
      'memoryStore',
      'IdempotencyError',
      // limits
      'rateLimiter',
      'tokenBucket',
      'gcra',
      'slidingWindow',
      'memoryRateLimitStore',
      'RateLimitRejectedError',
      'concurrencyLimit',
      'aimd',
      'vegas',
      'gradient2',
      'fixed',
      'ConcurrencyLimitRejectedError',
    ];
    const exported = faultline as Record<string, unknown>;
    const missing = keys.filter((key) => exported[key] === undefined);
    expect(missing).toEqual([]);
  });

  it('re-exports every runtime export of the packages it bundles, as the same object', () => {
    const packages = {
      breaker,
      chaos,
      clock,
      core,
      failureDetector,
      fleet,
      hedge,
      idempotency,
      lease,
      limits,
      retry,
      timeout,
    };
    const exported = faultline as Record<string, unknown>;
    const differences: string[] = [];
    for (const [name, module] of Object.entries(packages)) {
      for (const [key, value] of Object.entries(module)) {
        if (exported[key] !== value) differences.push(`${name}.${key}`);
      }
    }
    expect(differences).toEqual([]);
  });
});

// Tests below read the built dist/ (the import graph, a CommonJS require), built by the Vitest
// global setup.

// --- the built import graph -------------------------------------------------------------------

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Static and dynamic module specifiers of an ES module's source. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?['"]([^'"]+)['"]/g, // import x from '…', import '…'
    /\bexport\s*(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g, // export … from '…'
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('…') in a CommonJS dependency
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** Picks the target of a package.json `exports` entry, preferring what a browser bundler picks. */
function pickTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object') return undefined;
  const conditions = entry as Record<string, unknown>;
  for (const condition of ['browser', 'import', 'module', 'default']) {
    if (condition in conditions) {
      const target = pickTarget(conditions[condition]);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}

/** Resolves a bare specifier from `fromFile` the way a bundler targeting browsers would. */
function resolveBare(specifier: string, fromFile: string): string {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  let dir = dirname(fromFile);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      const packageDir = realpathSync(candidate);
      const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
        exports?: unknown;
        module?: string;
        main?: string;
      };
      let target: string | undefined;
      if (manifest.exports !== undefined) {
        const exportsMap = manifest.exports as Record<string, unknown>;
        const keyed =
          typeof manifest.exports === 'string' ||
          Object.keys(exportsMap).every((key) => !key.startsWith('.'));
        target = pickTarget(
          keyed ? (subpath === '.' ? manifest.exports : undefined) : exportsMap[subpath],
        );
      } else {
        target = subpath === '.' ? (manifest.module ?? manifest.main ?? 'index.js') : subpath;
      }
      if (target === undefined) throw new Error(`cannot resolve ${specifier} from ${fromFile}`);
      return resolve(packageDir, target);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find package ${name} from ${fromFile}`);
    dir = parent;
  }
}

function resolveSpecifier(specifier: string, fromFile: string): string {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = resolve(dirname(fromFile), specifier);
    for (const candidate of [target, `${target}.js`, join(target, 'index.js')]) {
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    throw new Error(`cannot resolve ${specifier} from ${fromFile}`);
  }
  return resolveBare(specifier, fromFile);
}

describe('faultline built import graph', () => {
  it('never imports a Node built-in, directly or through any module it pulls in', () => {
    const entry = join(packageDir, 'dist', 'index.js');
    const visited = new Set<string>();
    const offenders: string[] = [];
    const pending = [entry];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (visited.has(file)) continue;
      visited.add(file);
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        if (nodeBuiltins.has(specifier) || specifier.startsWith('node:')) {
          offenders.push(`${relative(repoRoot, file)} imports ${specifier}`);
          continue;
        }
        pending.push(resolveSpecifier(specifier, file));
      }
    }
    expect(offenders).toEqual([]);
    // The graph really spans every bundled package (guards against a scan that stops early).
    const packagesSeen = new Set(
      [...visited]
        .map((file) => /packages\/([^/]+)\/dist\//.exec(relative(repoRoot, file))?.[1])
        .filter((name) => name !== undefined),
    );
    expect([...packagesSeen].sort()).toEqual([
      'breaker',
      'chaos',
      'clock',
      'core',
      'failure-detector',
      'faultline',
      'fleet',
      'hedge',
      'idempotency',
      'lease',
      'limits',
      'retry',
      'timeout',
    ]);
  });
});

describe('faultline from CommonJS', () => {
  it('require() works from a CommonJS file (Node >= 20.19) and the policies run', async () => {
    // Inside the package directory, so that 'faultline' resolves to this package (self-reference).
    const dir = mkdtempSync(join(packageDir, '.tmp-require-'));
    try {
      const script = join(dir, 'require.cjs');
      writeFileSync(
        script,
        `const faultline = require('faultline');
const policy = faultline.pipeline(faultline.timeout(1_000), faultline.retry({ maxAttempts: 2, backoff: faultline.constant(0) }));
let calls = 0;
policy.execute(async () => { if (++calls < 2) throw new Error('transient'); return 'ok'; }).then((value) => {
  process.stdout.write(JSON.stringify({ path: require.resolve('faultline'), value, calls, key: faultline.idempotencyKey().length }));
});
`,
      );
      const result = await runNode({ file: script, cwd: dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        path: join(packageDir, 'dist', 'index.js'),
        value: 'ok',
        calls: 2,
        key: 36,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
