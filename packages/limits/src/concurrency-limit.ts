import type { Clock } from '@faultline/clock';
import {
  contextFor,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  identify,
  invoke,
  type Listener,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Task,
  telemetry,
  type Verdict,
} from '@faultline/core';
import {
  ConcurrencyLimitRejectedError,
  type ConcurrencyLimitRejectReason,
} from './concurrency-limit-errors.js';
import type {
  ConcurrencyLimitChangeEvent,
  ConcurrencyLimitRejectEvent,
} from './concurrency-limit-events.js';
import {
  CONCURRENCY_LIMIT_DEFAULTS,
  type ConcurrencyLimitOptions,
  resolveConcurrencyLimitOptions,
} from './concurrency-limit-options.js';
import {
  ConcurrencyLimitState,
  type ConcurrencyPermit,
  DROPPED,
  IGNORED,
  SUCCESS,
} from './concurrency-limit-state.js';
import type { LimitAlgorithm } from './limit-algorithm.js';

const OWNER = 'concurrencyLimit';
const KIND = 'concurrency-limit';

// Algorithms already driving a limiter: an algorithm holds the limit, so sharing one would make
// two limiters fight over it.
const inUse = new WeakSet<LimitAlgorithm>();

/**
 * The adaptive concurrency limit policy: at most `limit` calls in flight, the limit set by an
 * algorithm from the latency and failures of finished calls. Built by {@link concurrencyLimit}.
 */
export class ConcurrencyLimitPolicy extends PolicyBase {
  /** The name given in the options (default `'concurrency-limit'`). */
  readonly name: string;
  readonly #identity: PolicyIdentity;
  readonly #state: ConcurrencyLimitState;
  readonly #queue: { readonly size: number; readonly timeout: number };
  readonly #classifier: OutcomeClassifier;
  readonly #customClassifier: boolean;
  readonly #clock: Clock;
  readonly #onReject = new EventChannel<ConcurrencyLimitRejectEvent>();
  readonly #onLimitChange = new EventChannel<ConcurrencyLimitChangeEvent>();

