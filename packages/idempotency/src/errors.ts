import { ExecutionRejectedError } from '@faultline/core';

/**
 * The base of every error `@faultline/idempotency` raises on its own account. Extends
 * `ExecutionRejectedError`, so `code` and `retryAfter` (ms) are always there.
 */
export class IdempotencyError extends ExecutionRejectedError {
  override name = 'IdempotencyError';
}

/** A store call did not answer within the server's `storeTimeout`. Code `STORE_TIMEOUT`. */
export class StoreTimeoutError extends IdempotencyError {
  override name = 'StoreTimeoutError';
  constructor(operation: string, ms: number) {
    super(`idempotency store ${operation} did not answer within ${ms} ms`, {
      code: 'STORE_TIMEOUT',
    });
  }
}

/**
 * The memory store has no room: every slot holds a live IN_PROGRESS record, which is never
 * evicted. Code `STORE_FULL`.
 */
export class StoreFullError extends IdempotencyError {
  override name = 'StoreFullError';
  constructor(message: string) {
    super(message, { code: 'STORE_FULL' });
  }
}

/**
 * Thrown inside an `idempotentFetch` attempt when the server answered with a retryable status
 * (408, 409 with `Retry-After`, 425, 429, 500, 502, 503, 504), so that a retry policy retries it
 * with the same key. When the policy gives up, `idempotentFetch` returns `response` instead of
 * throwing. Code `RETRYABLE_RESPONSE`; `retryAfter` is the server's `Retry-After` in ms, if any.
 */
export class RetryableResponseError extends IdempotencyError {
  override name = 'RetryableResponseError';
  readonly response: Response;
  constructor(response: Response, retryAfter: number | undefined) {
    super(`retryable HTTP status ${response.status}`, {
      code: 'RETRYABLE_RESPONSE',
      retryAfter,
    });
    this.response = response;
  }
}
