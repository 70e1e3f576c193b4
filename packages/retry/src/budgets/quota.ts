import {
  checkOptions,
  formatValue,
  type Outcome,
  optionalFunction,
  optionalNumber,
} from '@faultline/core';
import type { RetryBudget, RetryTicket } from './budget.js';

/** Options for {@link quotaBudget} (the AWS SDKs' standard retry quota). */
export interface QuotaBudgetOptions {
  /** Initial and maximum quota, ≥ 0. Default 500. */
  readonly capacity?: number;
  /** Cost of a retry after any other retryable failure, ≥ 0. Default 14. */
  readonly cost?: number;
  /** Cost of a retry after a throttling outcome, ≥ 0. Default 5. */
  readonly throttlingCost?: number;
  /** Refunded by a call that succeeds on its first attempt, ≥ 0. Default 1. */
  readonly refund?: number;
  /**
   * Whether an outcome is throttling. Default: an error or Response with status 429, or an error
   * whose `name` or `code` contains "Throttl".
   */
  readonly isThrottling?: (outcome: Outcome<unknown>) => boolean;
}

function statusOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as {
    status?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    response?: { status?: unknown };
  };
  return v.status ?? v.statusCode ?? v.$metadata?.httpStatusCode ?? v.response?.status;
}

function mentionsThrottling(value: unknown): boolean {
  return typeof value === 'string' && value.includes('Throttl');
}

/** The default {@link QuotaBudgetOptions.isThrottling}. */
export function isThrottlingOutcome(outcome: Outcome<unknown>): boolean {
  if (outcome.ok) return statusOf(outcome.value) === 429;
  const error = outcome.error as { name?: unknown; code?: unknown } | null;
  if (error === null || typeof error !== 'object') return false;
  return (
    statusOf(error) === 429 || mentionsThrottling(error.name) || mentionsThrottling(error.code)
  );
}

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

  constructor(options?: QuotaBudgetOptions) {
    const owner = 'quotaBudget';
    const opts = checkOptions<QuotaBudgetOptions>(owner, options);
    const range = { min: 0, max: Number.MAX_SAFE_INTEGER };
    this.capacity = optionalNumber(owner, 'capacity', opts.capacity, 500, range);
    this.cost = optionalNumber(owner, 'cost', opts.cost, 14, range);
    this.throttlingCost = optionalNumber(owner, 'throttlingCost', opts.throttlingCost, 5, range);
    this.refund = optionalNumber(owner, 'refund', opts.refund, 1, range);
    this.#isThrottling = optionalFunction(
      owner,
      'isThrottling',
      opts.isThrottling,
      isThrottlingOutcome,
    );
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
