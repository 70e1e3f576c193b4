import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { checkBoolean, checkOptions, formatValue } from '@faultline/core';
import {
  checkRedisPrefix,
  type LuaScript,
  lua,
  type RedisArgument,
  type RedisClientLike,
  type RedisConnection,
  redisConnection,
  redisFlag,
  unexpectedReply,
} from '@faultline/core/redis';
import type { ClaimRequest, ClaimResult, Store, StoredRecord, StoredResponse } from '../store.js';
import { ScriptBatch } from './redis-batch.js';
import {
  COMPLETED_TAG,
  decodeRecord,
  encodeClaim,
  encodeResponse,
  IN_PROGRESS_TAG,
  ownedPrefix,
} from './redis-codec.js';

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`new Redis()`, `new Cluster()`, v5+) or a node-redis client
   * (`createClient()` / `createCluster()`, v4+), already connected. The store never closes it.
   */
  readonly client: RedisClientLike;
  /**
   * Prepended to every store key. Default `'faultline:idem:'`; a non-empty string of at most
   * 256 characters. Use a hash tag (`'{idem}:'`) only if you need every record on one cluster
   * slot (you normally do not: each operation touches a single key).
   */
  readonly prefix?: string;
  /**
   * ioredis `Redis` clients only (node-redis pipelines by itself; a `Cluster` routes each key on
   * its own): send the claims of one event-loop turn as one script call, and the completions
   * likewise, instead of one call each, and the store's other commands of the turn, with
   * whatever else the client sends in it, in one socket write (the client's socket is corked
   * until `setImmediate`). Default `true`; `false` sends one call per operation and leaves the
   * client's socket alone.
   */
  readonly coalesceWrites?: boolean;
}

/** A Redis-backed {@link Store}: see {@link redisStore}. */
export interface RedisStore extends Store {
  /** Which client adapter was detected. */
  readonly clientKind: 'ioredis' | 'node-redis' | 'node-redis-cluster';
  /** The key prefix in use. */
  readonly prefix: string;
}

const OWNER = 'redisStore';

// Every script reads the value with `pcall`: a key holding another Redis type (a hash, a list)
// is an error table there, which each script treats as "not an owned record" or "unreadable".

/**
 * Claim (behaviour rows 5, 6, 8, 9, 11, 21) in one round trip, for each of its keys in turn
 * (KEYS[i] with ARGV[2i-1] the value, ARGV[2i] the lock TTL: see {@link ScriptBatch}). A free
 * key (a fresh one, or an expired record: PX expiry means rows 8 and 11 are already gone) is
 * taken by `SET NX PX … GET`, one command, which otherwise answers what is there (Redis 7.0+;
 * earlier servers refuse `NX` with `GET`: see {@link CLAIM_BEFORE_7}). The script then checks
 * what it found: it replaces what it can tell is garbage (another Redis type, unknown tag, no
 * expiry; `SET` overwrites any type) and answers the live record with its PTTL (0 means it
 * expires this millisecond: treated as gone). Any other error (a server without `NX … GET`)
 * is the script's answer, before anything was written. Answers, per key, 0 (claimed, no
 * record), 1 (claimed, replaced garbage) or {value, pttl}.
 */
const CLAIM = lua(`
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local v = redis.pcall('SET', key, ARGV[2 * i - 1], 'NX', 'PX', ARGV[2 * i], 'GET')
  if not v then
    out[i] = 0
  else
    local garbage = true
    if type(v) == 'string' then
      local tag = string.sub(v, 1, 4)
      if tag == '${IN_PROGRESS_TAG}' or tag == '${COMPLETED_TAG}' then
        local ttl = redis.call('PTTL', key)
        if ttl > 0 then out[i] = {v, ttl} else garbage = ttl == -1 end
      end
    elseif string.sub(v.err, 1, 9) ~= 'WRONGTYPE' then
      return v
    end
    if not out[i] then
      redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i])
      if garbage then out[i] = 1 else out[i] = 0 end
    end
  end
end
return out
`);

/**
 * {@link CLAIM} for servers before Redis 7.0 (`SET NX PX`, then `GET` when the key was taken):
 * the same answers, one more command inside the script when the key holds something.
 */
const CLAIM_BEFORE_7 = lua(`
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('SET', key, ARGV[2 * i - 1], 'NX', 'PX', ARGV[2 * i]) then
    out[i] = 0
  else
    local v = redis.pcall('GET', key)
    local garbage = true
    if type(v) == 'string' then
      local tag = string.sub(v, 1, 4)
      if tag == '${IN_PROGRESS_TAG}' or tag == '${COMPLETED_TAG}' then
        local ttl = redis.call('PTTL', key)
        if ttl > 0 then out[i] = {v, ttl} else garbage = ttl == -1 end
      end
    end
    if not out[i] then
      redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i])
      if garbage then out[i] = 1 else out[i] = 0 end
    end
  end
end
return out
`);

