import { Buffer } from 'node:buffer';
import { checkOptions, checkString, formatValue } from '@faultline/core';
import {
  type LuaScript,
  lua,
  type RedisArgument,
  type RedisClientLike,
  type RedisConnection,
  redisConnection,
} from '@faultline/core/redis';
import { FencedOutError } from '../lease-errors.js';
import { replyText } from './redis.js';

/**
 * Fencing on Redis (Kleppmann 2016, "Making the lock safe with fencing"): the fenced data lives in
 * a hash whose `fence` field holds the highest token any operation has presented; `value` holds
 * the data of {@link fencedSet} / {@link fencedGet}. Every operation compares its token with the
 * fence and records it in the same script, so the check and the access are one atomic step.
 */

/** The largest token a Lua script compares exactly (Lua numbers are doubles). */
const MAX_TOKEN = 2n ** 53n - 1n;

/**
 * The Lua prelude of every fenced script. KEYS[1]: the fenced hash; ARGV[1]: the token. Rejects
 * with the error reply `FENCED <highest>` when the token is lower than the fence, else records
 * it. Exported for the README's pattern; use {@link fencedScript} to build a script with it.
 */
export const FENCE_PRELUDE = `local fence_token = tonumber(ARGV[1])
local fence_seen = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if fence_token < fence_seen then
  return redis.error_reply('FENCED ' .. string.format('%.0f', fence_seen))
end
if fence_token > fence_seen then
  redis.call('HSET', KEYS[1], 'fence', string.format('%.0f', fence_token))
end
`;

/** A Lua script that starts with the fence check: see {@link fencedScript}. */
export interface FencedScript extends LuaScript {
  /** The body as given, without the prelude. */
  readonly body: string;
}

/**
 * A script that runs `body` only for a token not lower than the fence of `KEYS[1]` (after
 * recording it). In `body`, `KEYS[1]` is the fenced hash (its `fence` field is the prelude's;
 * keep your data in other fields), `ARGV[1]` is the token, and the keys and arguments given to
 * {@link fencedEval} follow (`KEYS[2]…`, `ARGV[2]…`). On Redis Cluster every key must share the
 * fenced key's slot (a `{hash tag}`).
 *
 * ```ts
 * const append = fencedScript(`redis.call('RPUSH', KEYS[2], ARGV[2]) return 1`);
 * await fencedEval(client, { key: '{orders}:fence', token: held.token, script: append,
 *   keys: ['{orders}:log'], args: ['compacted'] });
 * ```
 */
export function fencedScript(body: string): FencedScript {
  checkString('fencedScript', 'body', body);
  return { ...lua(`${FENCE_PRELUDE}${body}`), body };
}

const SET = fencedScript(`redis.call('HSET', KEYS[1], 'value', ARGV[2])
return 1`);

const GET = fencedScript(`return redis.call('HGET', KEYS[1], 'value')`);

/** Options of {@link fencedSet}. */
export interface FencedSetOptions {
  /** The fenced hash. Holds the fields `value` and `fence`. */
  readonly key: string;
  /** The new value (text, or bytes kept as they are). */
  readonly value: string | Uint8Array;
  /** The lease's fencing token (`held.token`). */
  readonly token: bigint;
}

/** Options of {@link fencedGet}. */
export interface FencedGetOptions {
  readonly key: string;
  readonly token: bigint;
}

/** Options of {@link fencedEval}. */
export interface FencedEvalOptions {
  /** The fenced hash (`KEYS[1]` of the script). */
  readonly key: string;
  readonly token: bigint;
  readonly script: FencedScript;
  /** More keys (`KEYS[2]…`), in the fenced key's cluster slot. */
  readonly keys?: readonly (string | Uint8Array)[];
  /** More arguments (`ARGV[2]…`). */
  readonly args?: readonly (string | Uint8Array)[];
}

const connections = new WeakMap<object, RedisConnection>();

function connect(owner: string, client: unknown): RedisConnection {
  if (client !== null && typeof client === 'object') {
    const known = connections.get(client);
    if (known !== undefined) return known;
  }
  const made = redisConnection(owner, client);
  connections.set(client as object, made);
  return made;
}

