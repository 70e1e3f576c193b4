import type { ConcurrencyLimitRejectReason } from './concurrency-limit-errors.js';

/** The event of `ConcurrencyLimitPolicy.onReject`. Plain data. */
export interface ConcurrencyLimitRejectEvent {
  readonly reason: ConcurrencyLimitRejectReason;
  readonly limit: number;
  readonly inflight: number;
  /** Callers waiting in the queue (not counting this one). */
  readonly queued: number;
}

/** The event of `ConcurrencyLimitPolicy.onLimitChange`. Plain data. */
export interface ConcurrencyLimitChangeEvent {
  readonly limit: number;
  readonly previous: number;
  /** The sample that moved it. */
  readonly rtt: number;
  readonly inflight: number;
  readonly didDrop: boolean;
}
