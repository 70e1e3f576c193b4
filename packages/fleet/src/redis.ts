/**
 * `@faultline/fleet/redis`: the Redis {@link FleetStore} (ioredis or node-redis, Redis or
 * Valkey). Node-only.
 * @module
 */
import { checkOptions, checkString, formatValue } from '@faultline/core';
import {
  type LuaScript,
  lua,
  type RedisClientLike,
  type RedisConnection,
  redisConnection,
} from '@faultline/core/redis';
import { breakerKeyTtl, TOKEN_KEY_TTL } from './memory-store.js';
import type {
  BreakerReply,
  BreakerRequest,
  BudgetReply,
  BudgetRequest,
  FleetOpenReason,
  FleetStore,
} from './store.js';

export type { RedisClientLike } from '@faultline/core/redis';
export type * from './store.js';

/** Options of {@link redisFleetStore}. */
export interface RedisFleetStoreOptions {
  /**
   * An ioredis client (`new Redis()`, `new Cluster()`) or a node-redis client (`createClient()`,
   * `createCluster()`), connected. The store never closes it. Give it a short reconnect delay
   * (≤ the `sync` period) and no offline queue, so that an outage fails fast and the fleet
   * rejoins as soon as Redis is back.
   */
  readonly client: RedisClientLike;
  /**
   * Prepended to every key (a non-empty string of at most 256 characters). Default
   * `'faultline:fleet:'`. Instances share a budget or breaker when they use the same Redis,
   * prefix and name.
   */
  readonly prefix?: string;
}

/** The defaults of {@link redisFleetStore}. */
export const REDIS_FLEET_STORE_DEFAULTS = Object.freeze({ prefix: 'faultline:fleet:' } as const);

const OWNER = 'redisFleetStore';

// Shared by both scripts: the store's time in ms (Redis TIME; ARGV override for tests only).
const NOW = `
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
`;

/**
 * The budget step of `memory-store.ts` (`budgetStep`), atomically. Ratio budgets keep net
 * milli-tokens per slice in hash fields named by slice number; token budgets keep field 't'.
 * ARGV: now, kind, then the request's numbers. Reply: granted, slice, balance.
 */
const BUDGET = lua(`${NOW}
local key = KEYS[1]
local kind = ARGV[2]
if kind == 'token' then
  local max, threshold = tonumber(ARGV[3]), tonumber(ARGV[4])
  local deposit, drained = tonumber(ARGV[5]), tonumber(ARGV[6])
  local returned, want = tonumber(ARGV[7]), tonumber(ARGV[8])
  local tokens = tonumber(redis.call('HGET', key, 't') or max)
  tokens = math.min(max, tokens + deposit + returned * 1000)
  if tokens - 1000 <= threshold then tokens = math.max(0, tokens - drained * 1000) end
  local granted = 0
  while granted < want and tokens - 1000 > threshold do
    tokens = tokens - 1000
    granted = granted + 1
  end
  redis.call('HSET', key, 't', tokens)
  redis.call('PEXPIRE', key, ${TOKEN_KEY_TTL})
  local balance = 0
  if tokens > threshold then balance = math.ceil((tokens - threshold) / 1000) - 1 end
  return {granted, 0, balance}
end
local ttl, slices = tonumber(ARGV[3]), tonumber(ARGV[4])
local reserve, withdrawal = tonumber(ARGV[5]), tonumber(ARGV[6])
local deposit, returned = tonumber(ARGV[7]), tonumber(ARGV[8])
local return_slice, want = tonumber(ARGV[9]), tonumber(ARGV[10])
local slice_ms = math.floor(ttl / slices)
local current = math.floor(now / slice_ms)
local oldest = current - slices + 1
local sum = 0
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local slice = tonumber(fields[i])
  if slice < oldest then redis.call('HDEL', key, fields[i]) else sum = sum + tonumber(fields[i + 1]) end
end
if deposit > 0 then
  redis.call('HINCRBY', key, current, deposit)
  sum = sum + deposit
end
if returned > 0 and return_slice >= oldest and return_slice <= current then
  redis.call('HINCRBY', key, return_slice, returned * withdrawal)
  sum = sum + returned * withdrawal
end
local count = reserve + sum
local granted = 0
if want > 0 and count >= withdrawal then
  granted = math.min(want, math.floor(count / withdrawal))
  redis.call('HINCRBY', key, current, -granted * withdrawal)
end
if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ttl + slice_ms) end
local left = count - granted * withdrawal
local balance = 0
if left > 0 then balance = math.floor(left / withdrawal) end
return {granted, current, balance}
`);

