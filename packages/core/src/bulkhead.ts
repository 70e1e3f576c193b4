import { type Clock, checkNumber, checkOptions, optionalClock } from '@faultline/clock';
import type { ExecutionContext } from './context.js';
import { ExecutionRejectedError } from './errors.js';
import { EventChannel, type Listener } from './events.js';
import { executeInContext, PolicyBase, type PolicyDescription, type Task } from './policy.js';

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

/** A caller waiting for a slot: a node of the bulkhead's doubly linked FIFO (O(1) removal). */
class Waiter {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  /** Ends the watch on the caller's abort; `undefined` when nobody can abort the caller. */
  unsubscribe: (() => void) | undefined = undefined;
  /** Cancels the `queueTimeout` timer, when there is one. */
  cancelTimer: (() => void) | undefined = undefined;

  constructor(
    readonly fn: Task<unknown>,
    readonly ctx: ExecutionContext,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}
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
  #active = 0;
  #queued = 0;
  #head: Waiter | undefined = undefined;
  #tail: Waiter | undefined = undefined;
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
  constructor(limit: number, queue: number, queueTimeout: number, clock: Clock) {
    super();
    this.#limit = limit;
    this.#queue = queue;
    this.#queueTimeout = queueTimeout;
    this.#clock = clock;
  }

  /** Executions holding a slot: running, or abandoned by an outer timeout but not yet settled. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#queued;
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
    if (this.#queued < this.#queue) return this.#enqueue(fn, ctx);
    return Promise.reject(this.#rejection('full'));
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

  #enqueue<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = new Waiter(
        fn as Task<unknown>,
        ctx,
        resolve as (value: unknown) => void,
        reject,
      );
      // onAbort creates no signal (say, for a bulkhead inside a timeout), and the callers that
      // share a caller signal share one listener on it: past 10 Node would warn of a leak.
      // Not aborted (checked by the caller), so the listener cannot run before we return.
      waiter.unsubscribe = ctx.onAbort(() => this.#abandon(waiter, ctx.abortReason));
      if (this.#queueTimeout !== Number.POSITIVE_INFINITY) {
        waiter.cancelTimer = this.#clock.setTimer(this.#queueTimeout, () => this.#expire(waiter));
      }
      const tail = this.#tail;
      waiter.prev = tail;
      if (tail === undefined) this.#head = waiter;
      else tail.next = waiter;
      this.#tail = waiter;
      this.#queued++;
    });
  }

  /** Frees a slot: hands it straight to the first waiter (FIFO), or returns it to the pool. */
  #release(): void {
    let waiter = this.#head;
    while (waiter !== undefined) {
      this.#unlink(waiter);
      if (!waiter.ctx.aborted) {
        waiter.resolve(this.#run(waiter.fn, waiter.ctx));
        return; // the slot passed on; #active is unchanged
      }
      // Aborted without an abort event reaching us (defensive): drop it and try the next one.
      waiter.reject(waiter.ctx.abortReason);
      waiter = this.#head;
    }
    this.#active--;
  }

  /** A queued caller aborted: it leaves the queue at once. */
  #abandon(waiter: Waiter, reason: unknown): void {
    if (this.#unlink(waiter)) waiter.reject(reason);
  }

  #expire(waiter: Waiter): void {
    waiter.cancelTimer = undefined; // fired: nothing to cancel
    if (!this.#unlink(waiter)) return;
    waiter.reject(this.#rejection('queueTimeout'));
  }

  /** Removes `waiter` from the queue with its listener and timer; false if it already left. */
  #unlink(waiter: Waiter): boolean {
    const { prev, next } = waiter;
    if (prev === undefined && this.#head !== waiter) return false;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#queued--;
    const unsubscribe = waiter.unsubscribe;
    if (unsubscribe !== undefined) {
      waiter.unsubscribe = undefined;
      unsubscribe();
    }
    const cancel = waiter.cancelTimer;
    if (cancel !== undefined) {
      waiter.cancelTimer = undefined;
      cancel();
    }
    return true;
  }

  #rejection(reason: BulkheadRejectReason): BulkheadRejectedError {
    if (this.#onReject.hasListeners) {
      this.#onReject.emit({ reason, active: this.#active, queued: this.#queued });
    }
    return new BulkheadRejectedError(
      reason,
      reason === 'full'
        ? `bulkhead: all ${this.#limit} slots and ${this.#queue} queue places are taken`
        : `bulkhead: no slot freed within the queue timeout of ${this.#queueTimeout} ms`,
    );
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
  return new BulkheadPolicy(limit, queue, queueTimeout, clock);
}
