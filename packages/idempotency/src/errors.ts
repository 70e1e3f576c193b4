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
 * (408, 425, 429, 500, 502, 503, 504, or 409 with `Retry-After`), so that a retry policy retries
 * it **with the same key**. It is the call's own failure (the server's answer), not a policy's
 * rejection, so it is a plain `Error`: the retry policy's default `shouldHandle` retries it and
 * `httpRetryAfter` reads `Retry-After` from `response`. When the policy gives up,
 * `idempotentFetch` returns `response` instead of throwing, like `fetch` does for HTTP errors.
 */
export class RetryableStatusError extends Error {
  override name = 'RetryableStatusError';
  readonly status: number;
  readonly response: Response;
  constructor(response: Response) {
    super(`retryable HTTP status ${response.status}`);
    this.status = response.status;
    this.response = response;
  }
}
