import { VirtualClock } from '@faultline/clock';
import { type Backoff, handleAll } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { concurrencyBudget } from './budgets/concurrency.js';
import { describeBudget } from './budgets/describe.js';
import { quotaBudget } from './budgets/quota.js';
import { ratioBudget } from './budgets/ratio.js';
import { tokenBucketBudget } from './budgets/token-bucket.js';
import { RetryPolicy, retry } from './retry.js';
import { RETRY_DEFAULTS, resolveRetryOptions } from './retry-options.js';

function failing(n: number) {
  const attempts: number[] = [];
  return {
    attempts,
    fn: async (ctx: { attempt: number }) => {
      attempts.push(ctx.attempt);
      if (attempts.length <= n) throw new Error('transient');
      return 'ok';
    },
  };
}

describe('retry: option validation', () => {
  const cases: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['options', 'fast', TypeError, /retry: options/],
    ['maxAttempts type', { maxAttempts: '3' }, TypeError, /"maxAttempts"/],
    ['maxAttempts range', { maxAttempts: 0 }, RangeError, /"maxAttempts"/],
    ['maxAttempts integer', { maxAttempts: 2.5 }, RangeError, /"maxAttempts"/],
    ['backoff type', { backoff: 100 }, TypeError, /"backoff"/],
    ['backoff shape', { backoff: {} }, TypeError, /"backoff"/],
    ['shouldHandle type', { shouldHandle: true }, TypeError, /"shouldHandle"/],
    ['budget type', { budget: 5 }, TypeError, /"budget"/],
    ['budget shape', { budget: { tryRetry() {} } }, TypeError, /"budget"/],
    ['retryAfter type', { retryAfter: 1000 }, TypeError, /"retryAfter"/],
    ['maxRetryAfter type', { maxRetryAfter: '60s' }, TypeError, /"maxRetryAfter"/],
    ['maxRetryAfter range', { maxRetryAfter: -1 }, RangeError, /"maxRetryAfter"/],
    ['clock type', { clock: Date }, TypeError, /"clock"/],
    ['random type', { random: 0.5 }, TypeError, /"random"/],
    ['name type', { name: 5 }, TypeError, /retry: option "name"/],
    ['name range', { name: '' }, RangeError, /retry: option "name"/],
  ];
  for (const [name, options, Kind, message] of cases) {
    it(name, () => {
      expect(() => retry(options as never)).toThrow(Kind);
      expect(() => retry(options as never)).toThrow(message);
      // One rule for the factory and `new`: the constructor validates.
      expect(() => new RetryPolicy(options as never)).toThrow(Kind);
    });
  }

  it('range-like checks for options without a numeric range', () => {
    // These options are functions or objects: their "out of range" is a wrong shape, tested above;
    // a custom Backoff yielding something that is not a finite delay ends retrying instead.
    const clock = new VirtualClock();
    const bad: Backoff = { delays: () => [Number.NaN][Symbol.iterator]() };
    const { fn, attempts } = failing(5);
    return retry({ backoff: bad, clock })
      .execute(fn)
      .catch(() => {
        expect(attempts).toEqual([1]);
      });
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(RETRY_DEFAULTS)).toBe(true);
    expect(resolveRetryOptions()).toMatchObject({
      maxAttempts: RETRY_DEFAULTS.maxAttempts,
      shouldHandle: RETRY_DEFAULTS.shouldHandle,
      maxRetryAfter: RETRY_DEFAULTS.maxRetryAfter,
      random: Math.random,
      budget: undefined,
      name: 'retry',
    });
    expect(retry().name).toBe('retry');
    expect(new RetryPolicy().describe()).toEqual(retry().describe());
  });

  it('describe() is plain data from constants', () => {
    expect(retry({ maxAttempts: 4 }).describe()).toEqual({
      name: 'retry',
      options: {
        maxAttempts: 4,
        maxRetryAfter: 60_000,
        shouldHandle: 'handleTransient',
        budget: undefined,
      },
    });
    const custom = retry({
      shouldHandle: () => true,
      budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }),
    });
    expect(custom.describe().options).toMatchObject({
      shouldHandle: 'custom',
      budget: 'TokenBucketBudget',
    });
    expect(
      retry({
        budget: { begin: () => ({ tryRetry: () => false, succeed() {}, fail() {} }) },
      }).describe().options,
    ).toMatchObject({ budget: 'custom' });
    expect(retry({ shouldHandle: handleAll }).describe().options).toMatchObject({
      shouldHandle: 'handleAll',
    });
  });

  it('describeBudget names the budgets faultline ships from constants, anything else "custom"', () => {
    expect(describeBudget(ratioBudget())).toBe('RatioBudget');
    expect(describeBudget(quotaBudget())).toBe('QuotaBudget');
    expect(describeBudget(concurrencyBudget())).toBe('ConcurrencyBudget');
    expect(describeBudget(tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }))).toBe(
      'TokenBucketBudget',
    );
    class MyBudget {
      begin() {
        return { tryRetry: () => false, succeed() {}, fail() {} };
      }
    }
    expect(describeBudget(new MyBudget())).toBe('custom');
  });
});