/** A server that refused `SET … NX … GET` (before Redis 7.0: `ERR syntax error`). */
function isSyntaxError(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.includes('syntax error');
}

/** Replaces the value only if it is still the garbage the caller saw (SHA-1 compare). */
const REPLACE_UNREADABLE = lua(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or redis.sha1hex(v) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/** The live record and its PTTL, or nil. */
const READ = lua(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' then return false end
return {v, redis.call('PTTL', KEYS[1])}
`);

/**
 * Compare-and-set completion (row 12, fencing row 15), for each of its keys in turn (KEYS[i] with
 * ARGV[3i-2] the owned prefix, ARGV[3i-1] the response part, ARGV[3i] the record TTL): only the
 * owner's IN_PROGRESS record, which still exists (PX deletes it when the lock expires), becomes
 * COMPLETED with the response and a new PX. A record this owner already completed answers 1
 * unchanged (a retried write whose first attempt landed). Answers 1 or 0 per key.
 */
const COMPLETE = lua(`
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local owned = ARGV[3 * i - 2]
  local v = redis.pcall('GET', key)
  out[i] = 0
  if type(v) == 'string' then
    local head = string.sub(v, 1, #owned)
    if head == owned then
      redis.call('SET', key, '${COMPLETED_TAG}' .. string.sub(v, 5) .. ARGV[3 * i - 1], 'PX', ARGV[3 * i])
      out[i] = 1
    elseif head == '${COMPLETED_TAG}' .. string.sub(owned, 5) then
      out[i] = 1
    end
  end
end
return out
`);

/** Compare-and-renew (row 20): a lock that already expired is gone and cannot be revived. */
const RENEW = lua(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** Compare-and-delete (rows 13, 14): the owner's IN_PROGRESS record only. */
const RELEASE = lua(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

/** An ioredis `Redis` client (one connection), not a `Cluster` nor a node-redis client. */
function isSingleIoRedis(client: unknown): boolean {
  const io = client as { evalshaBuffer?: unknown; isCluster?: unknown };
  return typeof io.evalshaBuffer === 'function' && io.isCluster !== true;
}

function ms(value: number): string {
  // PX takes an integer; round up so that a lease is never shorter than asked.
  return String(Math.max(1, Math.ceil(value)));
}

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  // A string here means the client decoded the bytes as text: bodies would be corrupted, so
  // this is an error, never a silent conversion.
  return undefined;
}

/** A `[value, pttl]` reply turned into a record, or `'unreadable'` with the raw value. */
function toRecord(reply: unknown): StoredRecord | { unreadable: Buffer } | undefined {
  if (reply === null || reply === undefined || reply === false) return undefined;
  if (!Array.isArray(reply) || reply.length !== 2) throw unexpectedReply(OWNER, reply);
  const value = asBuffer(reply[0]);
  const pttl = Number(reply[1]);
  if (value === undefined || !Number.isFinite(pttl)) throw unexpectedReply(OWNER, reply);
  if (pttl === -2) return undefined; // The key vanished (cannot happen inside one script).
  const decoded = decodeRecord(value);
  if (decoded === undefined || pttl === -1) return { unreadable: value };
  // PTTL is whole milliseconds; 0 means "less than 1 ms left", still live.
  const expiresIn = Math.max(1, pttl);
  return decoded.response === undefined
    ? { status: decoded.status, fingerprint: decoded.fingerprint, expiresIn }
    : {
        status: decoded.status,
        fingerprint: decoded.fingerprint,
        response: decoded.response,
        expiresIn,
      };
}

/**
 * An idempotency {@link Store} on Redis, shared by every app instance that uses the same Redis
 * and prefix. Works with ioredis and node-redis clients.
 *
 * - **Claim**: one `EVALSHA` round trip. The script sets `IN_PROGRESS` with `PX lockTtl` when
 *   the key is free and otherwise returns the live record with its `PTTL`, so a conflict or a
 *   replay costs one round trip too. Expiry is Redis's own (`PX`): expired locks and records
 *   are deleted by Redis and a claim simply finds the key free.
 * - **Complete / renew / release**: Lua compare-and-set on the owner token (fencing): an owner
 *   whose lock expired or was taken over changes nothing.
 * - **Bodies** are stored as raw bytes (Buffers), never as text.
 * - **Time**: every expiry is computed by the Redis server's clock; the app's clock is never
 *   read.
 * - **Writes**: the commands of one event-loop turn leave in one socket write (node-redis does
 *   this itself); on an ioredis `Redis` client the claims of one turn are one script call, and
 *   the completions another (see {@link RedisStoreOptions.coalesceWrites}).
 *
 * Scripts run with `EVALSHA` and fall back to `EVAL` on `NOSCRIPT` (after a restart or
 * `SCRIPT FLUSH`), which also re-caches them.
 *
 * ```ts
 * import Redis from 'ioredis';
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) });
 * const idempotency = createIdempotency({ store, scope: (req) => userId(req) });
 * ```
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  const opts = checkOptions<RedisStoreOptions>(OWNER, options);
  if (options === undefined) {
    throw new TypeError(`${OWNER}: options must be an object with a "client", received undefined`);
  }
  const coalesceWrites =
    opts.coalesceWrites === undefined
      ? true
      : checkBoolean(OWNER, 'coalesceWrites', opts.coalesceWrites);
  const connection: RedisConnection = redisConnection(OWNER, opts.client, { coalesceWrites });
  const prefix =
    opts.prefix === undefined ? 'faultline:idem:' : checkRedisPrefix(OWNER, opts.prefix);
  // Keys are opaque strings, sent as UTF-8 by the client (store keys are hex hashes).
  const redisKey = (key: string): string => prefix + key;

  const run = (
    script: Parameters<RedisConnection['eval']>[0],
    key: string,
    args: readonly RedisArgument[],
  ): Promise<unknown> => connection.eval(script, [key], args);

  const flag = (reply: unknown): boolean => redisFlag(OWNER, reply);

  // Claims and completions (one each per request) of one turn go as one script call each on an
  // ioredis `Redis` client (see ScriptBatch); the batch leaves in `setImmediate`, on a connection
  // that does not cork (so it is written then, not in the next turn). A cluster routes each key
  // to its own node and node-redis pipelines by itself: there, each call is a batch of one key.
  const batched = coalesceWrites && isSingleIoRedis(opts.client);
  const direct = batched ? redisConnection(OWNER, opts.client) : connection;
  const perTurn = (
    script: LuaScript,
  ): ((key: string, args: readonly RedisArgument[]) => Promise<unknown>) => {
    if (batched) {
      const batch = new ScriptBatch(direct, script, OWNER);
      return (key, args) => batch.run(key, args);
    }
    return (key, args) =>
      connection.eval(script, [key], args).then((reply) => {
        if (!Array.isArray(reply) || reply.length !== 1) throw unexpectedReply(OWNER, reply);
        return reply[0];
      });
  };
  // CLAIM until the server refuses `NX … GET` (it then wrote nothing), CLAIM_BEFORE_7 after.
  const claimNxGet = perTurn(CLAIM);
  let claimOne = claimNxGet;
  const completeOne = perTurn(COMPLETE);

  return {
    clientKind: connection.kind,
    prefix,

    async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
      const k = redisKey(key);
      const value = encodeClaim(request.owner, request.fingerprint);
      const ttl = ms(request.lockTtl);
      // Normally one pass. A value that looked like a record to the script but does not decode
      // is replaced with a compare-and-set on its SHA-1; if it changed meanwhile, start over.
      for (let attempt = 0; attempt < 10; attempt++) {
        const sent = claimOne;
        let reply: unknown;
        try {
          reply = await sent(k, [value, ttl]);
        } catch (error) {
          if (sent !== claimNxGet || !isSyntaxError(error)) throw error;
          if (claimOne === claimNxGet) claimOne = perTurn(CLAIM_BEFORE_7);
          continue;
        }
        if (reply === 0 || reply === 1) {
          return { claimed: true, previous: reply === 0 ? 'none' : 'unreadable' };
        }
        const record = toRecord(reply);
        if (record === undefined) continue;
        if (!('unreadable' in record)) return { claimed: false, record };
        const sha = createHash('sha1').update(record.unreadable).digest('hex');
        if (flag(await run(REPLACE_UNREADABLE, k, [value, ttl, sha]))) {
          return { claimed: true, previous: 'unreadable' };
        }
      }
      throw new Error(`${OWNER}: claim did not settle after 10 attempts (key ${formatValue(key)})`);
    },

    async get(key: string): Promise<StoredRecord | undefined> {
      const record = toRecord(await run(READ, redisKey(key), []));
      return record === undefined || 'unreadable' in record ? undefined : record;
    },

    async complete(
      key: string,
      owner: string,
      response: StoredResponse,
      recordTtl: number,
    ): Promise<boolean> {
      return flag(
        await completeOne(redisKey(key), [
          ownedPrefix(owner),
          encodeResponse(response),
          ms(recordTtl),
        ]),
      );
    },

    async renew(key: string, owner: string, lockTtl: number): Promise<boolean> {
      return flag(await run(RENEW, redisKey(key), [ownedPrefix(owner), ms(lockTtl)]));
    },

    async release(key: string, owner: string): Promise<boolean> {
      return flag(await run(RELEASE, redisKey(key), [ownedPrefix(owner)]));
    },
  };
}
