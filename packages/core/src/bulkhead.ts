import type { Clock } from '@faultline/clock';
import { BulkheadRejectedError, type BulkheadRejectReason } from './bulkhead-errors.js';
import type { BulkheadRejectEvent } from './bulkhead-events.js';
import { type BulkheadOptions, resolveBulkheadOptions } from './bulkhead-options.js';
import { type ExecutionContext, rootContext } from './context.js';
import { EventChannel, type Listener } from './events.js';
import { formatMs } from './internal/format.js';
import { WaitQueue } from './internal/wait-queue.js';
import {
  type ExecuteOptions,
  executeInContext,
  PolicyBase,
  type PolicyDescription,
  type Task,
} from './policy.js';
import { identify, type PolicyIdentity, publishEvent, telemetry } from './telemetry.js';

const OWNER = 'bulkhead';
const KIND = 'bulkhead';

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

  /** Validates `options` (see {@link resolveBulkheadOptions}); {@link bulkhead} is the same. */
  constructor(options: BulkheadOptions) {
    super();
    const resolved = resolveBulkheadOptions(options);
    this.#limit = resolved.limit;
    this.#queue = resolved.queue;
    this.#queueTimeout = resolved.queueTimeout;
    this.#clock = resolved.clock;
    this.#waiting = new WaitQueue(resolved.clock);
    this.#identity = identify(OWNER, KIND, resolved.name);
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

  /**
   * {@link PolicyBase.execute}, with the common call (no signal, no operation, no telemetry
   * subscriber) dispatched here: the skeleton's call of `executeInContext` is shared by every
   * policy class and turns megamorphic in an application that uses several, where this one only
   * ever sees a bulkhead.
   */
  override execute<T>(fn: Task<T>, signalOrOptions?: AbortSignal | ExecuteOptions): Promise<T> {
    if (signalOrOptions !== undefined || telemetry.hasSubscribers) {
      return super.execute(fn, signalOrOptions);
    }
    try {
      return this[executeInContext](fn, rootContext);
    } catch (error) {
      return Promise.reject(error); // as PolicyBase.execute: never a synchronous throw
    }
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
        : `bulkhead: no slot freed within the queue timeout of ${formatMs(this.#queueTimeout)} ms`,
    );
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'bulkhead-rejected', this.#clock.now(), error, { reason });
    }
    return error;
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
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
  return new BulkheadPolicy(options);
}
