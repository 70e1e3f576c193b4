/**
 * The Redis client adapter every faultline Redis store shares (idempotency, lease, limits, fleet):
 * ioredis (`Redis`, `Cluster`, v5+) and node-redis (`createClient`, `createCluster`, v4+) behind
 * one `eval`, with scripts sent by SHA and re-sent on `NOSCRIPT`. Node-only (Buffer, SHA-1).
 * The stores never import a client library: they accept the user's client and detect its shape.
 * @module
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { checkString, formatValue } from '@faultline/clock/internal';

/**
 * One argument of a Redis command.
 * @inline
 */
export type RedisArgument = string | Buffer;

/**
 * The part of an ioredis client (`Redis` or `Cluster`, v5+) the stores use: `evalshaBuffer` and
 * `evalBuffer` (bulk strings answered as `Buffer`). A client with only `callBuffer` works too,
 * but not under `enableAutoPipelining` (ioredis loses the command name of `callBuffer` there).
 */
export interface IoRedisClientLike {
  callBuffer?(command: string, ...args: (string | Buffer | number)[]): Promise<unknown>;
  evalshaBuffer?(sha: string, numKeys: number, ...args: (string | Buffer)[]): Promise<unknown>;
  evalBuffer?(script: string, numKeys: number, ...args: (string | Buffer)[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()`, v4 to v6) the stores use: `sendCommand`
 * with per-command options that make bulk strings arrive as `Buffer` (v5+: `typeMapping`,
 * v4: `returnBuffers`).
 */
export interface NodeRedisClientLike {
  sendCommand(args: readonly RedisArgument[], options?: object): Promise<unknown>;
  readonly isOpen: boolean;
}

/** The part of a node-redis cluster (`createCluster()`) the stores use. */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: readonly RedisArgument[],
    options?: object,
  ): Promise<unknown>;
  getSlotMaster(slot: number): unknown;
}

/** A Redis client the stores accept: ioredis or node-redis (client or cluster). */
export type RedisClientLike = IoRedisClientLike | NodeRedisClientLike | NodeRedisClusterLike;

/** A Lua script with its SHA-1, for `EVALSHA`. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** Builds a {@link LuaScript}. */
export function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * The two operations a store needs from any client: run a script, with bulk strings answered as
 * Buffers, and name the client kind for diagnostics.
 */
export interface RedisConnection {
  readonly kind: 'ioredis' | 'node-redis' | 'node-redis-cluster';
  /**
   * `EVALSHA`, falling back to `EVAL` (which also caches the script server-side) when the server
   * answers `NOSCRIPT` (first use, restart, `SCRIPT FLUSH`). One round trip in steady state.
   * `keys` must not be empty: a cluster routes the call by `keys[0]`, and every key of one call
   * must hash to the same slot (share a `{hash tag}`).
   */
  eval(
    script: LuaScript,
    keys: readonly RedisArgument[],
    args: readonly RedisArgument[],
  ): Promise<unknown>;
}

// RESP type byte of a bulk string ('$'); node-redis v5+ maps reply types by this number.
const BLOB_STRING = 36;
// v5+: `typeMapping`; v4: `returnBuffers`. Each version ignores the other's key.
const BUFFER_REPLIES = Object.freeze({
  typeMapping: Object.freeze({ [BLOB_STRING]: Buffer }),
  returnBuffers: true,
});

function isNoScript(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}

type Send = (args: readonly RedisArgument[]) => Promise<unknown>;

function connection(kind: RedisConnection['kind'], sendFor: (key: RedisArgument) => Send) {
  return {
    kind,
    async eval(script: LuaScript, keys: readonly RedisArgument[], args: readonly RedisArgument[]) {
      const send = sendFor(keys[0]!);
      const count = keys.length === 1 ? '1' : String(keys.length);
      try {
        return await send(['EVALSHA', script.sha, count, ...keys, ...args]);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return send(['EVAL', script.source, count, ...keys, ...args]);
      }
    },
  } satisfies RedisConnection;
}

/**
 * ioredis through its named script commands. `evalshaBuffer` keeps working under
 * `enableAutoPipelining`, where `callBuffer(command, ...)` is sent without its command name
 * (ioredis 6 treats the generic call's first argument as the command of the pipeline batch).
 */
function ioredisConnection(
  io: Required<Pick<IoRedisClientLike, 'evalshaBuffer' | 'evalBuffer'>>,
  coalesce: boolean,
) {
  const hold = coalesce ? writeCoalescer(io) : noop;
  return {
    kind: 'ioredis',
    async eval(script: LuaScript, keys: readonly RedisArgument[], args: readonly RedisArgument[]) {
      hold();
      try {
        return await io.evalshaBuffer(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        hold();
        return io.evalBuffer(script.source, keys.length, ...keys, ...args);
      }
    },
  } satisfies RedisConnection;
}

const noop = (): void => {};

/** The part of a socket (`net.Socket`, `tls.TLSSocket`) that holds writes back. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * For one ioredis client (`Redis`; a `Cluster` has no single socket and is left alone): the
 * function to call before each command. The first call of an event-loop turn corks the client's
 * socket and uncorks it in `setImmediate`, so the commands sent by everything that ran in this
 * turn (the claims of every request parsed in one poll, the completions of every reply in one
 * read) leave in one `writev` instead of one socket write each, as node-redis sends its
 * commands. Nothing is reordered or dropped: a corked socket only buffers.
 */
function writeCoalescer(client: object): () => void {
  const io = client as { stream?: Partial<Corkable>; options?: { enableAutoPipelining?: unknown } };
  // Autopipelining already batches the turn's commands into one write.
  if (io.options?.enableAutoPipelining === true) return noop;
  let corked: Corkable | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  return () => {
    if (corked !== undefined) return;
    // Read each time: ioredis opens a new socket on every reconnect.
    const stream = io.stream;
    if (stream === undefined || stream === null || typeof stream.cork !== 'function') return;
    if (typeof stream.uncork !== 'function') return;
    stream.cork();
    corked = stream as Corkable;
    setImmediate(uncork);
  };
}

/** Options of {@link redisConnection}. */
export interface RedisConnectionOptions {
  /**
   * ioredis `Redis` clients: send the commands issued in one event-loop turn in one socket
   * write (the socket is corked until `setImmediate`) rather than one write per command, as
   * node-redis does on its own. Default `false`.
   */
  readonly coalesceWrites?: boolean;
}

/**
 * Detects the client's shape (ioredis has `evalshaBuffer` or `callBuffer`; a node-redis cluster has
 * `getSlotMaster`; a node-redis client has `sendCommand` and `isOpen`) and returns the adapter.
 */
export function redisConnection(
  owner: string,
  client: unknown,
  options?: RedisConnectionOptions,
): RedisConnection {
  const candidate = client as Record<string, unknown> | null;
  if (candidate !== null && typeof candidate === 'object') {
    if (
      typeof candidate.evalshaBuffer === 'function' &&
      typeof candidate.evalBuffer === 'function'
    ) {
      return ioredisConnection(
        client as Required<Pick<IoRedisClientLike, 'evalshaBuffer' | 'evalBuffer'>>,
        options?.coalesceWrites === true,
      );
    }
    if (typeof candidate.callBuffer === 'function') {
      const io = client as Required<Pick<IoRedisClientLike, 'callBuffer'>>;
      return connection('ioredis', () => (args) => {
        const [command, ...rest] = args as [string, ...RedisArgument[]];
        return io.callBuffer(command, ...rest);
      });
    }
    if (
      typeof candidate.sendCommand === 'function' &&
      typeof candidate.getSlotMaster === 'function'
    ) {
      const cluster = client as NodeRedisClusterLike;
      // The cluster routes by `firstKey`; scripts write, so never to a replica.
      return connection(
        'node-redis-cluster',
        (key) => (args) => cluster.sendCommand(key, false, args, BUFFER_REPLIES),
      );
    }
    if (typeof candidate.sendCommand === 'function' && 'isOpen' in candidate) {
      const node = client as NodeRedisClientLike;
      return connection('node-redis', () => (args) => node.sendCommand(args, BUFFER_REPLIES));
    }
  }
  throw new TypeError(
    `${owner}: option "client" must be an ioredis client (Redis or Cluster) or a node-redis client (createClient or createCluster), received ${formatValue(client)}`,
  );
}

/** The error a store throws for a Redis reply its script never gives: `<owner>: unexpected reply from Redis: …`. */
export function unexpectedReply(owner: string, reply: unknown): Error {
  return new Error(`${owner}: unexpected reply from Redis: ${formatValue(reply)}`);
}

/** A script's `0`/`1` reply as a boolean; anything else is {@link unexpectedReply}. */
export function redisFlag(owner: string, reply: unknown): boolean {
  const value = Number(reply);
  if (value !== 0 && value !== 1) throw unexpectedReply(owner, reply);
  return value === 1;
}

/**
 * Checks a store's `prefix` option: a non-empty string of at most 256 characters and, with
 * `noBraces`, without `{` or `}` (for a store that puts the resource in a hash tag itself).
 */
export function checkRedisPrefix(owner: string, value: unknown, noBraces = false): string {
  const prefix = checkString(owner, 'prefix', value);
  if (prefix.length === 0 || prefix.length > 256 || (noBraces && /[{}]/.test(prefix))) {
    throw new RangeError(
      `${owner}: option "prefix" must be a non-empty string of at most 256 characters${noBraces ? ' without "{" or "}"' : ''}, received ${formatValue(value)}`,
    );
  }
  return prefix;
}
