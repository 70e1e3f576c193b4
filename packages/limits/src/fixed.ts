import { checkNumber } from '@faultline/core';
import type { LimitAlgorithm } from './limit-algorithm.js';

/** A limit that never moves (Netflix `FixedLimit`): a bulkhead inside `concurrencyLimit`. */
export class FixedLimit implements LimitAlgorithm {
  readonly kind = 'fixed' as const;
  readonly limit: number;

  /** @internal Use {@link fixed}. */
  constructor(limit: number) {
    this.limit = limit;
  }

  update(): void {}

  describe(): { name: 'fixed'; options: { limit: number } } {
    return { name: 'fixed', options: { limit: this.limit } };
  }
}

/**
 * A fixed concurrency limit of `n` (an integer ≥ 1): the baseline the adaptive algorithms are
 * compared with, and a way to run a bulkhead with the same middleware.
 */
export function fixed(n: number): FixedLimit {
  return new FixedLimit(checkNumber('fixed', 'n', n, { min: 1, integer: true }, false));
}
