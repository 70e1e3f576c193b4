import { ExecutionRejectedError, type ShouldHandle } from '@faultline/core';

function statusOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } };
  return v.status ?? v.statusCode ?? v.response?.status;
}

function isOverloadStatus(status: unknown): boolean {
  return status === 429 || status === 503;
}

/**
 * The default of `adaptiveThrottle`'s `shouldHandle`: an outcome is an overload rejection when it
 * is an `ExecutionRejectedError` (a local policy gave up, e.g. a timeout or a full bulkhead), or
 * an error or result carrying HTTP status 429 or 503 (`status`, `statusCode` or
 * `response.status`, as fetch `Response`s and most HTTP client errors do).
 */
export const handleOverload: ShouldHandle = (outcome) => {
  if (outcome.ok) return isOverloadStatus(statusOf(outcome.value));
  const error = outcome.error;
  return error instanceof ExecutionRejectedError || isOverloadStatus(statusOf(error));
};
