import { ExecutionRejectedError } from '@faultline/core';

/**
 * Thrown by `adaptiveThrottle` when it drops a request locally, before sending it, because the
 * backend has recently been rejecting too many requests (Google SRE book, "Handling Overload").
 */
export class ThrottledError extends ExecutionRejectedError {
  override name = 'ThrottledError';
  /** The rejection probability at the time of the decision. */
  readonly probability: number;

  constructor(probability: number) {
    super(`request throttled locally (rejection probability ${probability.toFixed(3)})`, {
      code: 'THROTTLED',
    });
    this.probability = probability;
  }
}
