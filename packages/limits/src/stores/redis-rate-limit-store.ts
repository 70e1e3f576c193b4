import { createHash } from 'node:crypto';
import { checkOptions, formatValue } from '@faultline/core';
import { checkRedisPrefix, unexpectedReply } from '@faultline/core/redis';
import type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitStore,
} from '../rate-limit-algorithm.js';

/**
 * The part of an ioredis client (`Redis` or `Cluster`, v5+) the store uses: `call`, which sends
 * any command (a cluster routes it by its first key).
 */
export interface IoRedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  callBuffer(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** The part of a node-redis client (`createClient()`, v4+) the store uses. */
export interface NodeRedisLike {
  sendCommand(args: readonly string[]): Promise<unknown>;
  readonly isOpen: boolean;
}

/** The part of a node-redis cluster (`createCluster()`) the store uses. */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: readonly string[],
  ): Promise<unknown>;
  getSlotMaster(slot: number): unknown;
}

/** A Redis client the store accepts: ioredis or node-redis (client or cluster). */
export type RedisClient = IoRedisLike | NodeRedisLike | NodeRedisClusterLike;

/** Options of {@link redisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /**
   * An ioredis client (`new Redis()`, `new Cluster()`) or a node-redis client (`createClient()`,
   * `createCluster()`), connected. The store never closes it.
   */
  readonly client: RedisClient;
  /**
   * Prepended to every key (a non-empty string of at most 256 characters). Default
   * `'faultline:rl:'`. Processes share a limit when they use the same Redis, prefix, key and
   * algorithm kind.
   */
  readonly prefix?: string;
}

/** The defaults of {@link redisRateLimitStore}. */
export const REDIS_RATE_LIMIT_STORE_DEFAULTS = Object.freeze({ prefix: 'faultline:rl:' });

/** A Redis-backed {@link RateLimitStore}: see {@link redisRateLimitStore}. */
export interface RedisRateLimitStore extends RateLimitStore {
  readonly kind: 'redis';
  /** Which client adapter was detected. */
  readonly clientKind: 'ioredis' | 'node-redis' | 'node-redis-cluster';
  readonly prefix: string;
  /** The Redis key that holds `key`'s state under `algorithm` (for inspection and tests). */
  redisKey(key: string, algorithm: RateLimitAlgorithm): string;
}

const OWNER = 'redisRateLimitStore';

/**
 * One script for the three algorithms, run atomically by Redis on its own clock (`TIME`): the
 * same arithmetic as `gcra.ts`, `token-bucket.ts` and `sliding-window.ts`, in milliseconds since
 * the epoch as doubles (0.25 µs resolution today). Keys expire when their limit is full again,
 * so an idle key costs nothing.
 *
 * KEYS[1]: the key. ARGV: kind ('gcra' | 'token-bucket' | 'sliding-window'), permits, three
 * parameters, and a time override ('' = Redis TIME; set only by this package's own tests).
 * Reply: { allowed (0/1), remaining, retryAfter ('-1' = never), resetAfter } (ms as strings:
 * Redis would truncate Lua numbers to integers).
 */
