import { ExecutionRejectedError } from '@faultline/core';

/**
 * The rejection of a `timeout` policy whose time ran out. Built only when a timeout fires (never
 * on the success path: capturing a stack costs ~2–4 µs on Node 20, which is what makes the peers'
 * timeouts 70–100× an empty `await`).
 */
export class TimeoutError extends ExecutionRejectedError {
  override name = 'TimeoutError';
  /** The effective timeout that elapsed, in milliseconds. */
  readonly timeout: number;

  constructor(timeout: number, message = `timed out after ${formatMs(timeout)} ms`) {
    super(message, { code: 'TIMEOUT' });
    this.timeout = timeout;
  }
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(3);
}
