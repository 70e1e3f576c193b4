import { countConstructions } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';

// With nobody subscribed to the telemetry stream, the success path of every instrumented policy
// does what it did before telemetry: no AbortController, no Error, no clock reading that it did
// not take before (retry's attempt timing and the breaker's event times are read only while
// someone subscribes), and no record. The modules are loaded afresh after the globals are
// wrapped, so `class … extends Error` inside them binds to the counting class.
const OriginalAbortController = globalThis.AbortController;

let core: typeof import('@faultline/core');
let clockModule: typeof import('@faultline/clock');
let retryModule: typeof import('@faultline/retry');
let breakerModule: typeof import('@faultline/breaker');
let timeoutModule: typeof import('@faultline/timeout');

const counts = countConstructions(async () => {
  core = await import('@faultline/core');
  clockModule = await import('@faultline/clock');
  retryModule = await import('@faultline/retry');
  breakerModule = await import('@faultline/breaker');
  timeoutModule = await import('@faultline/timeout');
});

describe('no subscriber', () => {
  it('success paths of named pipelines build no controller, no error, read no extra clock', async () => {
    const { VirtualClock } = clockModule;
    class CountingClock extends VirtualClock {
      reads = 0;
      override now(): number {
        this.reads++;
        return super.now();
      }
    }
    const policyClock = new CountingClock();
    const { bulkhead, fallback, named, pipeline, telemetry } = core;
    expect(telemetry.hasSubscribers).toBe(false);
    const api = named(
      'api',
      pipeline(
        fallback({ fallback: () => 'cached', name: 'api-fallback' }),
        retry(),
        breakerModule.circuitBreaker({
          trip: breakerModule.consecutiveFailures(5),
          clock: policyClock,
          name: 'api-breaker',
        }),
        bulkhead({ limit: 10, name: 'api-bulkhead', clock: policyClock }),
        timeoutModule.timeout(10_000, { name: 'api-attempt' }),
      ),
    );
    function retry() {
      return retryModule.retry({
        clock: policyClock,
        budget: retryModule.tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }),
        name: 'api-retry',
      });
    }
    const caller = new OriginalAbortController();
    counts.controllers = 0;
    counts.errors = 0;
    let seen = 0;
    for (let i = 0; i < 1000; i++) {
      seen += await api.execute(async () => 1);
      seen += await api.execute(async () => 1, { signal: caller.signal, operation: 'GET /x' });
    }
    expect(seen).toBe(2000);
    expect(counts.controllers).toBe(0);
    expect(counts.errors).toBe(0);
    // retry, breaker (consecutive: no slow-call rule) and bulkhead read no time on success.
    expect(policyClock.reads).toBe(0);
    // The harness sees the difference: with a subscriber, retry times its attempt.
    const unsubscribe = telemetry.subscribe(() => {});
    await api.execute(async () => 1);
    unsubscribe();
    expect(policyClock.reads).toBeGreaterThan(0);
  });
});
