import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built packages (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const breakerDist = new URL('../../breaker/dist/index.js', import.meta.url);
const retryDist = new URL('../../retry/dist/index.js', import.meta.url);

const setup = `
const { fleetBreaker, fleetBudget, memoryFleetStore } = await import(${JSON.stringify(dist.href)});
const { consecutiveFailures, failureRate } = await import(${JSON.stringify(breakerDist.href)});
const { retry, constant } = await import(${JSON.stringify(retryDist.href)});
const store = memoryFleetStore();
// A short sync so that the background steps run thousands of times during the run.
const rate = fleetBreaker({ store, name: 'a', sync: 10, breakDuration: 20,
  trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 1_000 }) });
const consecutive = fleetBreaker({ store, name: 'b', sync: 10, breakDuration: 20, trip: consecutiveFailures(5) });
const budget = fleetBudget({ store, name: 'c', sync: 10, budget: { ratio: 0.2, minRetriesPerSecond: 10, ttl: 1_000 } });
const retries = retry({ maxAttempts: 2, backoff: constant(0), budget });
let opened = 0;
rate.onOpen(() => opened++);
consecutive.onOpen(() => opened++);
const ok = async () => 1;
const boom = async () => { throw new Error('boom'); };
async function run(n) {
  for (let i = 0; i < n; i++) {
    // Bursts of failures every 2 000 calls open the breakers now and then.
    const fn = i % 2000 < 40 ? boom : ok;
    await rate.execute(fn).catch(() => {});
    await consecutive.execute(fn).catch(() => {});
    await retries.execute(fn).catch(() => {});
    if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
`;

describe('leaks', () => {
  it("100 000 calls through fleetBreaker and fleetBudget: < 1 MB heap growth, no ref'd timer, prompt exit", async () => {
    // No close(): the sync timers are unref'd, so they never keep the process alive.
    const result = await leakCheck<{ opened: number; keys: number }>({
      label: 'fleet',
      setup,
      warmup: 12_000,
      reset: 'opened = 0;',
      report: '{ opened, keys: store.size }',
      timeout: 150_000,
    });
    expect(result.opened).toBeGreaterThan(0); // the breakers did move
    expect(result.keys).toBe(3);
  }, 180_000);
});
