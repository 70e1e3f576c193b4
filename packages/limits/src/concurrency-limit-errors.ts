import { ExecutionRejectedError } from '@faultline/core';
import { formatMs } from './format.js';

/** Why a concurrency limit turned a caller away. */
export type ConcurrencyLimitRejectReason = 'full' | 'queueTimeout';

/**
 * The rejection of a call that found the concurrency limit reached (code `CONCURRENCY_LIMITED`)
 * or waited in its queue longer than the queue's timeout (code `CONCURRENCY_QUEUE_TIMEOUT`).
 * `retryAfter` is `undefined`: nobody can know when a call in flight will finish.
 */
export class ConcurrencyLimitRejectedError extends ExecutionRejectedError {
  override name = 'ConcurrencyLimitRejectedError';
  readonly reason: ConcurrencyLimitRejectReason;
  /** The limit when the caller was turned away. */
  readonly limit: number;
  /** Calls in flight when the caller was turned away. */
  readonly inflight: number;

  /** @internal Built by the concurrency limit. */
  constructor(
    policy: string,
    reason: ConcurrencyLimitRejectReason,
    limit: number,
    inflight: number,
    queue: { size: number; timeout: number },
  ) {
    super(
      reason === 'full'
        ? `${policy}: concurrency limit of ${limit} reached (${inflight} in flight${queue.size > 0 ? `, ${queue.size} queued` : ''})`
        : `${policy}: no slot under the concurrency limit of ${limit} within the queue timeout of ${formatMs(queue.timeout)}`,
      { code: reason === 'full' ? 'CONCURRENCY_LIMITED' : 'CONCURRENCY_QUEUE_TIMEOUT' },
    );
    this.reason = reason;
    this.limit = limit;
    this.inflight = inflight;
  }
}
