import type { Clock } from '@faultline/clock';
import {
  checkNumber,
  checkOptions,
  handleAll,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type ShouldHandle,
} from '@faultline/core';
import { isLimitAlgorithm, type LimitAlgorithm } from './limit-algorithm.js';
import { checkLimiterOptions } from './limiter-options.js';

/** The optional queue of {@link ConcurrencyLimitOptions.queue}. */
export interface ConcurrencyLimitQueueOptions {
  /** Callers that may wait (FIFO) when the limit is reached (an integer ≥ 0, or `Infinity`). */
  readonly size: number;
  /** How long (ms) a caller may wait (> 0, or `Infinity`). Default `Infinity`. */
  readonly timeout?: number;
}

/** Options of {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions {
  /**
   * The algorithm that sets the limit: {@link aimd}, {@link vegas}, {@link gradient2} or
   * {@link fixed}. Each limiter needs its own instance (the algorithm holds the limit). Required.
   */
  readonly limit: LimitAlgorithm;
  /** Callers that may wait for a slot, and for how long. Default none: reject at once. */
  readonly queue?: ConcurrencyLimitQueueOptions;
  /**
   * Which outcomes are drops (the loss signal of AIMD and Vegas). Default every error (failures
   * and timeouts alike). A call the caller abandoned is never a sample nor a drop.
   */
  readonly shouldHandle?: ShouldHandle;
  /** Monotonic time source for RTTs and queue timeouts. Default `systemClock`. */
  readonly clock?: Clock;
  /** The policy's name in telemetry. Default `'concurrency-limit'`. */
  readonly name?: string;
}

/** The defaults of {@link concurrencyLimit}. */
export const CONCURRENCY_LIMIT_DEFAULTS = Object.freeze({
  queue: Object.freeze({ size: 0, timeout: Number.POSITIVE_INFINITY }),
  shouldHandle: handleAll,
  name: 'concurrency-limit',
});

/** {@link ConcurrencyLimitOptions} with every default applied. */
export interface ResolvedConcurrencyLimitOptions {
  readonly limit: LimitAlgorithm;
  readonly queue: { readonly size: number; readonly timeout: number };
  readonly shouldHandle: ShouldHandle;
  readonly clock: Clock;
  readonly name: string | undefined;
}

const OWNER = 'concurrencyLimit';

/** Validates {@link ConcurrencyLimitOptions} and applies the defaults. */
export function resolveConcurrencyLimitOptions(options: unknown): ResolvedConcurrencyLimitOptions {
  const opts = checkLimiterOptions<ConcurrencyLimitOptions, LimitAlgorithm>(
    OWNER,
    options,
    isLimitAlgorithm,
    {
      factories: 'aimd, vegas, gradient2 or fixed',
      expected: 'limit algorithm (aimd(), vegas(), gradient2() or fixed(n))',
    },
  );
  let queue: { size: number; timeout: number } = CONCURRENCY_LIMIT_DEFAULTS.queue;
  if (opts.queue !== undefined) {
    const q = checkOptions<ConcurrencyLimitQueueOptions>(`${OWNER}: option "queue"`, opts.queue);
    queue = {
      size: checkNumber(OWNER, 'queue.size', q.size, {
        min: 0,
        integer: true,
        allowInfinity: true,
      }),
      timeout: optionalNumber(OWNER, 'queue.timeout', q.timeout, Number.POSITIVE_INFINITY, {
        min: 0,
        minExclusive: true,
        allowInfinity: true,
      }),
    };
  }
  const shouldHandle = optionalFunction<ShouldHandle>(
    OWNER,
    'shouldHandle',
    opts.shouldHandle,
    CONCURRENCY_LIMIT_DEFAULTS.shouldHandle,
  );
  const clock = optionalClock(OWNER, 'clock', opts.clock);
  return { limit: opts.limit, queue, shouldHandle, clock, name: opts.name };
}
