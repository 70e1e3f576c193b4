import { handleErrors, isExecutionRejected, type ShouldHandle } from '@faultline/core';

/**
 * Whether `error` is a timeout, recognised by shape so that retry does not depend on
 * `@faultline/timeout`: `name === 'TimeoutError'` (our TimeoutError, the platform's
 * `AbortSignal.timeout()` reason, `DeadlineExceededError`) or `code === 'TIMEOUT'`.
 */
export function isTimeoutError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === 'TimeoutError' || e.code === 'TIMEOUT';
}

/**
 * The retry policy's default: every error except `ExecutionRejectedError`s other than a timeout
 * (an open circuit or a full bulkhead says "not now": retrying at once only adds load). Results
 * are never handled. The caller's own abort is excluded by the policy before this is asked.
 */
export const handleTransient: ShouldHandle = handleErrors(
  (error) => !isExecutionRejected(error) || isTimeoutError(error),
);
