import {
  type LuaScript,
  type RedisArgument,
  type RedisConnection,
  unexpectedReply,
} from '@faultline/core/redis';

/** Keys per script call: bounds how long one call keeps the (single-threaded) server busy. */
const MAX_KEYS = 64;

/**
 * One script whose `KEYS[i]` each come with the same number of `ARGV` entries and which answers
 * an array with one reply per key, run for every call made in one event-loop turn as one
 * `EVALSHA`: the claims of all the requests read in one poll, the completions of all the
 * responses sent in one turn. The script handles its keys one after the other, atomically, as
 * separate calls in that order would, so nothing about a key changes; the client and the
 * server each handle one command instead of one per key. The batch leaves in `setImmediate`
 * (when the commands of the turn would have been written anyway), or at once when full.
 * A failed call fails every call of its batch (each was sent, so each may have landed).
 */
export class ScriptBatch {
  readonly #connection: RedisConnection;
  readonly #script: LuaScript;
  readonly #owner: string;
  #keys: string[] = [];
  #args: RedisArgument[] = [];
  #settle: Settle[] = [];

  constructor(connection: RedisConnection, script: LuaScript, owner: string) {
    this.#connection = connection;
    this.#script = script;
    this.#owner = owner;
  }

  /** Runs the script for `key` and its `args` (in the batch of this turn); its reply for `key`. */
  run(key: string, args: readonly RedisArgument[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#keys.length === 0) setImmediate(this.#flush);
      this.#keys.push(key);
      for (const arg of args) this.#args.push(arg);
      this.#settle.push({ resolve, reject });
      if (this.#keys.length === MAX_KEYS) this.#flush();
    });
  }

  readonly #flush = (): void => {
    const keys = this.#keys;
    if (keys.length === 0) return; // already sent because it was full
    const settle = this.#settle;
    const args = this.#args;
    this.#keys = [];
    this.#args = [];
    this.#settle = [];
    let sent: Promise<unknown>;
    try {
      sent = this.#connection.eval(this.#script, keys, args);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== settle.length) {
          const error = unexpectedReply(this.#owner, reply);
          for (const call of settle) call.reject(error);
          return;
        }
        for (let i = 0; i < settle.length; i++) settle[i]!.resolve(reply[i]);
      },
      (error: unknown) => {
        for (const call of settle) call.reject(error);
      },
    );
  };
}

interface Settle {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}
