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
 * A JSON request body nested deeper than the fingerprint canonicalises ({@link MAX_JSON_DEPTH}
 * levels). The server answers 400 `BODY_TOO_DEEP`. Code `BODY_TOO_DEEP`.
 */
export class BodyTooDeepError extends IdempotencyError {
  override name = 'BodyTooDeepError';
  constructor(limit: number) {
    super(`the JSON body is nested more than ${limit} levels deep`, { code: 'BODY_TOO_DEEP' });
  }
}

/**
 * How deep a JSON body may nest for the default fingerprint (objects and arrays), as Jackson's
 * default `maxNestingDepth`. Deeper bodies are refused rather than canonicalised: the limit
 * keeps canonicalisation well inside the call stack.
 */
export const MAX_JSON_DEPTH = 1_000;

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
