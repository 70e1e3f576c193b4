import type { Clock } from '@faultline/clock';
import {
  checkNumber,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  formatValue,
  identify,
  invoke,
  type Listener,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Task,
  telemetry,
} from '@faultline/core';
import { isMemoryStore, type MemoryRateLimitStore } from './memory-store.js';
import type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitStore,
} from './rate-limit-algorithm.js';
import { RateLimitRejectedError } from './rate-limiter-errors.js';
import type { RateLimiterRejectEvent, RateLimiterWaitEvent } from './rate-limiter-events.js';
import { type RateLimiterOptions, resolveRateLimiterOptions } from './rate-limiter-options.js';

const OWNER = 'rateLimiter';
const KIND = 'rate-limiter';

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T>).then === 'function';
}

/**
 * The rate limiter policy: admits calls at the rate its algorithm allows, per key, with state in
 * a pluggable store. Built by {@link rateLimiter}.
 */
export class RateLimiterPolicy extends PolicyBase {
  /** The name given in the options (default `'rate-limiter'`). */
  readonly name: string;
  readonly #identity: PolicyIdentity;
  readonly #algorithm: RateLimitAlgorithm;
  readonly #maxWait: number;
  readonly #key: ((ctx: ExecutionContext) => string) | undefined;
  readonly #store: RateLimitStore;
  /** The store when it is the in-process one (its `take` is the allocation-free fast path). */
  readonly #memory: MemoryRateLimitStore | undefined;
  readonly #clock: Clock;
  readonly #onReject = new EventChannel<RateLimiterRejectEvent>();
  readonly #onWait = new EventChannel<RateLimiterWaitEvent>();

  constructor(options: RateLimiterOptions) {
    super();
    const resolved = resolveRateLimiterOptions(options);
    this.#identity = identify(OWNER, KIND, resolved.name);
    this.name = this.#identity.name;
    this.#algorithm = resolved.limit;
    this.#maxWait = resolved.maxWait;
    this.#key = resolved.key;
    this.#store = resolved.store;
    this.#memory = isMemoryStore(resolved.store) ? resolved.store : undefined;
    this.#clock = resolved.clock;
  }

  /** The algorithm and its parameters (what the `RateLimit-Policy` field advertises). */
  get algorithm(): RateLimitAlgorithm {
    return this.#algorithm;
  }

  /** The store the limit's state lives in. */
  get store(): RateLimitStore {
    return this.#store;
  }

  /** Called when a call (or a `tryAcquire`) is turned away. */
  onReject(listener: Listener<RateLimiterRejectEvent>): () => void {
    return this.#onReject.subscribe(listener);
  }

