import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkOptions,
  formatValue,
  identify,
  optionalClock,
  type PolicyIdentity,
  publishEvent,
  telemetry,
} from '@faultline/core';
import { FencedOutError } from './lease-errors.js';

/** Options of {@link fenceGuard}. */
export interface FenceGuardOptions {
  /** Names the fence in telemetry (`fenced-out` records). Default `'fence'`. */
  readonly name?: string;
  /** Timestamps the telemetry records. Default `systemClock`. */
  readonly clock?: Clock;
}

/** Which kind of access a fenced call is, for messages and telemetry. */
export type FencedAccess = 'read' | 'write';

function checkToken(owner: string, token: unknown): bigint {
  if (typeof token !== 'bigint') {
    throw new TypeError(
      `${owner}: argument "token" must be a bigint fencing token, received ${formatValue(token)}`,
    );
  }
  return token;
}

/**
 * The storage side of fencing (Kleppmann 2016), for a resource in this process's memory (tests,
 * the simulator, an in-process resource): it remembers the highest token any access presented and
 * refuses every access with a lower one.
 *
 * **Every access, reads included.** Checking writes alone still loses updates in a
 * read-modify-write: the new holder (34) reads, the paused old holder (33) then writes, which the
 * storage accepts since it has only seen 33, and the new holder's write is based on a stale read.
 * Recording the token of the read refuses that late write.
 */
export class FenceGuard {
  readonly name: string;
  readonly #identity: PolicyIdentity;
  readonly #clock: Clock;
  #highest: bigint | undefined;

  constructor(options?: FenceGuardOptions) {
    const opts = checkOptions<FenceGuardOptions>('fenceGuard', options);
    this.#identity = identify('fenceGuard', 'fence', opts.name);
    this.name = this.#identity.name;
    this.#clock = optionalClock('fenceGuard', 'clock', opts.clock, ['now']);
  }

  /** The highest token any access presented so far (`undefined` before the first). */
  get highest(): bigint | undefined {
    return this.#highest;
  }

  /**
   * Admits an access with `token` or throws `FencedOutError`: a token ≥ the highest seen is
   * recorded (the same holder may act repeatedly), a lower one is refused. The primitive behind
   * {@link read} and {@link write}, for a caller that cannot wrap its access in a function.
   */
  admit(token: bigint, access: FencedAccess = 'write'): void {
    checkToken(`FenceGuard.${access}`, token);
    const highest = this.#highest;
    if (highest !== undefined && token < highest) {
      if (telemetry.hasSubscribers) {
        publishEvent(this.#identity, undefined, 'fenced-out', this.#clock.now(), undefined, {
          access,
        });
      }
      throw new FencedOutError(token, highest, access);
    }
    this.#highest = token;
  }

  /** Runs `fn` as a read under `token` (see {@link admit}); rejects with `FencedOutError` instead. */
  read<T>(token: bigint, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
    return this.#run('read', token, fn);
  }

  /** Runs `fn` as a write under `token` (see {@link admit}); rejects with `FencedOutError` instead. */
  write<T>(token: bigint, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
    return this.#run('write', token, fn);
  }

  async #run<T>(
    access: FencedAccess,
    token: bigint,
    fn: () => T | PromiseLike<T>,
  ): Promise<Awaited<T>> {
    checkFunction(`FenceGuard.${access}`, 'fn', fn, false);
    // Checked and recorded before fn starts, in the same turn: no other access can slip between.
    this.admit(token, access);
    return (await fn()) as Awaited<T>;
  }
}

/** Builds a {@link FenceGuard}. */
export function fenceGuard(options?: FenceGuardOptions): FenceGuard {
  return new FenceGuard(options);
}
