/**
 * The Redis store of `@faultline/limits` (Node): `redisRateLimitStore({ client })` with an ioredis
 * or node-redis client. Every process that uses the same Redis and prefix shares each limit.
 * @module
 */
export {
  type IoRedisLike,
  type NodeRedisClusterLike,
  type NodeRedisLike,
  REDIS_RATE_LIMIT_STORE_DEFAULTS,
  type RedisClient,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  redisRateLimitStore,
} from './stores/redis-rate-limit-store.js';
