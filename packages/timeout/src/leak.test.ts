import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const core = new URL('../../core/dist/index.js', import.meta.url);

const child = `
import { getEventListeners } from 'node:events';
const { timeout, adaptiveTimeout } = await import(${JSON.stringify(dist.href)});
const { pipeline } = await import(${JSON.stringify(core.href)});
const caller = new AbortController(); // long-lived, like a server's shutdown signal
const policies = [
  timeout(10_000),
  timeout(10_000, { strategy: 'cooperative' }),
  timeout(adaptiveTimeout()),
  pipeline(timeout(10_000, { strategy: 'cooperative' }), timeout(5_000)),
];
const quick = timeout(1);
const ignores = async () => 1;
const reads = async (ctx) => ctx.signal.aborted;
const honours = (ctx) => new Promise((_, reject) =>
  ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
async function run(n) {
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 999) await quick.execute(honours, caller.signal).catch(() => {});
    else await policies[i % 4].execute(i % 2 === 0 ? ignores : reads, caller.signal);
  }
}
await run(10_000); // warm-up: JIT code and lazily built structures are not growth
globalThis.gc(); globalThis.gc();
const before = process.memoryUsage().heapUsed;
await run(100_000);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.stdout.write(JSON.stringify({
  growth: after - before,
  listeners: getEventListeners(caller.signal, 'abort').length,
  timers,
}) + '\\n');
lastCall();
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    const run = await runNode({ script: child, nodeArgs: ['--expose-gc'], timeout: 110_000 });
    const { stdout, stderr, code } = run;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { growth: number; listeners: number; timers: number };
    expect(result.listeners).toBe(0);
    expect(result.timers).toBe(0); // nothing left that could keep the process alive
    expect(result.growth).toBeLessThan(1024 * 1024);
    // Exits within EXIT_LIMIT_MS (200 ms) of its last call; `timers` above is the deterministic
    // check that nothing could keep it alive.
    expect(promptExitProblem(run)).toBeUndefined();
    console.log(
      `leak test: heap growth ${result.growth} B, exit ${run.exit!.drainMs.toFixed(0)} ms after the last call`,
    );
  }, 120_000);
});
