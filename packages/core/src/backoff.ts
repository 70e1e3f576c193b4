import type { Random } from './random.js';

/**
 * A source of delays between attempts. Each execution asks for a fresh sequence:
 * `delays(random)` returns an iterator whose n-th value (n = 1, 2, …) is the sleep before retry n
 * (or, for a circuit breaker, the break duration of the n-th consecutive opening).
 * Implementations live in `@faultline/retry`; the interface lives here so that any policy can
 * take one.
 */
export interface Backoff {
  delays(random?: Random): Iterator<number>;
}
