/**
 * `@faultline/limits`: rate limits (token bucket, GCRA, sliding window) and adaptive concurrency
 * limits (AIMD, Vegas, Gradient2). Browser-safe; the Redis store and the HTTP middleware are in
 * the Node-only entries `@faultline/limits/redis`, `/node`, `/express`, `/fastify` and `/hono`.
 * @module
 */
export { GCRA_DEFAULTS, Gcra, type GcraOptions, type GcraState, gcra } from './gcra.js';
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
