import { formatValue, type Outcome } from '@faultline/core';
import type { RetryBudget, RetryTicket } from './budget.js';
import { type QuotaBudgetOptions, resolveQuotaBudgetOptions } from './quota-options.js';

class QuotaTicket implements RetryTicket {
  readonly #budget: QuotaBudget;
  #lastCost = -1;
  #ended = false;
  constructor(budget: QuotaBudget) {
    this.#budget = budget;
  }
  tryRetry(outcome: Outcome<unknown>): boolean {
    if (this.#ended) return false;
    const cost = this.#budget.withdraw(outcome);
    if (cost < 0) return false;
    this.#lastCost = cost;
    return true;
  }
  succeed(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#budget.deposit(this.#lastCost);
  }
  fail(): void {
    this.#ended = true;
  }
}

/**
 * The AWS SDKs' standard-mode retry quota, with the current (2026) costs: a retry after a
 * throttling outcome costs `throttlingCost` (5), any other retry `cost` (14); a retry is denied
 * when `available < cost`; a call that succeeds on its first attempt refunds `refund` (1), one
 * that succeeds after retries refunds its last retry's cost; the quota never exceeds `capacity`.
 * (AWS SDKs "Retry behavior" reference; aws-sdk-go-v2 #3400 / aws-cli #10342 for the 2026 costs;
 * the pre-2026 rules were cost 5, timeout cost 10.)
 */
export class QuotaBudget implements RetryBudget {
  readonly capacity: number;
  readonly cost: number;
  readonly throttlingCost: number;
  readonly refund: number;
  readonly #isThrottling: (outcome: Outcome<unknown>) => boolean;
  #available: number;

  /** Validates `options` (see {@link resolveQuotaBudgetOptions}); {@link quotaBudget} is the same. */
  constructor(options?: QuotaBudgetOptions) {
    const resolved = resolveQuotaBudgetOptions(options);
    this.capacity = resolved.capacity;
    this.cost = resolved.cost;
    this.throttlingCost = resolved.throttlingCost;
    this.refund = resolved.refund;
    this.#isThrottling = resolved.isThrottling;
    this.#available = this.capacity;
  }

  /** What is left in the quota. */
  get available(): number {
    return this.#available;
  }

  begin(): RetryTicket {
    return new QuotaTicket(this);
  }

  /** @internal Takes the cost of a retry after `outcome`; returns it, or -1 when denied. */
  withdraw(outcome: Outcome<unknown>): number {
    const throttled = this.#isThrottling(outcome);
    if (typeof throttled !== 'boolean') {
      throw new TypeError(
        `quotaBudget: option "isThrottling" must return a boolean, returned ${formatValue(throttled)}`,
      );
    }
    const cost = throttled ? this.throttlingCost : this.cost;
    if (this.#available < cost) return -1;
    this.#available -= cost;
    return cost;
  }

  /** @internal Refunds after a successful call (`lastCost` -1: it never retried). */
  deposit(lastCost: number): void {
    const next = this.#available + (lastCost < 0 ? this.refund : lastCost);
    this.#available = next < this.capacity ? next : this.capacity;
  }
}

/** The AWS SDKs' standard retry quota: see {@link QuotaBudget}. */
export function quotaBudget(options?: QuotaBudgetOptions): QuotaBudget {
  return new QuotaBudget(options);
}
