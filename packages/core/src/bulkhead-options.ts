import type { Clock } from '@faultline/clock';
import {
  checkNumber,
  checkOptions,
  optionalClock,
  optionalNumber,
} from '@faultline/clock/internal';
import { checkName } from './telemetry.js';

/** Options for {@link bulkhead}. */
export interface BulkheadOptions {
  /** How many executions may run at once. An integer ≥ 1. Required. */
  readonly limit: number;
  /**
   * How many callers may wait (FIFO) for a slot when all `limit` are taken; more are rejected at
   * once. An integer ≥ 0, or `Infinity` for an unbounded queue. Default `0` (no queue).
   */
  readonly queue?: number;
  /**
   * How long (ms) a caller may wait in the queue before it is rejected with a
   * `BulkheadRejectedError` (code `BULKHEAD_QUEUE_TIMEOUT`). A number > 0, or `Infinity`.
   * Default `Infinity` (wait until a slot frees or the caller aborts).
   */
  readonly queueTimeout?: number;
  /** The clock that runs `queueTimeout`. Default `systemClock`. */
  readonly clock?: Clock;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'bulkhead'`. */
  readonly name?: string;
}

/** The defaults of {@link BulkheadOptions}: the single source of each (the README's table). */
export const BULKHEAD_DEFAULTS = Object.freeze({
  queue: 0,
  queueTimeout: Number.POSITIVE_INFINITY,
  name: 'bulkhead',
} as const);

/** {@link BulkheadOptions} validated, with every default applied. */
export interface ResolvedBulkheadOptions {
  readonly limit: number;
  readonly queue: number;
  readonly queueTimeout: number;
  readonly clock: Clock;
  readonly name: string;
}

const OWNER = 'bulkhead';

/**
 * Validates {@link BulkheadOptions} (a `TypeError` for a wrong type, a `RangeError` out of range,
 * naming the option) and applies {@link BULKHEAD_DEFAULTS}.
 */
export function resolveBulkheadOptions(options: BulkheadOptions): ResolvedBulkheadOptions {
  const opts = checkOptions<BulkheadOptions>(OWNER, options);
  return {
    limit: checkNumber(OWNER, 'limit', opts.limit, { min: 1, integer: true }),
    queue: optionalNumber(OWNER, 'queue', opts.queue, BULKHEAD_DEFAULTS.queue, {
      min: 0,
      integer: true,
      allowInfinity: true,
    }),
    queueTimeout: optionalNumber(
      OWNER,
      'queueTimeout',
      opts.queueTimeout,
      BULKHEAD_DEFAULTS.queueTimeout,
      {
        min: 0,
        minExclusive: true,
        allowInfinity: true,
      },
    ),
    clock: optionalClock(OWNER, 'clock', opts.clock),
    name: opts.name === undefined ? BULKHEAD_DEFAULTS.name : checkName(OWNER, 'name', opts.name),
  };
}
