import { ExecutionRejectedError, httpStatusOf, type ShouldHandle } from '@faultline/core';

function isOverloadStatus(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

/**
 * The default of `adaptiveThrottle`'s `shouldHandle`: an outcome is an overload rejection when it
 * is an `ExecutionRejectedError` (a local policy gave up, e.g. a timeout or a full bulkhead), or
 * an error or result carrying HTTP status 429 or 503 (`status`, `statusCode` or
 * `response.status`, as fetch `Response`s and most HTTP client errors do).
 */
export const handleOverload: ShouldHandle = (outcome) => {
  if (outcome.ok) return isOverloadStatus(httpStatusOf(outcome.value));
  const error = outcome.error;
  return error instanceof ExecutionRejectedError || isOverloadStatus(httpStatusOf(error));
};
