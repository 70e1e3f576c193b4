import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);

const setup = `
const { rateLimiter, tokenBucket, gcra, slidingWindow, concurrencyLimit, aimd, vegas, gradient2, fixed } =
  await import(${JSON.stringify(dist.href)});
const policies = [
  rateLimiter({ limit: tokenBucket({ rate: 1e9, burst: 1e6 }) }),
  rateLimiter({ limit: gcra({ rate: 1e9, burst: 1e6 }), key: () => 'tenant' }),
  rateLimiter({ limit: slidingWindow({ limit: 1e9, window: 1000 }), maxWait: 10 }),
  // Per-key limits over many keys: the memory store must forget keys at rest.
  rateLimiter({ limit: gcra({ rate: 1e6, burst: 10 }), key: () => String(Math.random()) }),
  concurrencyLimit({ limit: aimd() }),
  concurrencyLimit({ limit: vegas() }),
  concurrencyLimit({ limit: gradient2(), queue: { size: 10, timeout: 1000 } }),
  concurrencyLimit({ limit: fixed(5) }),
];
const ok = async () => 1;
const reads = async (ctx) => ctx.signal.aborted;
const fails = async () => { throw new Error('x'); };
async function run(n) {
  for (let i = 0; i < n; i++) {
    const policy = policies[i % policies.length];
    const fn = i % 97 === 0 ? fails : i % 2 === 0 ? ok : reads;
    await policy.execute(fn, caller.signal).catch(() => {});
  }
}
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    // leakCheck runs the child with runNode and checks the exit with promptExitProblem
    // (EXIT_LIMIT_MS after the last call; this test allowed 1 000 ms after the report before).
    const result = await leakCheck<{ keys: number; inflight: number[] }>({
      label: 'limits',
      setup,
      warmup: 10_000,
      settle: [
        'await new Promise((resolve) => setTimeout(resolve, 5)); // let the per-key limits come to rest',
        'await run(8); // one more sweep',
      ].join('\n'),
      report:
        '{ keys: policies[3].store.size, inflight: policies.slice(4).map((p) => p.inflight) }',
    });
    expect(result.inflight).toEqual([0, 0, 0, 0]);
    // 12 500 distinct keys went through; the sweep keeps only those not yet at rest.
    expect(result.keys).toBeLessThan(1100);
  }, 120_000);
});
