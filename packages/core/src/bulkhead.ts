import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, optionalClock } from '@faultline/clock/internal';
import type { ExecutionContext } from './context.js';
import { ExecutionRejectedError } from './errors.js';
import { EventChannel, type Listener } from './events.js';
import { WaitQueue } from './internal/wait-queue.js';
import { executeInContext, PolicyBase, type PolicyDescription, type Task } from './policy.js';
import { identify, type PolicyIdentity, publishEvent, telemetry } from './telemetry.js';

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
   * {@link BulkheadRejectedError} (code `BULKHEAD_QUEUE_TIMEOUT`). A number > 0, or `Infinity`.
   * Default `Infinity` (wait until a slot frees or the caller aborts).
   */
  readonly queueTimeout?: number;
  /** The clock that runs `queueTimeout`. Default `systemClock`. */
  readonly clock?: Clock;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'bulkhead'`. */
  readonly name?: string;
}

/** Why a bulkhead turned a caller away. */
export type BulkheadRejectReason = 'full' | 'queueTimeout';

/** The event of {@link BulkheadPolicy.onReject}. Plain data. */
export interface BulkheadRejectEvent {
  /** `'full'`: every slot and queue place was taken; `'queueTimeout'`: waited `queueTimeout`. */
  readonly reason: BulkheadRejectReason;
  /** Executions running when the caller was rejected. */
  readonly active: number;
  /** Callers waiting when the caller was rejected (not counting it). */
  readonly queued: number;
}

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

/**
 * The bulkhead policy: isolates a resource by bounding its concurrency, so one slow dependency
 * cannot take every connection, thread or socket (Nygard, *Release It!*, "Bulkheads"; Polly's
 * "concurrency limiter"). Built by {@link bulkhead}.
 */
export class BulkheadPolicy extends PolicyBase {
  readonly #limit: number;
  readonly #queue: number;
  readonly #queueTimeout: number;
  readonly #clock: Clock;
  readonly #identity: PolicyIdentity;
  #active = 0;
  /** Callers waiting for a slot, each with the function it will run. */
  readonly #waiting: WaitQueue<Task<unknown>, unknown>;
  readonly #onReject = new EventChannel<BulkheadRejectEvent>();
  // Pre-bound settle handlers: the success path adds no closure per call.
  readonly #settled = (value: unknown): unknown => {
    this.#release();
    return value;
  };
  readonly #failed = (error: unknown): never => {
    this.#release();
    throw error;
  };

  /** @internal Use {@link bulkhead}. */
  constructor(
    limit: number,
    queue: number,
    queueTimeout: number,
    clock: Clock,
    identity: PolicyIdentity = identify('bulkhead', 'bulkhead', undefined),
  ) {
    super();
    this.#limit = limit;
    this.#queue = queue;
    this.#queueTimeout = queueTimeout;
    this.#waiting = new WaitQueue(clock);
    this.#clock = clock;
    this.#identity = identity;
  }

  /** The policy's name in telemetry (option `name`, default `'bulkhead'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Executions holding a slot: running, or abandoned by an outer timeout but not yet settled. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#waiting.size;
  }

  /** Called when a caller is turned away (full, or waited `queueTimeout`). */
  onReject(listener: Listener<BulkheadRejectEvent>): () => void {
    return this.#onReject.subscribe(listener);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    if (this.#active < this.#limit) {
      this.#active++;
      return this.#run(fn, ctx);
    }
    if (this.#waiting.size < this.#queue) {
      // onAbort creates no signal (say, for a bulkhead inside a timeout), and the callers that
      // share a caller signal share one listener on it: past 10 Node would warn of a leak.
      return this.#waiting.wait(ctx, fn as Task<unknown>, this.#queueTimeout, () =>
        this.#rejection('queueTimeout', ctx),
      ) as Promise<T>;
    }
    return Promise.reject(this.#rejection('full', ctx));
  }

  /** Runs `fn` in a slot already counted in `#active`; the slot is freed when `fn` settles. */
  #run<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let result: T | PromiseLike<T>;
    try {
      result = fn(ctx);
    } catch (error) {
      // Released on a later microtask, like an async failure: a run of synchronously throwing
      // waiters then hands the slot on without recursing.
      result = Promise.reject(error);
    }
    // The slot follows the function's own promise, never the caller's: an outer timeout that
    // stops waiting does not free it (unlike opossum's semaphore, which let 6 run with capacity 2).
    return Promise.resolve(result).then(this.#settled, this.#failed) as Promise<T>;
  }

  /** Frees a slot: hands it straight to the first waiter (FIFO), or returns it to the pool. */
  #release(): void {
    const waiter = this.#waiting.shift();
    // The slot passes on (#active is unchanged), or returns to the pool.
    if (waiter !== undefined) waiter.resolve(this.#run(waiter.payload, waiter.ctx));
    else this.#active--;
  }

  #rejection(reason: BulkheadRejectReason, ctx: ExecutionContext): BulkheadRejectedError {
    if (this.#onReject.hasListeners) {
      this.#onReject.emit({ reason, active: this.#active, queued: this.#waiting.size });
    }
    const error = new BulkheadRejectedError(
      reason,
      reason === 'full'
        ? `bulkhead: all ${this.#limit} slots and ${this.#queue} queue places are taken`
        : `bulkhead: no slot freed within the queue timeout of ${this.#queueTimeout} ms`,
    );
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'bulkhead-rejected', this.#clock.now(), error, { reason });
    }
    return error;
  }

  describe(): PolicyDescription {
    return {
      name: 'bulkhead',
      options: { limit: this.#limit, queue: this.#queue, queueTimeout: this.#queueTimeout },
    };
  }
}

/**
 * Bounds concurrency: at most `limit` executions run at once and up to `queue` callers wait for a
 * slot in FIFO order; beyond that a caller is rejected with {@link BulkheadRejectedError}. A
 * queued caller that aborts leaves the queue at once. A slot is held until the wrapped function
 * really settles, even if an enclosing timeout stopped waiting for it, so `limit` bounds the work
 * actually in flight.
 *
 * @example
 * ```ts
 * const db = bulkhead({ limit: 10, queue: 100, queueTimeout: 1_000 });
 * const rows = await db.execute(({ signal }) => pool.query(sql, { signal }));
 * ```
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  const opts = checkOptions<BulkheadOptions>('bulkhead', options);
  const limit = checkNumber('bulkhead', 'limit', opts.limit, { min: 1, integer: true });
  const queue =
    opts.queue === undefined
      ? 0
      : checkNumber('bulkhead', 'queue', opts.queue, {
          min: 0,
          integer: true,
          allowInfinity: true,
        });
  const queueTimeout =
    opts.queueTimeout === undefined
      ? Number.POSITIVE_INFINITY
      : checkNumber('bulkhead', 'queueTimeout', opts.queueTimeout, {
          min: 0,
          minExclusive: true,
          allowInfinity: true,
        });
  const clock = optionalClock('bulkhead', 'clock', opts.clock);
  const identity = identify('bulkhead', 'bulkhead', opts.name);
  return new BulkheadPolicy(limit, queue, queueTimeout, clock, identity);
}
