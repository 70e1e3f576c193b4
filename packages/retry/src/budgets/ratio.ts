import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock, optionalNumber } from '@faultline/core';
import type { RetryBudget, RetryTicket } from './budget.js';
import { WindowedAdder } from './windowed-adder.js';

/** Options for {@link ratioBudget} (Finagle's `RetryBudget`). */
export interface RatioBudgetOptions {
  /** Retries allowed per call, on top of the reserve, in [0, 1000]. Default 0.2. */
  readonly ratio?: number;
  /** Reserve of retries per second for quiet or just-started clients, integer ≥ 0. Default 10. */
  readonly minRetriesPerSecond?: number;
  /** How long a call's deposit lasts, in ms, in [1000, 60 000]. Default 10 000. */
  readonly ttl?: number;
  /** Default `systemClock`. */
  readonly clock?: Clock;
}

// Finagle TokenRetryBudget.ScaleFactor: lets ratio > 1 and fractional ratios work in integers.
const SCALE = 1000;
const SLICES = 10;

/**
 * Finagle's retry budget (`RetryBudget.apply(ttl, minRetriesPerSec, percentCanRetry)`, over util's
 * `TokenBucket.newLeakyBucket`): every call deposits 1000, a retry withdraws floor(1000 / ratio),
 * deposits expire after about `ttl` from a 10-slice windowed counter, and a fixed reserve of
 * `minRetriesPerSecond · ttlSeconds` retries is always there. So over any `ttl`,
 * retries ≤ ratio × calls + minRetriesPerSecond × ttl-seconds.
 */
export class RatioBudget implements RetryBudget, RetryTicket {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly ttl: number;
  readonly #deposit: number;
  readonly #withdrawal: number;
  readonly #reserve: number;
  readonly #adder: WindowedAdder | undefined;

  constructor(options?: RatioBudgetOptions) {
    const owner = 'ratioBudget';
    const opts = checkOptions<RatioBudgetOptions>(owner, options);
    this.ratio = optionalNumber(owner, 'ratio', opts.ratio, 0.2, { min: 0, max: SCALE });
    this.minRetriesPerSecond = optionalNumber(
      owner,
      'minRetriesPerSecond',
      opts.minRetriesPerSecond,
      10,
      { min: 0, integer: true, max: 1_000_000 },
    );
    this.ttl = optionalNumber(owner, 'ttl', opts.ttl, 10_000, { min: 1000, max: 60_000 });
    const clock = optionalClock(owner, 'clock', opts.clock);
    // With only a reserve, deposits earn nothing and each retry costs 1 (Finagle does the same).
    this.#deposit = this.ratio === 0 ? 0 : SCALE;
    this.#withdrawal = this.ratio === 0 ? 1 : Math.trunc(SCALE / this.ratio);
    // Finagle: reserve = minRetriesPerSec * ttl.inSeconds * withdrawalAmount.
    this.#reserve = this.minRetriesPerSecond * Math.floor(this.ttl / 1000) * this.#withdrawal;
    // ratio 0 and no reserve is Finagle's RetryBudget.Empty: nothing is ever granted.
    this.#adder =
      this.ratio === 0 && this.minRetriesPerSecond === 0
        ? undefined
        : new WindowedAdder(this.ttl, SLICES, clock);
  }

  #count(): number {
    return this.#adder === undefined ? 0 : this.#adder.sum() + this.#reserve;
  }

  /** Retries allowed right now. */
  get balance(): number {
    const count = this.#count();
    return count > 0 ? Math.floor(count / this.#withdrawal) : 0;
  }

  /** A call starts: deposit. Every call then shares this stateless ticket. */
  begin(): RetryTicket {
    if (this.#deposit > 0) this.#adder!.add(this.#deposit);
    return this;
  }

  /** Withdraws one retry if the balance covers it. */
  tryRetry(): boolean {
    const adder = this.#adder;
    if (adder === undefined) return false;
    if (this.#count() < this.#withdrawal) return false;
    adder.add(-this.#withdrawal);
    return true;
  }

  succeed(): void {}

  fail(): void {}
}

/** Finagle's retry budget: see {@link RatioBudget}. */
export function ratioBudget(options?: RatioBudgetOptions): RatioBudget {
  return new RatioBudget(options);
}
