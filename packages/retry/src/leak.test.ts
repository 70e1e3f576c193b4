import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);

const child = `
import { getEventListeners } from 'node:events';
const { retry, constant, tokenBucketBudget, quotaBudget, concurrencyBudget, ratioBudget } =
  await import(${JSON.stringify(dist.href)});
const caller = new AbortController(); // long-lived, like a server's shutdown signal
const policies = [
  retry(),
  retry({ backoff: constant(0), budget: tokenBucketBudget({ maxTokens: 100, tokenRatio: 1 }) }),
  retry({ backoff: constant(0), budget: quotaBudget() }),
  retry({ backoff: constant(0), budget: concurrencyBudget() }),
  retry({ backoff: constant(0), budget: ratioBudget() }),
];
let retries = 0;
for (const p of policies) p.onRetry(() => { retries++; });
const ok = async () => 1;
const reads = async (ctx) => ctx.signal.aborted;
// Fails on attempt 1, succeeds on attempt 2 (after a real 0 ms backoff sleep on the caller's signal).
const flaky = async (ctx) => { if (ctx.attempt === 1) throw new Error('transient'); return 2; };
async function run(n) {
  for (let i = 0; i < n; i++) {
    const policy = policies[i % policies.length];
    if (i % 200 === 199) await policy.execute(flaky, caller.signal);
    else await policy.execute(i % 2 === 0 ? ok : reads, caller.signal);
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
  retries,
}) + '\\n');
lastCall();
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    const run = await runNode({ script: child, nodeArgs: ['--expose-gc'], timeout: 110_000 });
    const { stdout, stderr, code } = run;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      growth: number;
      listeners: number;
      timers: number;
      retries: number;
    };
    expect(result.retries).toBe(550); // 110 000 / 200 flaky calls, one retry each
    expect(result.listeners).toBe(0);
    expect(result.timers).toBe(0); // nothing left that could keep the process alive
    expect(result.growth).toBeLessThan(1024 * 1024);
    // Exits promptly after its last call (EXIT_LIMIT_MS); `timers` above is the deterministic
    // check that nothing could keep it alive.
    expect(promptExitProblem(run)).toBeUndefined();
    console.log(
      `leak test: heap growth ${result.growth} B, exit ${run.exit!.drainMs.toFixed(0)} ms after the last call`,
    );
  }, 120_000);
});
