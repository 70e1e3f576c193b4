import { ExecutionRejectedError } from '@faultline/core';

/**
 * A retry budget denied a retry. The retry policy still rethrows the call's last error unchanged
 * (never wrapped, never mutated); this error is reported to `onGiveUp` as `event.rejection`, with
 * the last error on its `cause`. Built only on that failure path.
 */
export class BudgetExhaustedError extends ExecutionRejectedError {
  override name = 'BudgetExhaustedError';

  constructor(message = 'retry budget exhausted', cause?: unknown) {
    super(message, { code: 'BUDGET_EXHAUSTED', cause });
  }
}
