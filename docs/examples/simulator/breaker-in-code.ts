// A scenario in TypeScript: the same model as three-policies.json, with one policy written as
// code (any Policy you can build; pass the run's clock and random to every policy).
import { circuitBreaker, failureRate } from '@faultline/breaker';
import { pipeline } from '@faultline/core';
import { exponential, retry } from '@faultline/retry';
import { defineComparison } from '@faultline/sim';
import { timeout } from '@faultline/timeout';

export default defineComparison({
  name: 'orders-api with a breaker',
  duration: 60_000,
  runs: 2,
  traffic: { kind: 'open', rate: 100 },
  downstream: {
    latency: { kind: 'observed', file: 'latencies.csv', column: 'latency_ms' },
    concurrency: 7,
    incidents: [{ kind: 'outage', start: 20_000, duration: 10_000 }],
  },
  policies: {
    'retry-3': {
      retry: { maxAttempts: 3, backoff: { kind: 'exponential', initial: 50, max: 1000 } },
      timeout: 1000,
    },
    'retry-3-breaker': ({ clock, random }) =>
      pipeline(
        retry({ maxAttempts: 3, backoff: exponential({ initial: 50, max: 1000 }), clock, random }),
        circuitBreaker({
          trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 5_000 }),
          breakDuration: 1_000,
          clock,
          random,
        }),
        timeout(1000, { clock }),
      ),
  },
});
