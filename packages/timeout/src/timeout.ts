import { type Clock, Deadline, systemClock } from '@faultline/clock';
import {
  type CancellableContext,
  type Context,
  checkNumber,
  checkOneOf,
  checkOptions,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  formatValue,
  identify,
  type Listener,
  optionalClock,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Task,
  telemetry,
} from '@faultline/core';
import { AdaptiveTimeout } from './adaptive-timeout.js';
import { ambientDeadline, hasAmbientDeadlineProvider } from './ambient.js';
import { TimeoutError, type TimeoutSource } from './timeout-error.js';

/**
 * - `'aggressive'` (default): at expiry, abort `ctx.signal` and reject at once, abandoning the
 *   function if it ignores its signal. A timeout then bounds latency whatever the function does.
 * - `'cooperative'`: at expiry, abort `ctx.signal` and wait for the function to settle.
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/** How long an attempt may take: fixed ms, computed per call, or learned. */
export type TimeoutDuration = number | ((ctx: Context) => number) | AdaptiveTimeout;

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** What happens at expiry; see {@link TimeoutStrategy}. Default `'aggressive'`. */
  readonly strategy?: TimeoutStrategy;
  /**
   * Clock for the timer and the measured durations. Default: the adaptive timeout's clock when
   * `duration` is an {@link AdaptiveTimeout}, otherwise `systemClock`.
   */
  readonly clock?: Clock;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'timeout'`. */
  readonly name?: string;
}

/** The `onTimeout` event: the effective timeout and the time actually elapsed, in ms. */
export interface TimeoutEvent {
  readonly timeout: number;
  readonly elapsed: number;
}

const OWNER = 'timeout';
const STRATEGIES: readonly TimeoutStrategy[] = ['aggressive', 'cooperative'];

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Partial<PromiseLike<T>>).then === 'function'
  );
}

/**
 * The `timeout` policy. Build it with {@link timeout}.
 *
 * The effective timeout of a call is `min(duration, ctx.deadline.remaining())` (including an
 * ambient deadline when `@faultline/timeout/node` is loaded), and the function sees
 * `ctx.deadline` = the earliest of both, so nested timeouts and downstream services inherit the
 * tightest budget.
 */
export class TimeoutPolicy extends PolicyBase {
  /** See {@link TimeoutStrategy}. */
  readonly strategy: TimeoutStrategy;
  readonly clock: Clock;
  readonly #fixed: number | undefined;
  readonly #dynamic: ((ctx: Context) => number) | undefined;
  readonly #adaptive: AdaptiveTimeout | undefined;
  readonly #onTimeout = new EventChannel<TimeoutEvent>();
  readonly #identity: PolicyIdentity;

  /** @internal use {@link timeout}. */
  constructor(duration: TimeoutDuration, options?: TimeoutOptions) {
    super();
    if (typeof duration === 'number') {
      this.#fixed = checkNumber(
        OWNER,
        'duration',
        duration,
        { min: 0, allowInfinity: true },
        false,
      );
    } else if (duration instanceof AdaptiveTimeout) {
      this.#adaptive = duration;
    } else if (typeof duration === 'function') {
      this.#dynamic = duration;
    } else {
      throw new TypeError(
        `${OWNER}: argument "duration" must be a number in [0, Infinity], a function (ctx) => ms or an AdaptiveTimeout, received ${formatValue(duration)}`,
      );
    }
    const opts = checkOptions<TimeoutOptions>(OWNER, options);
    this.strategy =
      opts.strategy === undefined
        ? 'aggressive'
        : checkOneOf(OWNER, 'strategy', opts.strategy, STRATEGIES);
    this.clock =
      opts.clock === undefined
        ? (this.#adaptive?.clock ?? systemClock)
        : optionalClock(OWNER, 'clock', opts.clock);
    this.#identity = identify(OWNER, 'timeout', opts.name);
  }

  /** The policy's name in telemetry (option `name`, default `'timeout'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Subscribes to timeouts (not to caller aborts). Returns an unsubscribe function. */
  onTimeout(listener: Listener<TimeoutEvent>): () => void {
    return this.#onTimeout.subscribe(listener);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    let own: number;
    if (this.#fixed !== undefined) own = this.#fixed;
    else if (this.#adaptive !== undefined) own = this.#adaptive.current();
    else {
      try {
        own = this.#dynamic!(ctx);
        checkNumber(OWNER, 'duration(ctx) result', own, { min: 0, allowInfinity: true }, false);
      } catch (error) {
        return Promise.reject(error);
      }
    }

    let enclosing = ctx.deadline;
    // Which deadline fires if ours does not: named in the TimeoutError's message.
    let other: TimeoutSource = 'deadline';
    if (hasAmbientDeadlineProvider()) {
      const ambient = ambientDeadline();
      if (ambient !== undefined) {
        enclosing = enclosing.earliest(ambient);
        if (enclosing === ambient) other = 'ambient';
      }
    }
    const remaining = enclosing.remaining();
    // Whether our own duration (rather than an enclosing deadline) sets the timer: only then does
    // a timeout tell an adaptive timeout anything about the latency of the call.
    const ownBound = own < remaining;
    const ms = ownBound ? own : remaining;
    if (ms === Number.POSITIVE_INFINITY) {
      // No timeout anywhere (then `enclosing` is `ctx.deadline`): nothing to add.
      return new Promise<T>((resolve) => resolve(fn(ctx)));
    }
    if (ms <= 0) {
      // The budget is already spent: calling the function would only waste the callee's work.
      const error = this.#timeoutError(0, ownBound, other, own);
      this.#expired(0, 0, ownBound, ctx, error);
      return Promise.reject(error);
    }
    // The function's context: its signal is created only if read, and policies nested inside
    // watch it with onAbort, which creates none. Its deadline's clock times the call: an
    // enclosing deadline passes when *its* clock says so, which need not be ours (a deadline
    // received on systemClock around a policy on a simulator's VirtualClock).
    const start = this.clock.now();
    const child = ctx.child(ownBound ? Deadline.at(start + own, this.clock) : enclosing);
    let result: T | PromiseLike<T>;
    try {
      result = fn(child);
    } catch (error) {
      this.#release(child, ownBound);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.#release(child, ownBound);
      if (this.#adaptive !== undefined) {
        try {
          this.#adaptive.observeResult(result, this.clock.now() - start, ctx);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return Promise.resolve(result);
    }
    const source: TimeoutSource = ownBound ? 'timeout' : other;
    return this.strategy === 'aggressive'
      ? this.#aggressive(result, child, ctx, ms, start, source, own)
      : this.#cooperative(result, child, ctx, ms, start, source, own);
  }

  #aggressive<T>(
    work: PromiseLike<T>,
    child: CancellableContext,
    ctx: ExecutionContext,
    ms: number,
    start: number,
    source: TimeoutSource,
    own: number,
  ): Promise<T> {
    const ownBound = source === 'timeout';
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let unwatch: (() => void) | undefined;
      const timer = child.deadline.clock;
      const timerStart = timer === this.clock ? start : timer.now();
      const cancel = timer.setTimer(ms, () => {
        if (settled) return;
        settled = true;
        if (unwatch !== undefined) unwatch();
        if (ctx.aborted) {
          this.#release(child, ownBound);
          reject(ctx.abortReason);
          return;
        }
        const error = this.#timeoutError(ms, ownBound, source, own);
        child.abort(error);
        this.#expired(ms, timer.now() - timerStart, ownBound, ctx, error);
        reject(error);
      });
      // The caller (or an enclosing policy) giving up is not a timeout: reject at once with its
      // reason, no onTimeout. Nothing is registered when the context can never abort.
      unwatch = ctx.onAbort(() => {
        if (settled) return;
        settled = true;
        cancel();
        if (unwatch !== undefined) unwatch();
        child.abort(ctx.abortReason);
        this.#release(child, ownBound);
        reject(ctx.abortReason);
      });
      // Both handlers are attached even after we give up: the abandoned execution's late
      // rejection is handled here, never reported as unhandled.
      work.then(
        (value) => {
          if (settled) return;
          settled = true;
          cancel();
          if (unwatch !== undefined) unwatch();
          this.#release(child, ownBound);
          if (this.#adaptive !== undefined && !this.#learn(value, start, ctx, reject)) return;
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          cancel();
          if (unwatch !== undefined) unwatch();
          this.#release(child, ownBound);
          reject(ctx.aborted ? ctx.abortReason : error);
        },
      );
    });
  }

  #cooperative<T>(
    work: PromiseLike<T>,
    child: CancellableContext,
    ctx: ExecutionContext,
    ms: number,
    start: number,
    source: TimeoutSource,
    own: number,
  ): Promise<T> {
    const ownBound = source === 'timeout';
    return new Promise<T>((resolve, reject) => {
      let timedOut: TimeoutError | undefined;
      const timer = child.deadline.clock;
      const timerStart = timer === this.clock ? start : timer.now();
      const cancel = timer.setTimer(ms, () => {
        // After a caller's abort the function is winding down for another reason: not a timeout.
        if (ctx.aborted) return;
        const error = this.#timeoutError(ms, ownBound, source, own);
        timedOut = error;
        child.abort(error);
        this.#expired(ms, timer.now() - timerStart, ownBound, ctx, error);
      });
      work.then(
        (value) => {
          cancel();
          this.#release(child, ownBound);
          // A value that arrives after the timeout is still the right answer (cooperative).
          if (
            timedOut === undefined &&
            this.#adaptive !== undefined &&
            !this.#learn(value, start, ctx, reject)
          ) {
            return;
          }
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          this.#release(child, ownBound);
          if (timedOut !== undefined) reject(timedOut);
          else reject(ctx.aborted ? ctx.abortReason : error);
        },
      );
    });
  }

  /**
   * The call is over: unlink the child from its parent and, when the deadline is this policy's
   * own, clear the timer behind its `signal()` if the function asked for one (nobody else can).
   */
  #release(child: CancellableContext, ownBound: boolean): void {
    child.dispose();
    if (ownBound) child.deadline.dispose();
  }

  /**
   * Lets the adaptive timeout learn from a resolved attempt (only from results its `shouldHandle`
   * does not call failures). Returns `false` after rejecting with the classifier's error.
   */
  #learn(
    value: unknown,
    start: number,
    ctx: ExecutionContext,
    reject: (e: unknown) => void,
  ): boolean {
    try {
      this.#adaptive!.observeResult(value, this.clock.now() - start, ctx);
      return true;
    } catch (error) {
      reject(error);
      return false;
    }
  }

  /** The rejection (failure path only): names the deadline that fired when it is not ours. */
  #timeoutError(ms: number, ownBound: boolean, other: TimeoutSource, own: number): TimeoutError {
    return ownBound ? new TimeoutError(ms) : new TimeoutError(ms, { source: other, own });
  }

  #expired(
    ms: number,
    elapsed: number,
    ownBound: boolean,
    ctx: ExecutionContext,
    error: TimeoutError,
  ): void {
    // Censoring: a timed-out attempt only says "latency >= timeout" (see adaptiveTimeout).
    if (ownBound) this.#adaptive?.observeTimeout();
    if (this.#onTimeout.hasListeners) this.#onTimeout.emit({ timeout: ms, elapsed });
    if (telemetry.hasSubscribers) {
      // Which deadline fired (the error's source: timeout / deadline / ambient; bounded).
      const attributes = { source: error.source };
      publishEvent(this.#identity, ctx, 'timeout', this.clock.now(), error, attributes);
    }
  }

  describe(): PolicyDescription {
    return {
      name: 'timeout',
      options: {
        duration:
          this.#fixed ?? (this.#adaptive !== undefined ? this.#adaptive.describe() : 'dynamic'),
        strategy: this.strategy,
      },
    };
  }
}

/**
 * A timeout policy. `duration` is milliseconds, a function `(ctx) => ms` evaluated per call, or an
 * {@link AdaptiveTimeout} learned from observed latencies (`adaptiveTimeout({...})`).
 *
 * ```ts
 * const perAttempt = timeout(2_000);                      // aggressive by default
 * const res = await perAttempt.execute(({ signal }) => fetch(url, { signal }));
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function timeout(duration: TimeoutDuration, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(duration, options);
}
