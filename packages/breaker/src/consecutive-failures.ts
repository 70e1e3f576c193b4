import { checkNumber } from '@faultline/core';
import type { TripState, TripStrategy } from './trip-strategy.js';

class ConsecutiveState implements TripState {
  readonly needsTime = false;
  readonly slowCallDuration = Number.POSITIVE_INFINITY;
  readonly #threshold: number;
  #run = 0;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  get failures(): number {
    return this.#run;
  }

  get failureRate(): number {
    return this.#run > 0 ? 1 : 0;
  }

  record(failed: boolean): boolean {
    if (!failed) {
      this.#run = 0;
      return false;
    }
    return ++this.#run >= this.#threshold;
  }

  reset(): void {
    this.#run = 0;
  }
}

/**
 * Opens the circuit after `n` handled failures in a row; any success resets the count.
 * Best for low or bursty traffic, where a failure ratio over a window means little.
 * (cockatiel's `ConsecutiveBreaker`, Polly v7's basic circuit breaker.)
 *
 * @param n - failures in a row that open the circuit: an integer ≥ 1 (default 5).
 */
export function consecutiveFailures(n = 5): TripStrategy {
  const threshold = checkNumber('consecutiveFailures', 'n', n, { min: 1, integer: true }, false);
  return {
    create: () => new ConsecutiveState(threshold),
    describe: () => ({ name: 'consecutiveFailures', options: { n: threshold } }),
  };
}