function checkToken(owner: string, value: unknown): bigint {
  if (typeof value !== 'bigint') {
    throw new TypeError(
      `${owner}: option "token" must be a bigint (held.token), received ${formatValue(value)}`,
    );
  }
  if (value < 0n || value > MAX_TOKEN) {
    throw new RangeError(
      `${owner}: option "token" must be a bigint in [0, 2^53 - 1], received ${formatValue(value)}`,
    );
  }
  return value;
}

function bytes(value: string | Uint8Array): RedisArgument {
  return typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function checkBytes(owner: string, option: string, value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new TypeError(
    `${owner}: option "${option}" must be a string or a Uint8Array, received ${formatValue(value)}`,
  );
}

async function run(
  owner: string,
  client: RedisClientLike,
  key: string,
  token: bigint,
  script: LuaScript,
  keys: readonly RedisArgument[],
  args: readonly RedisArgument[],
): Promise<unknown> {
  try {
    return await connect(owner, client).eval(
      script,
      [Buffer.from(key, 'utf8'), ...keys],
      [String(token), ...args],
    );
  } catch (error) {
    const message = (error as { message?: unknown } | null)?.message;
    const match = typeof message === 'string' ? /^FENCED ([0-9]+)/.exec(message) : null;
    if (match !== null) throw new FencedOutError(token, BigInt(match[1]!), `${owner} ${key}`);
    throw error;
  }
}

/**
 * Writes `value` to the fenced hash `key` if `token` is not lower than the highest token `key`
 * has seen (by any fenced operation, reads included), recording `token`; otherwise rejects with
 * `FencedOutError` and writes nothing. One round trip, atomic (Lua).
 */
export async function fencedSet(client: RedisClientLike, options: FencedSetOptions): Promise<void> {
  const owner = 'fencedSet';
  const opts = checkOptions<FencedSetOptions>(owner, options);
  const key = checkString(owner, 'key', opts.key);
  const token = checkToken(owner, opts.token);
  const value = checkBytes(owner, 'value', opts.value);
  await run(owner, client, key, token, SET, [], [bytes(value)]);
}

/**
 * Reads the value of the fenced hash `key` under `token`: rejects with `FencedOutError` when a
 * higher token has been seen, and otherwise records `token`, so that a paused holder with a lower
 * token can no longer write what it derives from its own earlier read (the read-modify-write
 * hazard of the spec). Resolves the value as text, or `undefined` when none was written.
 */
export async function fencedGet(
  client: RedisClientLike,
  options: FencedGetOptions,
): Promise<string | undefined> {
  const owner = 'fencedGet';
  const opts = checkOptions<FencedGetOptions>(owner, options);
  const key = checkString(owner, 'key', opts.key);
  const token = checkToken(owner, opts.token);
  const reply = await run(owner, client, key, token, GET, [], []);
  return replyText(reply);
}

/**
 * Runs a {@link fencedScript} under `token`: the script's body runs only if the token is not lower
 * than the fence of `key`, after recording it. Resolves the body's reply (bulk strings as
 * Buffers), or rejects with `FencedOutError`.
 */
export async function fencedEval(
  client: RedisClientLike,
  options: FencedEvalOptions,
): Promise<unknown> {
  const owner = 'fencedEval';
  const opts = checkOptions<FencedEvalOptions>(owner, options);
  const key = checkString(owner, 'key', opts.key);
  const token = checkToken(owner, opts.token);
  const script = opts.script as Partial<FencedScript> | undefined;
  if (
    script === null ||
    typeof script !== 'object' ||
    typeof script.body !== 'string' ||
    typeof script.sha !== 'string'
  ) {
    throw new TypeError(
      `${owner}: option "script" must be made by fencedScript(body), received ${formatValue(opts.script)}`,
    );
  }
  const keys = (opts.keys ?? []).map((k, i) => bytes(checkBytes(owner, `keys[${i}]`, k)));
  const args = (opts.args ?? []).map((a, i) => bytes(checkBytes(owner, `args[${i}]`, a)));
  return run(owner, client, key, token, script as FencedScript, keys, args);
}
