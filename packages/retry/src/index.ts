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
export { ConcurrencyBudget, concurrencyBudget } from './budgets/concurrency.js';
export {
  CONCURRENCY_BUDGET_DEFAULTS,
  type ConcurrencyBudgetOptions,
  type ResolvedConcurrencyBudgetOptions,
  resolveConcurrencyBudgetOptions,
} from './budgets/concurrency-options.js';
export { describeBudget } from './budgets/describe.js';
export { QuotaBudget, quotaBudget } from './budgets/quota.js';
export {
  isThrottlingOutcome,
  QUOTA_BUDGET_DEFAULTS,
  type QuotaBudgetOptions,
  type ResolvedQuotaBudgetOptions,
  resolveQuotaBudgetOptions,
} from './budgets/quota-options.js';
export { RatioBudget, ratioBudget } from './budgets/ratio.js';
export {
  RATIO_BUDGET_DEFAULTS,
  type RatioBudgetOptions,
  type ResolvedRatioBudgetOptions,
  resolveRatioBudgetOptions,
} from './budgets/ratio-options.js';
export { TokenBucketBudget, tokenBucketBudget } from './budgets/token-bucket.js';
export {
  type ResolvedTokenBucketBudgetOptions,
  resolveTokenBucketBudgetOptions,
  type TokenBucketBudgetOptions,
} from './budgets/token-bucket-options.js';
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
export { RetryPolicy, retry } from './retry.js';
export {
  type HeadersLike,
  httpRetryAfter,
  parseHttpDate,
  parseRetryAfter,
  retryAfterFromHeaders,
} from './retry-after.js';
export { BudgetExhaustedError } from './retry-errors.js';
export type {
  GiveUpEvent,
  GiveUpReason,
  RetryEvent,
  RetryGiveUpEvent,
  RetryGiveUpReason,
  RetrySuccessEvent,
} from './retry-events.js';
export {
  RETRY_DEFAULTS,
  type ResolvedRetryOptions,
  type RetryAfter,
  type RetryOptions,
  resolveRetryOptions,
} from './retry-options.js';
export { handleTransient, isTimeoutError } from './should-handle.js';
