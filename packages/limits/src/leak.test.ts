import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs against the built package (the test command builds first; or `npx tsc -b packages/limits`).
const dist = new URL('../dist/index.js', import.meta.url);

const child = `
import { getEventListeners } from 'node:events';
const { rateLimiter, tokenBucket, gcra, slidingWindow, concurrencyLimit, aimd, vegas, gradient2, fixed } =
  await import(${JSON.stringify(dist.href)});
const caller = new AbortController(); // long-lived, like a server's shutdown signal
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
await run(10_000);
globalThis.gc(); globalThis.gc();
const before = process.memoryUsage().heapUsed;
await run(100_000);
await new Promise((resolve) => setTimeout(resolve, 5)); // let the per-key limits come to rest
await run(8); // one more sweep
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.stdout.write(JSON.stringify({
  growth: after - before,
  listeners: getEventListeners(caller.signal, 'abort').length,
  timers,
  keys: policies[3].store.size,
  inflight: policies.slice(4).map((p) => p.inflight),
}) + '\\n');
`;

describe('leaks', () => {
  it('100 000 calls with a long-lived caller signal: no listener, < 1 MB heap growth, prompt exit', async () => {
    expect(existsSync(fileURLToPath(dist)), 'build first: npx tsc -b packages/limits').toBe(true);
    const proc = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', child], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let reportedAt = 0;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n') && reportedAt === 0) reportedAt = performance.now();
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const exitDelay = performance.now() - reportedAt;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      growth: number;
      listeners: number;
      timers: number;
      keys: number;
      inflight: number[];
    };
    expect(result.listeners).toBe(0);
    expect(result.timers).toBe(0);
    expect(result.inflight).toEqual([0, 0, 0, 0]);
    // 12 500 distinct keys went through; the sweep keeps only those not yet at rest.
    expect(result.keys).toBeLessThan(1100);
    expect(result.growth).toBeLessThan(1024 * 1024);
    expect(exitDelay).toBeLessThan(1000);
    console.log(
      `leak test: heap growth ${result.growth} B, ${result.keys} keys held, exit ${exitDelay.toFixed(0)} ms after the report`,
    );
  }, 120_000);
});
