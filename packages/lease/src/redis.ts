/**
 * Redis store and fences for `@faultline/lease`: `redisLeaseStore({ client })` with an ioredis or
 * node-redis client, and `fencedSet` / `fencedGet` / `fencedEval` to check fencing tokens at a
 * Redis resource. Node-only.
 * @module
 */

export type {
  IoRedisClientLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  RedisClientLike,
} from '@faultline/core/redis';
export {
  REDIS_LEASE_STORE_DEFAULTS,
  type RedisLeaseStore,
  type RedisLeaseStoreOptions,
  redisLeaseStore,
} from './stores/redis.js';
export {
  FENCE_PRELUDE,
  type FencedEvalOptions,
  type FencedGetOptions,
  type FencedScript,
  type FencedSetOptions,
  fencedEval,
  fencedGet,
  fencedScript,
  fencedSet,
} from './stores/redis-fence.js';
