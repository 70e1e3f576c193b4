/**
 * Redis store for `@faultline/idempotency`: `redisStore({ client })` with an ioredis or
 * node-redis client. Several app instances sharing one Redis execute each key once.
 * @module
 */

export type {
  IoRedisClientLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  RedisClientLike,
} from '@faultline/core/redis';
export { type RedisStore, type RedisStoreOptions, redisStore } from './stores/redis.js';