const SCRIPT = `
local key = KEYS[1]
local kind = ARGV[1]
local permits = tonumber(ARGV[2])
local now
if ARGV[6] ~= '' then
  now = tonumber(ARGV[6])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local function ms(x) return string.format('%.3f', x) end
local function px(x) return math.max(1, math.ceil(x)) end
-- Stored times keep every bit of the double (its resolution is ~0.25 us at today's epoch ms).
local function exact(x) return string.format('%.6f', x) end

if kind == 'gcra' then
  local interval = tonumber(ARGV[3])
  local tolerance = tonumber(ARGV[4])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local increment = interval * permits
  local allow_at = tat + increment - tolerance
  local allowed, retry, ttl
  if now + 0.001 < allow_at then
    allowed = 0
    if increment <= tolerance then retry = ms(allow_at - now) else retry = '-1' end
    ttl = tat - now
  else
    allowed = 1
    retry = '0'
    ttl = tat + increment - now
    if permits > 0 then redis.call('SET', key, exact(tat + increment), 'PX', px(ttl)) end
  end
  local left = tolerance - ttl
  local remaining = 0
  if left > -interval then remaining = math.max(0, math.floor(left / interval + 1e-9)) end
  return {allowed, remaining, retry, ms(ttl)}
end

if kind == 'token-bucket' then
  local per_ms = tonumber(ARGV[3])
  local burst = tonumber(ARGV[4])
  local epsilon = tonumber(ARGV[5])
  local tokens = burst
  local state = redis.call('GET', key)
  if state then
    local stored, updated = string.match(state, '^(%S+) (%S+)$')
    tokens = tonumber(stored)
    if now > tonumber(updated) then tokens = math.min(burst, tokens + (now - tonumber(updated)) * per_ms) end
  end
  local allowed, retry = 0, '0'
  if permits > burst then
    retry = '-1'
  elseif tokens + epsilon >= permits then
    tokens = math.max(0, tokens - permits)
    allowed = 1
  else
    retry = ms((permits - tokens) / per_ms)
  end
  local reset = (burst - tokens) / per_ms
  if tokens < burst then
    redis.call('SET', key, string.format('%.17g', tokens) .. ' ' .. exact(now), 'PX', px(reset))
  else
    redis.call('DEL', key)
  end
  return {allowed, math.floor(tokens + epsilon), retry, ms(reset)}
end

if kind == 'sliding-window' then
  local limit = tonumber(ARGV[3])
  local window = tonumber(ARGV[4])
  local segments = tonumber(ARGV[5])
  local current = math.floor(now * segments / window)
  local oldest = current - segments
  local counts = {}
  local total = 0
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local segment = tonumber(fields[i])
    if segment < oldest then
      redis.call('HDEL', key, fields[i])
    else
      counts[segment] = (counts[segment] or 0) + tonumber(fields[i + 1])
      total = total + tonumber(fields[i + 1])
    end
  end
  local function start_of(segment) return segment * window / segments end
  local allowed, retry = 0, '0'
  if permits > limit then
    retry = '-1'
  elseif total + permits <= limit then
    if permits > 0 then
      redis.call('HINCRBY', key, tostring(current), permits)
      counts[current] = (counts[current] or 0) + permits
      total = total + permits
    end
    allowed = 1
  else
    local needed = total + permits - limit
    local freed = 0
    for segment = oldest, current do
      freed = freed + (counts[segment] or 0)
      if freed >= needed then
        retry = ms(start_of(segment + segments + 1) - now)
        break
      end
    end
  end
  local reset = 0
  for segment = current, oldest, -1 do
    if (counts[segment] or 0) > 0 then
      reset = start_of(segment + segments + 1) - now
      break
    end
  end
  if reset > 0 then redis.call('PEXPIRE', key, px(reset)) end
  return {allowed, limit - total, retry, ms(reset)}
end

return redis.error_reply('faultline rate limit: unknown algorithm ' .. tostring(kind))
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

type Send = (key: string, args: readonly string[]) => Promise<unknown>;

function isNoScript(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.includes('NOSCRIPT');
}

/** Detects the client's shape and returns how to send a command. */
function sender(client: unknown): { kind: RedisRateLimitStore['clientKind']; send: Send } {
  const candidate = client as Record<string, unknown> | null;
  if (candidate !== null && typeof candidate === 'object') {
    // ioredis (v5 and v6 both have `callBuffer`; v6 also has a `sendCommand` of its own).
    if (typeof candidate.call === 'function' && typeof candidate.callBuffer === 'function') {
      const io = client as IoRedisLike;
      return {
        kind: 'ioredis',
        send: (_key, [command, ...args]) => io.call(command!, ...args),
      };
    }
    if (
      typeof candidate.sendCommand === 'function' &&
      typeof candidate.getSlotMaster === 'function'
    ) {
      const cluster = client as NodeRedisClusterLike;
      // The cluster routes by `firstKey`; the script writes, so never to a replica.
      return {
        kind: 'node-redis-cluster',
        send: (key, args) => cluster.sendCommand(key, false, args),
      };
    }
    if (typeof candidate.sendCommand === 'function' && 'isOpen' in candidate) {
      const node = client as NodeRedisLike;
      return { kind: 'node-redis', send: (_key, args) => node.sendCommand(args) };
    }
  }
  throw new TypeError(
    `${OWNER}: option "client" must be an ioredis client (Redis or Cluster) or a node-redis client (createClient or createCluster), received ${formatValue(client)}`,
  );
}

/** The three script parameters of an algorithm. */
function parameters(algorithm: RateLimitAlgorithm): [string, string, string] {
  const described = algorithm.describe().options;
  switch (algorithm.kind) {
    case 'gcra': {
      const interval = described.per! / described.rate!;
      return [String(interval), String(interval * (described.burst! + 1)), '0'];
    }
    case 'token-bucket': {
      const perMs = described.rate! / described.per!;
      return [String(perMs), String(described.burst!), String(1e-9 + perMs * 1e-3)];
    }
    case 'sliding-window':
      return [String(described.limit!), String(described.window!), String(described.segments!)];
  }
}

/** A script reply turned into a decision. */
function decision(reply: unknown, algorithm: RateLimitAlgorithm): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length !== 4) throw unexpectedReply(OWNER, reply);
  const [allowed, remaining, retry, reset] = reply as [unknown, unknown, unknown, unknown];
  const retryAfter = String(retry) === '-1' ? Number.POSITIVE_INFINITY : Number(retry);
  const resetAfter = Number(reset);
  const left = Number(remaining);
  if (!Number.isFinite(resetAfter) || !Number.isFinite(left) || Number.isNaN(retryAfter)) {
    throw unexpectedReply(OWNER, reply);
  }
  return {
    allowed: Number(allowed) === 1,
    limit: algorithm.limit,
    remaining: left,
    retryAfter,
    resetAfter,
  };
}

/**
 * @internal The store with a time source for the script (`now()` in ms since the epoch), for
 * this package's tests of the script's arithmetic at chosen times. Production uses Redis TIME.
 */
export function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions,
  scriptTime?: () => number,
): RedisRateLimitStore {
  if (options === undefined) {
    throw new TypeError(`${OWNER}: options must be an object with a "client", received undefined`);
  }
  const opts = checkOptions<RedisRateLimitStoreOptions>(OWNER, options);
  const { kind, send } = sender(opts.client);
  const prefix =
    opts.prefix === undefined
      ? REDIS_RATE_LIMIT_STORE_DEFAULTS.prefix
      : checkRedisPrefix(OWNER, opts.prefix);
  const redisKey = (key: string, algorithm: RateLimitAlgorithm): string =>
    `${prefix}${algorithm.kind}:${key}`;
  const run = async (redisKeyName: string, args: readonly string[]): Promise<unknown> => {
    try {
      return await send(redisKeyName, ['EVALSHA', SHA, '1', redisKeyName, ...args]);
    } catch (error) {
      // First use, a restart or SCRIPT FLUSH: EVAL runs it and caches it again.
      if (!isNoScript(error)) throw error;
      return send(redisKeyName, ['EVAL', SCRIPT, '1', redisKeyName, ...args]);
    }
  };
  return {
    kind: 'redis',
    clientKind: kind,
    prefix,
    redisKey,
    async consume(key, algorithm, permits) {
      const name = redisKey(key, algorithm);
      const time = scriptTime === undefined ? '' : String(scriptTime());
      const reply = await run(name, [
        algorithm.kind,
        String(permits),
        ...parameters(algorithm),
        time,
      ]);
      return decision(reply, algorithm);
    },
  };
}

/**
 * A {@link RateLimitStore} in Redis, shared by every process that uses the same Redis and
 * prefix: one `EVALSHA` round trip per decision, atomic (a Lua script), on Redis's own clock
 * (`TIME`), so no client clock is trusted and clocks that disagree between processes do not
 * matter. Runs all three algorithms; a key's state expires as soon as its limit is full again.
 *
 * For a store of your own (another database, a fleet-wide limit), implement
 * {@link RateLimitStore}: `consume(key, algorithm, permits, now)` must decide atomically and may
 * read the algorithm's parameters from `algorithm.describe().options` (its `kind` says which
 * formula applies; `gcra.ts`, `token-bucket.ts` and `sliding-window.ts` hold the arithmetic).
 *
 * ```ts
 * import Redis from 'ioredis';
 * const store = redisRateLimitStore({ client: new Redis(process.env.REDIS_URL) });
 * const perTenant = rateLimiter({ limit: gcra({ rate: 100, burst: 20 }), store, key: tenantOf });
 * ```
 */
export function redisRateLimitStore(options: RedisRateLimitStoreOptions): RedisRateLimitStore {
  return createRedisRateLimitStore(options);
}
