import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup), on the system clock.
const dist = new URL('../dist/index.js', import.meta.url);

const child = `
import { getEventListeners } from 'node:events';
const { createLease, memoryLeaseStore, fenceGuard } = await import(${JSON.stringify(dist.href)});
const caller = new AbortController(); // long-lived, like a server's shutdown signal
const store = memoryLeaseStore();
const lease = createLease({ store, resource: 'job', ttl: 10_000 });
const other = createLease({ store, resource: 'job', ttl: 10_000 });
const guard = fenceGuard();
let ran = 0;
let unavailable = 0;
let lost = 0;
lease.onLost(() => { lost++; });
const work = async (held) => {
  await guard.write(held.token, () => { ran++; });
  return held.signal.aborted;
};
async function run(n) {
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 999) {
      // Held elsewhere: run rejects without calling work.
      const held = await other.acquire();
      try { await lease.run(work, { signal: caller.signal }); } catch (e) { if (e.code === 'LEASE_UNAVAILABLE') unavailable++; else throw e; }
      await held.release();
      continue;
    }
    const aborted = await lease.run(work, { signal: caller.signal });
    if (aborted) throw new Error('lease ended during a short run');
  }
}
await run(12_000); // warm-up: JIT code and lazily built structures are not growth
globalThis.gc(); globalThis.gc();
ran = 0; unavailable = 0;
const before = process.memoryUsage().heapUsed;
await run(100_000);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.stdout.write(JSON.stringify({
  growth: after - before,
  listeners: getEventListeners(caller.signal, 'abort').length,
  timers,
  ran,
  unavailable,
  lost,
}) + '\\n');
lastCall();
`;

describe('leaks', () => {
  it('100 000 lease.run calls with a long-lived caller signal: no listener, no timer, < 1 MB heap growth, prompt exit', async () => {
    const run = await runNode({ script: child, nodeArgs: ['--expose-gc'], timeout: 150_000 });
    const { stdout, stderr, code } = run;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      growth: number;
      listeners: number;
      timers: number;
      ran: number;
      unavailable: number;
      lost: number;
    };
    expect(result.ran).toBe(99_900);
    expect(result.unavailable).toBe(100);
    expect(result.lost).toBe(0);
    expect(result.listeners).toBe(0);
    expect(result.timers).toBe(0);
    expect(result.growth).toBeLessThan(1024 * 1024);
    expect(promptExitProblem(run)).toBeUndefined();
    console.log(
      `lease leak test: heap growth ${result.growth} B over 100 000 runs, exit ${run.exit!.drainMs.toFixed(0)} ms after the last call`,
    );
  }, 180_000);
});
