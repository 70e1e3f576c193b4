import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);

const setup = `
const { retry, constant, tokenBucketBudget, quotaBudget, concurrencyBudget, ratioBudget } =
  await import(${JSON.stringify(dist.href)});
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
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    const result = await leakCheck<{ retries: number }>({
      label: 'retry',
      setup,
      warmup: 10_000,
      report: '{ retries }',
    });
    expect(result.retries).toBe(550); // 110 000 / 200 flaky calls, one retry each
  }, 120_000);
});
