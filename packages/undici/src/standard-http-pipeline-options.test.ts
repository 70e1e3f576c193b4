import { constant, tokenBucketBudget } from '@faultline/retry';
import { describe, expect, it } from 'vitest';
import { standardHttpPipeline } from './standard-http-pipeline.js';
import {
  resolveStandardHttpOptions,
  STANDARD_HTTP_DEFAULTS,
} from './standard-http-pipeline-options.js';

describe('standardHttpPipeline options', () => {
  it('has Microsoft’s order and defaults (plus idempotent-only retries and a budget)', () => {
    const resolved = resolveStandardHttpOptions(undefined);
    expect(resolved).toMatchObject({
      name: 'standard-http',
      rateLimiter: { limit: 1_000, queue: 0 },
      totalTimeout: 30_000,
      retry: { maxAttempts: 4, methods: 'idempotent', maxRetryAfter: 30_000 },
      circuitBreaker: {
        failureRatio: 0.1,
        minimumThroughput: 100,
        samplingDuration: 30_000,
        breakDuration: 5_000,
      },
      attemptTimeout: 10_000,
    });
    expect(resolved.retry?.budget).toBeDefined();
    expect(Object.isFrozen(STANDARD_HTTP_DEFAULTS)).toBe(true);
    const shape = standardHttpPipeline().describe();
    expect(shape.name).toBe('standardHttpPipeline');
    expect(shape.policies?.map((p) => p.name)).toEqual([
      'bulkhead',
      'timeout',
      'retry',
      'circuitBreaker',
      'timeout',
    ]);
  });

  it('turns stages off with false', () => {
    const http = standardHttpPipeline({
      rateLimiter: false,
      totalTimeout: false,
      retry: false,
      circuitBreaker: false,
      attemptTimeout: false,
    });
    expect(http.describe().policies).toEqual([{ name: 'noop', options: {} }]);
    expect(http.retry).toBeUndefined();
    const noBudget = resolveStandardHttpOptions({ retry: { budget: false } });
    expect(noBudget.retry?.budget).toBeUndefined();
  });

  it('accepts tuned stages', () => {
    const budget = tokenBucketBudget({ maxTokens: 5, tokenRatio: 0.5 });
    const resolved = resolveStandardHttpOptions({
      name: 'payments',
      rateLimiter: { limit: 10, queue: 5 },
      retry: { maxAttempts: 2, backoff: constant(10), methods: ['GET', 'post'], budget },
      circuitBreaker: { failureRatio: 0.5, minimumThroughput: 5 },
      totalTimeout: 5_000,
      attemptTimeout: 1_000,
    });
    expect(resolved.retry).toMatchObject({ maxAttempts: 2, methods: ['GET', 'post'], budget });
    expect(resolved.rateLimiter).toEqual({ limit: 10, queue: 5 });
  });

  it.each([
    [{ name: 3 }, TypeError, /"name"/],
    [{ name: '' }, RangeError, /"name"/],
    [{ rateLimiter: 'x' }, TypeError, /"rateLimiter"/],
    [{ rateLimiter: { limit: 0 } }, RangeError, /"rateLimiter.limit"/],
    [{ rateLimiter: { queue: -1 } }, RangeError, /"rateLimiter.queue"/],
    [{ totalTimeout: 'x' }, TypeError, /"totalTimeout"/],
    [{ totalTimeout: 0 }, RangeError, /"totalTimeout"/],
    [{ attemptTimeout: -1 }, RangeError, /"attemptTimeout"/],
    [{ totalTimeout: 1_000, attemptTimeout: 2_000 }, RangeError, /must not exceed "totalTimeout"/],
    [{ retry: 4 }, TypeError, /"retry"/],
    [{ retry: { maxAttempts: 0 } }, RangeError, /"retry.maxAttempts"/],
    [{ retry: { maxAttempts: 'x' } }, TypeError, /"retry.maxAttempts"/],
    [{ retry: { backoff: {} } }, TypeError, /"retry.backoff"/],
    [{ retry: { methods: 'some' } }, RangeError, /"retry.methods"/],
    [{ retry: { methods: [1] } }, TypeError, /"retry.methods"/],
    [{ retry: { methods: ['G ET'] } }, RangeError, /"retry.methods"/],
    [{ retry: { budget: {} } }, TypeError, /"retry.budget"/],
    [{ retry: { maxRetryAfter: -1 } }, RangeError, /"retry.maxRetryAfter"/],
    [{ circuitBreaker: [] }, TypeError, /"circuitBreaker"/],
    [{ circuitBreaker: { failureRatio: 0 } }, RangeError, /"circuitBreaker.failureRatio"/],
    [{ circuitBreaker: { failureRatio: 1.5 } }, RangeError, /"circuitBreaker.failureRatio"/],
    [
      { circuitBreaker: { minimumThroughput: 0.5 } },
      RangeError,
      /"circuitBreaker.minimumThroughput"/,
    ],
    [{ circuitBreaker: { samplingDuration: 0 } }, RangeError, /"circuitBreaker.samplingDuration"/],
    [{ circuitBreaker: { breakDuration: -1 } }, RangeError, /"circuitBreaker.breakDuration"/],
    [{ clock: {} }, TypeError, /"clock"/],
    [{ random: 1 }, TypeError, /"random"/],
    ['x', TypeError, /options/],
  ])('rejects %j', (options, Kind, message) => {
    expect(() => standardHttpPipeline(options as never)).toThrow(Kind);
    expect(() => standardHttpPipeline(options as never)).toThrow(message);
  });
});
