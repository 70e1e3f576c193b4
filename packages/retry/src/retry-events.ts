import type { Outcome } from '@faultline/core';
import type { BudgetExhaustedError } from './retry-errors.js';

/** Emitted before each retry's sleep. */
export interface RetryEvent {
  /** The 1-based number of the attempt that failed; attempt `attempt + 1` follows. */
  readonly attempt: number;
  /** The sleep before the next attempt, in ms. */
  readonly delay: number;
  /** The failed attempt's outcome. */
  readonly outcome: Outcome<unknown>;
}

/** Why the policy stopped retrying a handled failure. */
export type RetryGiveUpReason = 'attempts' | 'budget' | 'deadline';

/** Emitted when the policy stops retrying a handled failure. */
export interface RetryGiveUpEvent {
  /** Attempts made. */
  readonly attempts: number;
  readonly reason: RetryGiveUpReason;
  /** The last attempt's outcome: its error is rethrown unchanged, its result resolved. */
  readonly outcome: Outcome<unknown>;
  /** For `reason: 'budget'`: the budget's rejection (its `cause` is the last error). */
  readonly rejection?: BudgetExhaustedError;
}

/** Emitted when a call succeeds (with an outcome the policy does not handle). */
export interface RetrySuccessEvent {
  /** Attempts made, 1 when the first one succeeded. */
  readonly attempts: number;
}

/** @deprecated The old name of {@link RetryGiveUpEvent}. */
export type GiveUpEvent = RetryGiveUpEvent;
/** @deprecated The old name of {@link RetryGiveUpReason}. */
export type GiveUpReason = RetryGiveUpReason;