  constructor(options: ConcurrencyLimitOptions) {
    super();
    const resolved = resolveConcurrencyLimitOptions(options);
    this.#identity = identify(OWNER, KIND, resolved.name);
    this.name = this.#identity.name;
    if (inUse.has(resolved.limit)) {
      throw new TypeError(
        `${OWNER}: option "limit" is an algorithm another concurrencyLimit already uses; build one per limiter`,
      );
    }
    inUse.add(resolved.limit);
    this.#queue = resolved.queue;
    this.#classifier = new OutcomeClassifier(resolved.shouldHandle);
    this.#customClassifier = resolved.shouldHandle !== CONCURRENCY_LIMIT_DEFAULTS.shouldHandle;
    this.#clock = resolved.clock;
    this.#state = new ConcurrencyLimitState(
      resolved.limit,
      resolved.clock,
      resolved.queue.timeout,
      {
        limitChanged: (previous, rtt, inflight, didDrop) => {
          if (this.#onLimitChange.hasListeners) {
            this.#onLimitChange.emit({ limit: this.limit, previous, rtt, inflight, didDrop });
          }
        },
        queueTimedOut: () => this.#rejection(undefined, 'queueTimeout'),
      },
    );
  }

  /** The concurrency limit now. */
  get limit(): number {
    return this.#state.algorithm.limit;
  }

  /** Calls holding a permit now. */
  get inflight(): number {
    return this.#state.inflight;
  }

  /** Callers waiting in the queue. */
  get queued(): number {
    return this.#state.queued;
  }

  /** The queue's size and timeout (`size` 0: no queue). */
  get queue(): { readonly size: number; readonly timeout: number } {
    return this.#queue;
  }

  /** The algorithm that sets the limit. */
  get algorithm(): LimitAlgorithm {
    return this.#state.algorithm;
  }

  /** Called when a caller is turned away (limit reached, or queue timeout). */
  onReject(listener: Listener<ConcurrencyLimitRejectEvent>): () => void {
    return this.#onReject.subscribe(listener);
  }

  /** Called when the algorithm moves the limit. */
  onLimitChange(listener: Listener<ConcurrencyLimitChangeEvent>): () => void {
    return this.#onLimitChange.subscribe(listener);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    const state = this.#state;
    if (state.hasRoom) {
      const start = state.begin();
      return this.#run(fn, ctx, start, state.inflight);
    }
    if (state.queued >= this.#queue.size) return Promise.reject(this.#rejection(ctx, 'full'));
    return state.enqueue(ctx).then((permit) => this.#runPermit(fn, ctx, permit));
  }

  /**
   * Runs `fn` in a slot taken by `state.begin()` at `start`; the slot follows the function's own
   * promise. No permit object: the two handlers share one closure context, the success path's
   * only allocation besides its promise.
   */
  #run<T>(fn: Task<T>, ctx: ExecutionContext, start: number, inflight: number): Promise<T> {
    return Promise.resolve(invoke(fn, ctx)).then(
      (value) => {
        if (this.#classifier.classifiesResults) {
          this.#end(start, inflight, this.#classify(start, inflight, { ok: true, value }, ctx));
        } else {
          this.#state.end(start, inflight, SUCCESS);
        }
        return value;
      },
      (error: unknown) => {
        this.#end(start, inflight, this.#classify(start, inflight, { ok: false, error }, ctx));
        throw error;
      },
    );
  }

  /** Runs `fn` under a permit a queued caller was handed. */
  #runPermit<T>(fn: Task<T>, ctx: ExecutionContext, permit: ConcurrencyPermit): Promise<T> {
    // The permit is the caller's alone and not yet reported: its slot passes to `#run`.
    return this.#run(fn, ctx, permit.start, permit.inflight);
  }

  /** Classifies an outcome; a throwing `shouldHandle` frees the slot as ignored and rethrows. */
  #classify(
    start: number,
    inflight: number,
    outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
    ctx: ExecutionContext,
  ): Verdict {
    try {
      return this.#classifier.classify(outcome, ctx);
    } catch (error) {
      this.#state.end(start, inflight, IGNORED);
      throw error;
    }
  }

  #end(start: number, inflight: number, verdict: Verdict): void {
    // 'unhandled' is a success (the downstream answered); 'aborted': the caller left, so the
    // call tells nothing about the downstream.
    this.#state.end(
      start,
      inflight,
      verdict === 'handled' ? DROPPED : verdict === 'unhandled' ? SUCCESS : IGNORED,
    );
  }

  #rejection(
    ctx: ExecutionContext | undefined,
    reason: ConcurrencyLimitRejectReason,
  ): ConcurrencyLimitRejectedError {
    const state = this.#state;
    if (this.#onReject.hasListeners) {
      this.#onReject.emit({
        reason,
        limit: this.limit,
        inflight: state.inflight,
        queued: state.queued,
      });
    }
    const error = new ConcurrencyLimitRejectedError(
      this.name,
      reason,
      this.limit,
      state.inflight,
      this.#queue,
    );
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'concurrency-limited', this.#clock.now(), error, {
        reason,
        algorithm: state.algorithm.kind,
      });
    }
    return error;
  }

  /**
   * Low-level admission for work `execute` cannot wrap (a stream, an HTTP handler): a permit if
   * a slot is free now, or `undefined` (never waits). Report the call's outcome on the permit.
   */
  tryAcquire(): ConcurrencyPermit | undefined {
    const state = this.#state;
    if (state.hasRoom) return state.admit();
    this.#rejection(undefined, 'full');
    return undefined;
  }

  /**
   * Low-level admission that waits in the queue (if the options give one): resolves with a
   * permit, or rejects with a {@link ConcurrencyLimitRejectedError} (limit reached and queue
   * full, or queue timeout) or with `signal`'s reason when it aborts.
   */
  acquire(signal?: AbortSignal): Promise<ConcurrencyPermit> {
    const ctx = contextFor(signal);
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    const state = this.#state;
    if (state.hasRoom) return Promise.resolve(state.admit());
    if (state.queued >= this.#queue.size) return Promise.reject(this.#rejection(ctx, 'full'));
    return state.enqueue(ctx);
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        name: this.name,
        limit: this.#state.algorithm.describe(),
        queue: { size: this.#queue.size, timeout: this.#queue.timeout },
        shouldHandle: this.#customClassifier ? 'custom' : 'default',
      },
    };
  }
}

/**
 * An adaptive concurrency limit (Netflix concurrency-limits; Envoy's adaptive concurrency filter):
 * at most `limit` calls in flight, with the limit found from measured latency and failures
 * instead of guessed, as TCP finds its congestion window. Over the limit a call is rejected at
 * once with a {@link ConcurrencyLimitRejectedError} (or waits in the optional queue).
 *
 * Put the attempt timeout *inside* the limit (`pipeline(concurrencyLimit(…), timeout(1000))`)
 * so that a timeout is a drop; a call aborted from outside is neither a sample nor a drop.
 *
 * @example
 * ```ts
 * const inventory = pipeline(concurrencyLimit({ limit: gradient2() }), timeout(1_000));
 * const stock = await inventory.execute(({ signal }) => fetch('http://inventory.internal/stock', { signal }));
 * ```
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ConcurrencyLimitPolicy {
  return new ConcurrencyLimitPolicy(options);
}
