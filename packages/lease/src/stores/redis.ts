import { Buffer } from 'node:buffer';
import { checkOptions } from '@faultline/core';
import {
  checkRedisPrefix,
  lua,
  type RedisArgument,
  type RedisClientLike,
  type RedisConnection,
  redisConnection,
  redisFlag,
  unexpectedReply,
} from '@faultline/core/redis';
import type { LeaseGrant, LeaseHeld, LeaseStore } from '../lease-store.js';

/** Options for {@link redisLeaseStore}. */
export interface RedisLeaseStoreOptions {
  /**
   * An ioredis client (`new Redis()`, `new Cluster()`, v5+) or a node-redis client
   * (`createClient()` / `createCluster()`, v4+), already connected. The store never closes it.
   * Give it a command timeout (ioredis `commandTimeout`, node-redis `socket.socketTimeout`) or
   * rely on the lease's own: a stalled Redis must not hold an acquire forever.
   */
  readonly client: RedisClientLike;
  /**
   * Prepended to every key. Default `'faultline:lease:'`; a non-empty string of at most 256
   * characters without `{` or `}` (the store puts the resource in a hash tag so that a
   * resource's two keys share a cluster slot).
   */
  readonly prefix?: string;
}

/** The defaults of {@link redisLeaseStore}. */
export const REDIS_LEASE_STORE_DEFAULTS = Object.freeze({ prefix: 'faultline:lease:' });

/** A Redis-backed {@link LeaseStore}: see {@link redisLeaseStore}. */
export interface RedisLeaseStore extends LeaseStore {
  /** Which client adapter was detected. */
  readonly clientKind: 'ioredis' | 'node-redis' | 'node-redis-cluster';
  /** The key prefix in use. */
  readonly prefix: string;
  /**
   * The two keys of `resource`: the lease (a string with `PX` expiry, absent when free) and the
   * token counter (never expires). Both share the hash tag `{resource}`.
   */
  keys(resource: string): { readonly lease: string; readonly token: string };
}

const OWNER = 'redisLeaseStore';

/**
 * Acquire, one round trip. KEYS: lease, counter. ARGV: owner, ttl (ms, integer).
 * Reply: {1, token} (granted; the token as a decimal string) or {0, pttl} (held).
 *
 * The token is a hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014) kept on
 * the server: `max(counter + 1, TIME in µs)`. `INCR` alone makes it strictly increasing while the
 * counter survives; the floor at the server's time makes it strictly increasing across a restart
 * without persistence (the counter is gone and `INCR` would start again at 1) and across a
 * failover to a replica that missed the last grants, as long as the new server's clock is not
 * behind the old one by more than the outage lasted. Time comes from Redis `TIME`, never from the
 * client. Redis ≥ 5 replicates a script's effects, so calling `TIME` before a write is allowed.
 * Lua numbers are doubles: integers are exact below 2^53 (µs since 1970 stay below it until
 * year 2255), and the reply is formatted with `%.0f` so no digit is lost.
 */
const ACQUIRE = lua(`
local held = redis.call('PTTL', KEYS[1])
if held == -1 then
  return redis.error_reply('${OWNER}: key ' .. KEYS[1] .. ' has no expiry: not a lease of this store')
end
if held ~= -2 then return {0, held} end
local token = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if token < now then
  token = now
  redis.call('SET', KEYS[2], string.format('%.0f', token))
end
if token >= 9007199254740991 then
  return redis.error_reply('${OWNER}: token counter ' .. KEYS[2] .. ' is past 2^53')
end
local text = string.format('%.0f', token)
redis.call('SET', KEYS[1], text .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {1, text}
`);

/**
 * Renew: compare-and-set on "token owner"; an expired lease is gone and cannot be revived.
 * KEYS: lease. ARGV: "token owner", ttl (ms). Reply 1 or 0.
 */
