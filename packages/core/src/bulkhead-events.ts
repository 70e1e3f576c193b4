import type { BulkheadRejectReason } from './bulkhead-errors.js';

/** The event of `BulkheadPolicy.onReject`. Plain data. */
export interface BulkheadRejectEvent {
  /** `'full'`: every slot and queue place was taken; `'queueTimeout'`: waited `queueTimeout`. */
  readonly reason: BulkheadRejectReason;
  /** Executions running when the caller was rejected. */
  readonly active: number;
  /** Callers waiting when the caller was rejected (not counting it). */
  readonly queued: number;
}
