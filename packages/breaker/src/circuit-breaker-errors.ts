import { ExecutionRejectedError } from '@faultline/core';

/**
 * Thrown (as a rejection) by an open circuit, or by a half-open circuit whose probe slots are all
 * taken. Nothing was sent to the dependency. `retryAfter` is the time left until the breaker will
 * let a call through again: the rest of the break while open; while half-open, the time until the
 * probes in flight are presumed hung and a new probe is admitted (at most one break duration).
 */
export class BrokenCircuitError extends ExecutionRejectedError {
  override name = 'BrokenCircuitError';

  /**
   * @param retryAfter ms until a call may pass again; rounded up to whole ms (monotonic time is
   * fractional, and a caller who waits `retryAfter` must not come back a fraction too early)
   * @param message the state; the retry-after is appended when known
   */
  constructor(retryAfter: number | undefined, message = 'circuit is open') {
    const after = retryAfter === undefined ? undefined : Math.ceil(retryAfter);
    super(after === undefined ? message : `${message} (retry after ${after} ms)`, {
      code: 'BROKEN_CIRCUIT',
      retryAfter: after,
    });
  }
}

/**
 * Thrown by a circuit held open by hand with `isolate()`. It stays isolated until every handle is
 * released or `close()` is called, so there is no `retryAfter`.
 */
export class IsolatedCircuitError extends ExecutionRejectedError {
  override name = 'IsolatedCircuitError';

  constructor(message = 'circuit is isolated') {
    super(message, { code: 'ISOLATED_CIRCUIT' });
  }
}