const RENEW = lua(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** Release: compare-and-delete on "token owner". KEYS: lease. ARGV: "token owner". */
const RELEASE = lua(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

/** A bulk string reply (Buffer with the adapters' buffer replies) as text. */
export function replyText(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
  return undefined;
}

/** Milliseconds as `PX` wants them: an integer, rounded up so the lease is never shorter. */
function px(ms: number): string {
  return String(Math.max(1, Math.ceil(ms)));
}

/**
 * A {@link LeaseStore} on Redis, shared by every process that uses the same Redis and prefix.
 * Works with ioredis and node-redis clients (through `@faultline/core/redis`).
 *
 * - **One script per operation**, one round trip each: acquire + release is 2 round trips.
 * - **Expiry** is Redis's own (`PX` on the lease key): the client's clock is never read.
 * - **Tokens**: `INCR` on a per-resource counter that never expires, floored at the server's
 *   `TIME` in microseconds, so a token is never handed out twice even when Redis restarts without
 *   persistence or fails over to a replica that lost the last grants (see the README's durability
 *   section). Tokens are therefore large numbers (about 1.8 × 10^15), not 1, 2, 3.
 * - **Renew / release**: compare-and-set on the owner and token; a lease that expired or was
 *   taken over is never renewed or released by its former holder.
 *
 * Redis replication is asynchronous and a lease is only as safe as Redis's durability: for
 * correctness-critical mutual exclusion use `postgresLeaseStore` and fence the resource.
 *
 * ```ts
 * import Redis from 'ioredis';
 * const store = redisLeaseStore({ client: new Redis(process.env.REDIS_URL) });
 * const lease = createLease({ store, resource: 'orders-compactor', ttl: 10_000 });
 * ```
 */
export function redisLeaseStore(options: RedisLeaseStoreOptions): RedisLeaseStore {
  if (options === undefined) {
    throw new TypeError(`${OWNER}: options must be an object with a "client", received undefined`);
  }
  const opts = checkOptions<RedisLeaseStoreOptions>(OWNER, options);
  const connection: RedisConnection = redisConnection(OWNER, opts.client);
  const prefix =
    opts.prefix === undefined
      ? REDIS_LEASE_STORE_DEFAULTS.prefix
      : checkRedisPrefix(OWNER, opts.prefix, true);

  const keys = (resource: string) => {
    const base = `${prefix}{${resource}}`;
    return { lease: base, token: `${base}:token` };
  };
  // Resources are opaque strings; keys are sent as bytes so that any character survives.
  const leaseKey = (resource: string): Buffer => Buffer.from(`${prefix}{${resource}}`, 'utf8');
  const holder = (owner: string, token: bigint): Buffer => Buffer.from(`${token} ${owner}`, 'utf8');

  const flag = (reply: unknown): boolean => redisFlag(OWNER, reply);

  return {
    clientKind: connection.kind,
    prefix,
    keys,

    async acquire(resource: string, owner: string, ttl: number): Promise<LeaseGrant | LeaseHeld> {
      const { lease, token } = keys(resource);
      const reply = await connection.eval(
        ACQUIRE,
        [Buffer.from(lease, 'utf8'), Buffer.from(token, 'utf8')],
        [Buffer.from(owner, 'utf8'), px(ttl)] satisfies RedisArgument[],
      );
      if (!Array.isArray(reply) || reply.length !== 2) throw unexpectedReply(OWNER, reply);
      if (Number(reply[0]) === 1) {
        const text = replyText(reply[1]);
        if (text === undefined || !/^[0-9]+$/.test(text)) throw unexpectedReply(OWNER, reply);
        return { token: BigInt(text), ttl };
      }
      if (Number(reply[0]) !== 0) throw unexpectedReply(OWNER, reply);
      const remaining = Number(reply[1]);
      if (!Number.isFinite(remaining)) throw unexpectedReply(OWNER, reply);
      return { held: true, retryAfter: Math.max(0, remaining) };
    },

    async renew(resource: string, owner: string, token: bigint, ttl: number): Promise<boolean> {
      return flag(
        await connection.eval(RENEW, [leaseKey(resource)], [holder(owner, token), px(ttl)]),
      );
    },

    async release(resource: string, owner: string, token: bigint): Promise<boolean> {
      return flag(await connection.eval(RELEASE, [leaseKey(resource)], [holder(owner, token)]));
    },
  };
}
