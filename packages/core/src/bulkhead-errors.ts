import { ExecutionRejectedError } from './errors.js';

/** Why a bulkhead turned a caller away. */
export type BulkheadRejectReason = 'full' | 'queueTimeout';

/**
 * The rejection of a caller that found the bulkhead full (code `BULKHEAD_FULL`) or waited in its
 * queue longer than `queueTimeout` (code `BULKHEAD_QUEUE_TIMEOUT`). `retryAfter` is `undefined`:
 * a bulkhead cannot know when a slot will free.
 */
export class BulkheadRejectedError extends ExecutionRejectedError {
  override name = 'BulkheadRejectedError';
  /** Why the caller was turned away. */
  readonly reason: BulkheadRejectReason;

  constructor(reason: BulkheadRejectReason, message: string) {
    super(message, { code: reason === 'full' ? 'BULKHEAD_FULL' : 'BULKHEAD_QUEUE_TIMEOUT' });
    this.reason = reason;
  }
}
