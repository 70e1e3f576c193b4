import type { RetryBudget, RetryTicket } from './budget.js';
import {
  type ConcurrencyBudgetOptions,
  resolveConcurrencyBudgetOptions,
} from './concurrency-options.js';

class ConcurrencyTicket implements RetryTicket {
  readonly #budget: ConcurrencyBudget;
  #retrying = false;
  #ended = false;
  constructor(budget: ConcurrencyBudget) {
    this.#budget = budget;
  }
  tryRetry(): boolean {
    if (this.#ended) return false;
    // The attempt that just failed was this call's retry: it is no longer in flight.
    if (this.#retrying) {
      this.#retrying = false;
      this.#budget.releaseRetry();
    }
    if (!this.#budget.acquireRetry()) return false;
    this.#retrying = true;
    return true;
  }
  succeed(): void {
    this.fail();
  }
  fail(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#retrying) {
      this.#retrying = false;
      this.#budget.releaseRetry();
    }
    this.#budget.endCall();
  }
}

/**
 * Envoy's retry budget (`envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget`):
 * retries in flight ≤ max(min, floor(ratio × calls in flight)). A retry is in flight from the
 * moment it is granted (its backoff sleep included) until its attempt ends. Concurrency rather
 * than rate: it needs no clock and adapts at once when load changes.
 */
export class ConcurrencyBudget implements RetryBudget {
  readonly ratio: number;
  readonly min: number;
  #calls = 0;
  #retries = 0;

  /**
   * Validates `options` (see {@link resolveConcurrencyBudgetOptions}); {@link concurrencyBudget}
   * is the same.
   */
  constructor(options?: ConcurrencyBudgetOptions) {
    const resolved = resolveConcurrencyBudgetOptions(options);
    this.ratio = resolved.ratio;
    this.min = resolved.min;
  }

  /** Calls begun and not yet ended. */
  get callsInFlight(): number {
    return this.#calls;
  }

  /** Granted retries whose attempt has not ended. */
  get retriesInFlight(): number {
    return this.#retries;
  }

  /** The current limit on retries in flight. */
  get limit(): number {
    const scaled = Math.floor(this.ratio * this.#calls);
    return scaled > this.min ? scaled : this.min;
  }

  begin(): RetryTicket {
    this.#calls++;
    return new ConcurrencyTicket(this);
  }

  /** @internal */
  acquireRetry(): boolean {
    if (this.#retries >= this.limit) return false;
    this.#retries++;
    return true;
  }

  /** @internal */
  releaseRetry(): void {
    this.#retries--;
  }

  /** @internal */
  endCall(): void {
    this.#calls--;
  }
}

/** Envoy's concurrency retry budget: see {@link ConcurrencyBudget}. */
export function concurrencyBudget(options?: ConcurrencyBudgetOptions): ConcurrencyBudget {
  return new ConcurrencyBudget(options);
}
