import { leakCheck } from '@faultline/test-support';
import { describe, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const core = new URL('../../core/dist/index.js', import.meta.url);

const setup = `
const { timeout, adaptiveTimeout } = await import(${JSON.stringify(dist.href)});
const { pipeline } = await import(${JSON.stringify(core.href)});
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
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    // leakCheck asserts no listener, no timer left (the deterministic check that nothing could
    // keep the process alive), < 1 MiB growth and an exit within EXIT_LIMIT_MS of the last call.
    await leakCheck({ label: 'timeout', setup, warmup: 10_000 });
  }, 120_000);
});
