import type { RetryBudget, RetryTicket } from './budget.js';
import { type RatioBudgetOptions, resolveRatioBudgetOptions } from './ratio-options.js';
import { WindowedAdder } from './windowed-adder.js';

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

  /** Validates `options` (see {@link resolveRatioBudgetOptions}); {@link ratioBudget} is the same. */
  constructor(options?: RatioBudgetOptions) {
    const resolved = resolveRatioBudgetOptions(options);
    this.ratio = resolved.ratio;
    this.minRetriesPerSecond = resolved.minRetriesPerSecond;
    this.ttl = resolved.ttl;
    const clock = resolved.clock;
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