/**
 * The breaker step of `memory-store.ts` (`breakerStep`), atomically. One hash per breaker:
 * the shared state in fields o (open 0/1), b (break id), u (break end, store ms), a (attempt),
 * p / pu (probe permit token and expiry), s (permit sequence: the INCR behind every token),
 * r / f / fr (why and how it last opened), d (the current break's length); per isolating
 * instance, field 'h:<id>' = when it last said so; per instance, field 'i:<id>' = "calls failures slow at".
 * ARGV: now, op, instance, seen, calls, failures, slow, minCalls, failureRatio, slowRatio, quorum,
 * stale, breaks (comma-separated ms by attempt), token, key ttl, holding. Reply: open, isolated,
 * breakId, remaining,
 * attempt, token, permitRemaining, reason, failures, failureRate, breakDuration (fractional values as strings: Redis truncates
 * Lua numbers).
 */
const BREAKER = lua(`${NOW}
local key = KEYS[1]
local op, id = ARGV[2], ARGV[3]
local seen, calls, failures, slow = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local min_calls, failure_ratio, slow_ratio = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local quorum, stale = tonumber(ARGV[11]), tonumber(ARGV[12])
local breaks = {}
for v in string.gmatch(ARGV[13], '[^,]+') do breaks[#breaks + 1] = tonumber(v) end
local token, key_ttl = tonumber(ARGV[14]), tonumber(ARGV[15])
local holding = ARGV[16] == '1'
local h = {}
local instances = {}
local holders = {}
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local name = fields[i]
  local kind = string.sub(name, 1, 2)
  if kind == 'i:' then instances[name] = fields[i + 1]
  elseif kind == 'h:' then holders[name] = tonumber(fields[i + 1])
  else h[name] = fields[i + 1] end
end
local is_open = h.o == '1'
local break_id = tonumber(h.b or '0')
local until_ms = tonumber(h.u or '0')
local attempt = tonumber(h.a or '0')
local duration = tonumber(h.d or '0')
local probe = tonumber(h.p or '0')
local probe_until = tonumber(h.pu or '0')
local reason = h.r or 'failure-threshold'
local open_failures = tonumber(h.f or '0')
local open_rate = tonumber(h.fr or '0')
local granted = 0
local function clear_instances()
  for name in pairs(instances) do redis.call('HDEL', key, name) end
  instances = {}
end
local function open(why, f, rate)
  is_open = true
  break_id = break_id + 1
  attempt = attempt + 1
  duration = breaks[math.min(attempt, #breaks)]
  until_ms = now + duration
  probe, probe_until = 0, 0
  reason, open_failures, open_rate = why, f, rate
  clear_instances()
end
local function close()
  is_open = false
  attempt = 0
  probe, probe_until = 0, 0
  clear_instances()
end
local held = 0
for name, at in pairs(holders) do
  if now - at > stale then
    redis.call('HDEL', key, name)
    holders[name] = nil
  else
    held = held + 1
  end
end
local was_isolated = held > 0
local mine = 'h:' .. id
if holding then
  if not holders[mine] then held = held + 1 end
  holders[mine] = now
  redis.call('HSET', key, mine, string.format('%.17g', now))
elseif holders[mine] then
  holders[mine] = nil
  held = held - 1
  redis.call('HDEL', key, mine)
end
if op == 'close' then
  for name in pairs(holders) do redis.call('HDEL', key, name) end
  holders = {}
  held = 0
  close()
elseif was_isolated and held == 0 then
  close()
end
if op == 'success' or op == 'failure' then
  if is_open and token > 0 and probe == token then
    if op == 'success' then
      close()
    else
      open('probe-failed', open_failures, open_rate)
    end
  end
elseif op == 'probe' then
  if is_open and now >= until_ms and (probe == 0 or now >= probe_until) then
    granted = redis.call('HINCRBY', key, 's', 1)
    probe = granted
    probe_until = now + duration
  end
end
if not is_open and seen == break_id then
  local name = 'i:' .. id
  local value = calls .. ' ' .. failures .. ' ' .. slow .. ' ' .. string.format('%.3f', now)
  instances[name] = value
  redis.call('HSET', key, name, value)
end
if not is_open then
  local sum_calls, sum_failures, sum_slow, sick = 0, 0, 0, 0
  for name, value in pairs(instances) do
    local c, f, s, at = string.match(value, '^(%S+) (%S+) (%S+) (%S+)$')
    if now - tonumber(at) > stale then
      redis.call('HDEL', key, name)
    else
      sum_calls = sum_calls + tonumber(c)
      sum_failures = sum_failures + tonumber(f)
      sum_slow = sum_slow + tonumber(s)
      if tonumber(f) > 0 then sick = sick + 1 end
    end
  end
  if sum_calls > 0 and sum_calls >= min_calls and sick >= quorum and
    (sum_failures / sum_calls >= failure_ratio or sum_slow / sum_calls >= slow_ratio) then
    open('failure-threshold', sum_failures, sum_failures / sum_calls)
  end
end
local exact = function(x) return string.format('%.17g', x) end
redis.call('HSET', key, 'o', is_open and '1' or '0', 'b', break_id, 'u', exact(until_ms), 'a', attempt,
  'd', exact(duration), 'p', probe, 'pu', exact(probe_until), 'r', reason, 'f', open_failures, 'fr', exact(open_rate))
redis.call('PEXPIRE', key, key_ttl)
local remaining, permit_remaining = 0, 0
if is_open then
  remaining = math.max(0, until_ms - now)
  if probe ~= 0 then permit_remaining = math.max(0, probe_until - now) end
end
local current = 0
if is_open then current = duration end
return {is_open and 1 or 0, held > 0 and 1 or 0, break_id, string.format('%.3f', remaining), attempt, granted,
  string.format('%.3f', permit_remaining), reason, open_failures, exact(open_rate), exact(current)}
`);

