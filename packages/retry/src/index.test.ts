import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public surface', () => {
  it('exports the documented API', () => {
    for (const name of [
      'constant',
      'linear',
      'fromDelays',
      'exponential',
      'decorrelatedJitterV2',
      'retry',
      'RetryPolicy',
      'BudgetExhaustedError',
      'tokenBucketBudget',
      'ratioBudget',
      'quotaBudget',
      'concurrencyBudget',
      'retryableHttp',
      'fetchTask',
      'parseRetryAfter',
      'retryAfterFromHeaders',
      'httpRetryAfter',
      'handleTransient',
      'isTimeoutError',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
