import type { Outcome } from '@faultline/core';

/**
 * One logical call's dealings with a {@link RetryBudget}. The retry policy calls
 * {@link tryRetry} only when it would otherwise retry, and exactly one of {@link succeed} or
 * {@link fail} when the call ends. Streaming clients and other libraries can drive it by hand.
 */
export interface RetryTicket {
  /**
   * The attempt failed with `outcome` (a handled failure) and the caller wants to retry. Returns
   * whether the retry may happen; a granted retry is paid for at once. Never blocks.
   */
  tryRetry(outcome: Outcome<unknown>): boolean;
  /** The call ended in success (an outcome the policy does not handle). */
  succeed(): void;
  /**
   * The call ended without success: it gave up, was denied, was aborted or failed with an error
   * the policy does not retry. Budgets that count calls in flight need it; the others ignore it.
   */
  fail(): void;
}

/**
 * A retry budget, shared by every call to one downstream: it caps how much extra load retries may
 * add across all of them, whatever each call's `maxAttempts` says.
 */
export interface RetryBudget {
  /** Marks the start of a logical call and returns its ticket. */
  begin(): RetryTicket;
}

/** Whether `value` looks like a {@link RetryBudget} (an object with `begin()`). */
export function isRetryBudget(value: unknown): value is RetryBudget {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<RetryBudget>).begin === 'function'
  );
}