  /** Called when a call waits for a permit (`maxWait` > 0). */
  onWait(listener: Listener<RateLimiterWaitEvent>): () => void {
    return this.#onWait.subscribe(listener);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    let key = '';
    let decision: RateLimitDecision | PromiseLike<RateLimitDecision>;
    try {
      if (this.#key !== undefined) key = this.#keyOf(ctx);
      const now = this.#clock.now();
      // The memory store's success path builds no decision object.
      if (this.#memory?.take(key, this.#algorithm, 1, now)) {
        return Promise.resolve(invoke(fn, ctx));
      }
      decision = this.#store.consume(key, this.#algorithm, 1, now);
    } catch (error) {
      return Promise.reject(error);
    }
    if (isPromiseLike(decision)) {
      return Promise.resolve(decision).then((settled) => this.#decided(fn, ctx, key, settled, -1));
    }
    // The success path with a synchronous store: no promise beyond the function's own.
    if (decision.allowed) return Promise.resolve(invoke(fn, ctx));
    return this.#decided(fn, ctx, key, decision, -1);
  }

  /**
   * Acts on a decision: run `fn`, wait and ask again, or reject. `started` is when the first
   * refusal came (-1 before any).
   */
  #decided<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    key: string,
    decision: RateLimitDecision,
    started: number,
  ): Promise<T> {
    // The store may have answered after the caller left (a remote store, a wait).
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    if (decision.allowed) return Promise.resolve(invoke(fn, ctx));
    const now = this.#clock.now();
    if (started < 0) started = now;
    const waited = now - started;
    const retryAfter = decision.retryAfter;
    // Never wait past the caller's deadline: a permit that comes after it is no use.
    const budget = Math.min(this.#maxWait - waited, ctx.deadline.remaining());
    if (retryAfter === Number.POSITIVE_INFINITY || retryAfter > budget) {
      return Promise.reject(this.#rejection(ctx, key, decision, waited));
    }
    if (this.#onWait.hasListeners) this.#onWait.emit({ key, delay: retryAfter });
    return this.#sleep(retryAfter, ctx).then(() => {
      const next = this.#store.consume(key, this.#algorithm, 1, this.#clock.now());
      return isPromiseLike(next)
        ? Promise.resolve(next).then((settled) => this.#decided(fn, ctx, key, settled, started))
        : this.#decided(fn, ctx, key, next, started);
    });
  }

  /** Waits `ms` on the clock; rejects with the abort reason as soon as the caller aborts. */
  #sleep(ms: number, ctx: ExecutionContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      let done = false;
      // Subscribed before the timer is set: a clock that fires synchronously leaves no listener.
      const unsubscribe = ctx.onAbort(() => {
        done = true;
        cancelTimer?.();
        reject(ctx.abortReason);
      });
      if (done) return;
      cancelTimer = this.#clock.setTimer(ms, () => {
        done = true;
        unsubscribe?.();
        resolve();
      });
    });
  }

  #keyOf(ctx: ExecutionContext): string {
    const key = this.#key!(ctx);
    if (typeof key !== 'string') {
      throw new TypeError(
        `${this.name}: option "key" must return a string, returned ${formatValue(key)}`,
      );
    }
    return key;
  }

  #rejection(
    ctx: ExecutionContext | undefined,
    key: string,
    decision: RateLimitDecision,
    waited: number,
  ): RateLimitRejectedError {
    const reason = decision.retryAfter === Number.POSITIVE_INFINITY ? 'never' : 'limited';
    if (this.#onReject.hasListeners) {
      this.#onReject.emit({
        reason,
        key,
        limit: decision.limit,
        remaining: decision.remaining,
        retryAfter: decision.retryAfter,
        waited,
      });
    }
    const error = new RateLimitRejectedError(this.name, decision, waited);
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'rate-limited', this.#clock.now(), error, {
        reason,
        algorithm: this.#algorithm.kind,
      });
    }
    return error;
  }

  /**
   * Low-level admission, for work that `execute` cannot wrap (a stream, an HTTP middleware):
   * takes `permits` (an integer ≥ 0; `0` only reads the state) from the limit under `key` if it
   * allows them now, never waiting. The decision says how many remain and, when refused, how
   * long to wait (`retryAfter`, ms).
   */
  tryAcquire(key = '', permits = 1): Promise<RateLimitDecision> {
    try {
      if (typeof key !== 'string') {
        throw new TypeError(
          `${OWNER}.tryAcquire: "key" must be a string, received ${formatValue(key)}`,
        );
      }
      checkNumber(`${OWNER}.tryAcquire`, 'permits', permits, { min: 0, integer: true }, false);
      const decision = this.#store.consume(key, this.#algorithm, permits, this.#clock.now());
      if (isPromiseLike(decision)) {
        return Promise.resolve(decision).then((settled) => this.#reported(key, settled));
      }
      return Promise.resolve(this.#reported(key, decision));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #reported(key: string, decision: RateLimitDecision): RateLimitDecision {
    if (!decision.allowed && (this.#onReject.hasListeners || telemetry.hasSubscribers)) {
      this.#rejection(undefined, key, decision, 0);
    }
    return decision;
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        name: this.name,
        limit: this.#algorithm.describe(),
        maxWait: this.#maxWait,
        key: this.#key === undefined ? 'none' : 'custom',
        store: this.#store.kind ?? 'custom',
      },
    };
  }
}

/**
 * A rate limit as a policy: admits calls at the rate `limit` allows, per `key`, and rejects the
 * rest with a {@link RateLimitRejectedError} whose `retryAfter` says when to come back (or lets
 * them wait up to `maxWait`, never past their deadline). Use it client-side to stay under a
 * partner's quota, or server-side (see the middleware in `@faultline/limits/node`, `/express`,
 * `/fastify`, `/hono`) to protect a service from a client that sends too much.
 *
 * @example
 * ```ts
 * const github = rateLimiter({ limit: tokenBucket({ rate: 10, burst: 5 }), maxWait: 2_000 });
 * const user = await github.execute(({ signal }) => fetch('https://api.github.com/user', { signal }));
 * ```
 */
export function rateLimiter(options: RateLimiterOptions): RateLimiterPolicy {
  return new RateLimiterPolicy(options);
}
