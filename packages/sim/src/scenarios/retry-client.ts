import { adaptiveThrottle } from '@faultline/breaker';
import { type Policy, pipeline } from '@faultline/core';
import { exponential, type RetryBudget, retry } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import type { PolicyEnvironment } from './service.js';

/** Full-jitter exponential backoff from 50 ms, doubling up to 1 s. */
const backoff = exponential({ initial: 50, max: 1_000, jitter: 'full' });

/** What the retrying client of {@link retryClient} is sized by (a scenario's model). */
export interface RetryClientModel {
  readonly maxAttempts: number;
  /** Per-attempt timeout, ms. */
  readonly attemptTimeout: number;
}

/**
 * The retrying client that `retry-storm` and `metastable` compare: up to `maxAttempts` attempts
 * with full-jitter exponential backoff, each under its own `attemptTimeout`. `budget` caps the
 * retries; `throttle` adds an adaptive throttle per attempt, inside the retry (k = 2 over 10 s:
 * its local rejections are not retried).
 */
export function retryClient(
  env: PolicyEnvironment,
  model: RetryClientModel,
  extra: { readonly budget?: RetryBudget; readonly throttle?: boolean } = {},
): Policy {
  const { clock, random } = env;
  const { budget } = extra;
  return pipeline(
    retry({
      maxAttempts: model.maxAttempts,
      backoff,
      clock,
      random,
      ...(budget === undefined ? {} : { budget }),
    }),
    ...(extra.throttle === true
      ? [adaptiveThrottle({ k: 2, window: 10_000, buckets: 10, clock, random })]
      : []),
    timeout(model.attemptTimeout, { clock }),
  );
}
