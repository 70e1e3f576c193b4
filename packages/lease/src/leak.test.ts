import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built package (built by the Vitest global setup), on the system clock.
const dist = new URL('../dist/index.js', import.meta.url);

const setup = `
const { createLease, memoryLeaseStore, fenceGuard } = await import(${JSON.stringify(dist.href)});
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
`;

describe('leaks', () => {
  it('100 000 lease.run calls with a long-lived caller signal: no listener, no timer, < 1 MB heap growth, prompt exit', async () => {
    const result = await leakCheck<{ ran: number; unavailable: number; lost: number }>({
      label: 'lease',
      setup,
      warmup: 12_000,
      reset: 'ran = 0; unavailable = 0;',
      report: '{ ran, unavailable, lost }',
      timeout: 150_000,
    });
    expect(result.ran).toBe(99_900);
    expect(result.unavailable).toBe(100);
    expect(result.lost).toBe(0);
  }, 180_000);
});