function text(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

function num(value: unknown): number {
  return Number(text(value));
}

/** A Redis-backed {@link FleetStore}: see {@link redisFleetStore}. */
export class RedisFleetStore implements FleetStore {
  readonly kind = 'redis';
  /** Which client adapter was detected. */
  readonly clientKind: RedisConnection['kind'];
  readonly prefix: string;
  readonly #connection: RedisConnection;
  /** Test hook: a fixed store time (ms) instead of Redis TIME. */
  #now = '';

  constructor(options: RedisFleetStoreOptions) {
    const opts = checkOptions<RedisFleetStoreOptions>(OWNER, options);
    this.#connection = redisConnection(OWNER, opts.client);
    this.clientKind = this.#connection.kind;
    let prefix: string = REDIS_FLEET_STORE_DEFAULTS.prefix;
    if (opts.prefix !== undefined) {
      prefix = checkString(OWNER, 'prefix', opts.prefix);
      if (prefix === '' || prefix.length > 256) {
        throw new RangeError(
          `${OWNER}: option "prefix" must be a non-empty string of at most 256 characters, received ${formatValue(prefix)}`,
        );
      }
    }
    this.prefix = prefix;
  }

  /** The Redis key of a budget or breaker (for inspection and tests). */
  redisKey(kind: 'budget' | 'breaker', name: string): string {
    // The name in a hash tag: one key per call, and a cluster keeps it on one slot.
    return `${this.prefix}{${name}}:${kind}`;
  }

  /** @internal Pins the store time (ms) for this package's tests; `undefined` = Redis TIME. */
  setTimeForTests(now: number | undefined): void {
    this.#now = now === undefined ? '' : String(now);
  }

  async budget(name: string, r: BudgetRequest): Promise<BudgetReply> {
    const args =
      r.kind === 'token'
        ? [this.#now, 'token', r.max, r.threshold, r.deposit, r.drained, r.returned, r.want]
        : [
            this.#now,
            'ratio',
            r.ttl,
            r.slices,
            r.reserve,
            r.withdrawal,
            r.deposit,
            r.returned,
            r.returnSlice,
            r.want,
          ];
    const reply = (await this.#eval(BUDGET, this.redisKey('budget', name), args)) as unknown[];
    return { granted: num(reply[0]), slice: num(reply[1]), balance: num(reply[2]) };
  }

  async breaker(name: string, r: BreakerRequest): Promise<BreakerReply> {
    const args = [
      this.#now,
      r.op,
      r.instance,
      r.seen,
      r.calls,
      r.failures,
      r.slow,
      r.rule.minCalls,
      r.rule.failureRatio,
      r.rule.slowRatio,
      r.quorum,
      r.stale,
      r.breaks.map(numberArgument).join(','),
      r.token,
      Math.ceil(breakerKeyTtl(r)),
      r.holding ? '1' : '0',
    ];
    const reply = (await this.#eval(BREAKER, this.redisKey('breaker', name), args)) as unknown[];
    return {
      open: num(reply[0]) === 1,
      isolated: num(reply[1]) === 1,
      breakId: num(reply[2]),
      remaining: num(reply[3]),
      attempt: num(reply[4]),
      token: num(reply[5]),
      permitRemaining: num(reply[6]),
      reason: text(reply[7]) as FleetOpenReason,
      failures: num(reply[8]),
      failureRate: num(reply[9]),
      breakDuration: num(reply[10]),
    };
  }

  #eval(script: LuaScript, key: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.#connection.eval(
      script,
      [key],
      args.map((value) => (typeof value === 'number' ? numberArgument(value) : value)),
    );
  }
}

/** Numbers as Lua's tonumber reads them back exactly (17 significant digits). */
function numberArgument(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(17);
}

/**
 * A {@link FleetStore} on Redis (or Valkey): each budget and breaker is one hash under
 * `prefix`, changed only by Lua scripts on the server's clock (`TIME`), and every key expires
 * (a dead fleet leaves nothing behind). Works with ioredis and node-redis, standalone or cluster.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisFleetStore } from '@faultline/fleet/redis';
 * const store = redisFleetStore({ client: new Redis({ enableOfflineQueue: false }), prefix: 'checkout:' });
 * ```
 */
export function redisFleetStore(options: RedisFleetStoreOptions): RedisFleetStore {
  return new RedisFleetStore(options);
}
