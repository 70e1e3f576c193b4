/**
 * `@faultline/limits`: rate limits (token bucket, GCRA, sliding window) and adaptive concurrency
 * limits (AIMD, Vegas, Gradient2). Browser-safe; the Redis store and the HTTP middleware are in
 * the Node-only entries `@faultline/limits/redis`, `/node`, `/express`, `/fastify` and `/hono`.
 * @module
 */

export { AIMD_DEFAULTS, AimdLimit, type AimdOptions, aimd } from './aimd.js';
export {
  ConcurrencyLimitPolicy,
  concurrencyLimit,
} from './concurrency-limit.js';
export {
  ConcurrencyLimitRejectedError,
  type ConcurrencyLimitRejectReason,
} from './concurrency-limit-errors.js';
export type {
  ConcurrencyLimitChangeEvent,
  ConcurrencyLimitRejectEvent,
} from './concurrency-limit-events.js';
export {
  CONCURRENCY_LIMIT_DEFAULTS,
  type ConcurrencyLimitOptions,
  type ConcurrencyLimitQueueOptions,
  type ResolvedConcurrencyLimitOptions,
  resolveConcurrencyLimitOptions,
} from './concurrency-limit-options.js';
export { ConcurrencyPermit } from './concurrency-limit-state.js';
export { FixedLimit, fixed } from './fixed.js';
export { GCRA_DEFAULTS, Gcra, type GcraOptions, type GcraState, gcra } from './gcra.js';
export {
  GRADIENT2_DEFAULTS,
  Gradient2Limit,
  type Gradient2Options,
  gradient2,
} from './gradient2.js';
export {
  concurrencyLimitedResponse,
  type LimitResponse,
  rateLimitedResponse,
  rateLimitField,
  rateLimitHeaders,
  rateLimitPolicyField,
} from './http-fields.js';
export {
  isLimitAlgorithm,
  type LimitAlgorithm,
  type LimitAlgorithmKind,
} from './limit-algorithm.js';
export { type MemoryRateLimitStore, memoryRateLimitStore } from './memory-store.js';
export {
  isRateLimitAlgorithm,
  isRateLimitStore,
  type RateLimitAlgorithm,
  type RateLimitAlgorithmKind,
  type RateLimitDecision,
  type RateLimitStore,
} from './rate-limit-algorithm.js';
export { RateLimiterPolicy, rateLimiter } from './rate-limiter.js';
export { RateLimitRejectedError } from './rate-limiter-errors.js';
export type {
  RateLimiterRejectEvent,
  RateLimiterRejectReason,
  RateLimiterWaitEvent,
} from './rate-limiter-events.js';
export {
  RATE_LIMITER_DEFAULTS,
  type RateLimiterOptions,
  type ResolvedRateLimiterOptions,
  resolveRateLimiterOptions,
} from './rate-limiter-options.js';
export {
  SLIDING_WINDOW_DEFAULTS,
  SlidingWindow,
  type SlidingWindowOptions,
  type SlidingWindowState,
  slidingWindow,
} from './sliding-window.js';
export {
  TOKEN_BUCKET_DEFAULTS,
  TokenBucket,
  type TokenBucketOptions,
  type TokenBucketState,
  tokenBucket,
} from './token-bucket.js';
export { VEGAS_DEFAULTS, VegasLimit, type VegasOptions, vegas } from './vegas.js';
