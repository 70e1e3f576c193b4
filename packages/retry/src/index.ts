export {
  type Backoff,
  constant,
  type DecorrelatedJitterV2Options,
  decorrelatedJitterV2,
  type ExponentialBackoffOptions,
  exponential,
  fromDelays,
  type Jitter,
  type LinearBackoffOptions,
  linear,
} from './backoff.js';
export { isRetryBudget, type RetryBudget, type RetryTicket } from './budgets/budget.js';
export {
  ConcurrencyBudget,
  type ConcurrencyBudgetOptions,
  concurrencyBudget,
} from './budgets/concurrency.js';
export {
  isThrottlingOutcome,
  QuotaBudget,
  type QuotaBudgetOptions,
  quotaBudget,
} from './budgets/quota.js';
export { RatioBudget, type RatioBudgetOptions, ratioBudget } from './budgets/ratio.js';
export {
  TokenBucketBudget,
  type TokenBucketBudgetOptions,
  tokenBucketBudget,
} from './budgets/token-bucket.js';
export { BudgetExhaustedError } from './errors.js';
export {
  fetchTask,
  type HttpRequestInfo,
  IDEMPOTENT_METHODS,
  isNetworkError,
  RETRYABLE_STATUSES,
  type RetryableHttpOptions,
  requestOf,
  retryableHttp,
} from './http.js';
export {
  type GiveUpEvent,
  type GiveUpReason,
  type RetryAfter,
  type RetryEvent,
  type RetryOptions,
  RetryPolicy,
  type RetrySuccessEvent,
  retry,
} from './retry.js';
export {
  type HeadersLike,
  httpRetryAfter,
  parseHttpDate,
  parseRetryAfter,
  retryAfterFromHeaders,
} from './retry-after.js';
export { handleTransient, isTimeoutError } from './should-handle.js';
