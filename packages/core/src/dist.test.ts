import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promptExitProblem, runNode } from '@faultline/test-support';
import { afterAll, describe, expect, it } from 'vitest';

// The leak test every policy passes: 100 000 calls through each policy with one long-lived caller
// signal; afterwards no abort listener is left on it, the heap after GC has grown < 1 MB, and the
// process exits within 200 ms of its last call (nothing ref'd left behind). It runs in a child
// `node --expose-gc` against the built dist/ so that the main test process needs no flags.

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const distEntry = new URL('../dist/index.js', import.meta.url);
const temporary: string[] = [];

afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const script = (distUrl: string): string => `
import { getEventListeners } from 'node:events';
import { writeSync } from 'node:fs';
const { bulkhead, fallback, pipeline, noop, contextFor } = await import(${JSON.stringify(distUrl)});

const N = 100_000;
const BATCH = 16; // concurrent calls per batch: more than the bulkhead's limit, so callers queue
const caller = new AbortController(); // the long-lived caller signal
const signal = caller.signal;
const failure = new Error('expected failure'); // prebuilt: the test is about the policy's garbage
const ok = async (ctx) => { void ctx.signal; return 1; };
const fail = async () => { throw failure; };

// queueTimeout runs on the system clock: a timer not cleared would keep the process alive 60 s.
const cases = {
  bulkhead: () => { const p = bulkhead({ limit: 4, queue: BATCH, queueTimeout: 60_000 }); return (i) => p.execute(i % 3 ? ok : fail, signal); },
  fallback: () => { const p = fallback({ fallback: () => 0 }); return (i) => p.execute(i % 3 ? ok : fail, signal); },
  pipeline: () => {
    const p = pipeline(fallback({ fallback: () => 0 }), bulkhead({ limit: 4, queue: BATCH, queueTimeout: 60_000 }), noop);
    return (i) => p.execute(i % 3 ? ok : fail, signal);
  },
  // A policy's child context (what timeout and hedge build on): read its signal, then dispose.
  context: () => (i) => {
    const child = contextFor(signal).child();
    void child.signal;
    if (i % 3 === 0) child.abort(failure);
    child.dispose();
    return Promise.resolve();
  },
};

async function drive(call, n) {
  for (let i = 0; i < n; i += BATCH) {
    const batch = [];
    for (let j = 0; j < BATCH; j++) batch.push(call(i + j).catch(() => {}));
    await Promise.all(batch);
  }
}

const results = {};
for (const [name, make] of Object.entries(cases)) {
  const call = make();
  await drive(call, 10_000); // warm-up: JIT, inline caches, lazily built shared objects
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  await drive(call, N);
  await new Promise((resolve) => setImmediate(resolve));
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  results[name] = { heapGrowth: after - before, listeners: getEventListeners(signal, 'abort').length };
}
writeSync(1, JSON.stringify({ results }) + '\\n');
lastCall();
`;

interface ChildReport {
  results: Record<string, { heapGrowth: number; listeners: number }>;
}

describe('built package in a child process', () => {
  it('100 000 calls per policy leave no listener, < 1 MB heap growth, and exit promptly', async () => {
    // A child kept alive by a leaked 60 s timer would hit the timeout long before the test's.
    const run = await runNode({
      script: script(distEntry.href),
      nodeArgs: ['--expose-gc'],
      timeout: 50_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ChildReport;
    expect(Object.keys(report.results)).toEqual(['bulkhead', 'fallback', 'pipeline', 'context']);
    for (const [name, { heapGrowth, listeners }] of Object.entries(report.results)) {
      expect({ name, listeners }).toEqual({ name, listeners: 0 });
      expect({ name, heapGrowthUnder1MB: heapGrowth < 1024 * 1024, heapGrowth }).toMatchObject({
        name,
        heapGrowthUnder1MB: true,
      });
    }
    expect(promptExitProblem(run)).toBeUndefined();
  }, 60_000);

  it('require() works from a CommonJS file (Node >= 20.19)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-core-'));
    temporary.push(dir);
    const file = join(dir, 'require.cjs');
    writeFileSync(
      file,
      `const path = require.resolve('@faultline/core', { paths: [${JSON.stringify(packageDir)}] });
const core = require(path);
const policy = core.pipeline(core.fallback({ fallback: () => 'fallback' }), core.bulkhead({ limit: 1 }));
policy.execute(() => { throw new Error('x'); }).then((value) => {
  process.stdout.write(JSON.stringify({ path, value, shape: policy.describe().policies.map((p) => p.name) }));
});
`,
    );
    const { code, stdout, stderr } = await runNode({ file });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      path: fileURLToPath(distEntry),
      value: 'fallback',
      shape: ['fallback', 'bulkhead'],
    });
  });
});
