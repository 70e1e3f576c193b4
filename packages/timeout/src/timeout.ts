import { type Clock, Deadline } from '@faultline/clock';
import {
  type CancellableContext,
  type Context,
  checkNumber,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  identify,
  type Listener,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  rootContext,
  type Task,
  telemetry,
} from '@faultline/core';
import { isThenable, type TimerEntry, TimerQueue } from '@faultline/core/internal';
import { AdaptiveTimeout } from './adaptive-timeout.js';
import { ambientDeadline, hasAmbientDeadlineProvider } from './ambient.js';
import { TimeoutError, type TimeoutSource } from './timeout-errors.js';
import type { TimeoutEvent } from './timeout-events.js';
import {
  resolveTimeoutOptions,
  type TimeoutDuration,
  type TimeoutOptions,
  type TimeoutStrategy,
} from './timeout-options.js';

const OWNER = 'timeout';
const KIND = 'timeout';

/**
 * The `timeout` policy. Build it with {@link timeout}.
 *
 * The effective timeout of a call is `min(duration, ctx.deadline.remaining())` (including an
 * ambient deadline when `@faultline/timeout/node` is loaded), and the function sees
 * `ctx.deadline` = the earliest of both, so nested timeouts and downstream services inherit the
 * tightest budget.
 *
 * Both strategies run the same code (a {@link TimeoutCall} per call); they differ only in what
 * the expiry does to the returned promise. The calls' timers share one platform timer per policy
 * (a {@link TimerQueue}): the success path sets and clears no platform timer of its own.
 */
export class TimeoutPolicy extends PolicyBase {
  /** See {@link TimeoutStrategy}. */
  readonly strategy: TimeoutStrategy;
  readonly clock: Clock;
  /** `true` for `'aggressive'`. */
  readonly #aggressive: boolean;
  readonly #fixed: number | undefined;
  readonly #dynamic: ((ctx: Context) => number) | undefined;
  readonly #adaptive: AdaptiveTimeout | undefined;
  readonly #onTimeout = new EventChannel<TimeoutEvent>();
  readonly #identity: PolicyIdentity;
  /** What the calls of this policy share (built once). */
  readonly #shared: Shared;

  /** Validates `duration` and `options` (see {@link resolveTimeoutOptions}); {@link timeout} is the same. */
  constructor(duration: TimeoutDuration, options?: TimeoutOptions) {
    super();
    const resolved = resolveTimeoutOptions(duration, options);
    if (typeof duration === 'number') this.#fixed = duration;
    else if (duration instanceof AdaptiveTimeout) this.#adaptive = duration;
    else this.#dynamic = duration;
    this.strategy = resolved.strategy;
    this.#aggressive = resolved.strategy === 'aggressive';
    this.clock = resolved.clock;
    this.#identity = identify(OWNER, KIND, resolved.name);
    this.#shared = {
      aggressive: this.#aggressive,
      adaptive: this.#adaptive,
      clock: resolved.clock,
      timers: new TimerQueue(resolved.clock),
      timeoutError: (ms, source, own) => this.#timeoutError(ms, source, own),
      expired: (ms, elapsed, ctx, error) => this.#expired(ms, elapsed, ctx, error),
    };
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
    const source: TimeoutSource = ownBound ? 'timeout' : other;
    if (ms <= 0) {
      // The budget is already spent: calling the function would only waste the callee's work.
      const error = this.#timeoutError(0, source, own);
      this.#expired(0, 0, ctx, error);
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
      release(child, ownBound);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      release(child, ownBound);
      if (this.#adaptive !== undefined) {
        try {
          this.#adaptive.observeResult(result, this.clock.now() - start, ctx);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return Promise.resolve(result);
    }
    const shared = this.#shared;
    const call = new TimeoutCall<T>(shared, child, ctx, ms, start, source, own);
    const timer = child.deadline.clock;
    if (
      timer !== this.clock ||
      !shared.timers.tryAdd(call as TimeoutCall<unknown>, start + ms, start)
    ) {
      // Another clock's deadline, or one due before the queue's last entry: a timer of its own.
      call.timerStart = timer === this.clock ? start : timer.now();
      call.cancel = timer.setTimer(ms, () => call.expire(timer.now()));
    }
    if (!shared.aggressive) {
      // Cooperative: the call settles when the function does, so its promise is the function's,
      // followed (Promise.resolve returns a native one as is). The expiry only aborts its signal.
      return Promise.resolve(
        result.then(
          (value) => call.succeeded(value),
          (error: unknown) => call.failed(error),
        ),
      );
    }
    // Aggressive: a promise of its own, which the expiry or the caller's abort may settle first.
    const promise = new Promise<T>(capture);
    call.resolve = captured.resolve as (value: T) => void;
    call.reject = captured.reject;
    // The caller (or an enclosing policy) giving up is not a timeout: reject at once with its
    // reason, no onTimeout. Nothing is registered when the context can never abort.
    if (ctx !== rootContext) call.unwatch = ctx.onAbort(() => call.callerAborted());
    // Both handlers stay attached after the call gave up: the abandoned execution's late
    // rejection is handled here, never reported as unhandled.
    result.then(
      (value) => call.resolveWith(value),
      (error: unknown) => call.rejectWith(error),
    );
    return promise;
  }

  /** The rejection (failure path only): names the deadline that fired when it is not ours. */
  #timeoutError(ms: number, source: TimeoutSource, own: number): TimeoutError {
    return source === 'timeout' ? new TimeoutError(ms) : new TimeoutError(ms, { source, own });
  }

  #expired(ms: number, elapsed: number, ctx: ExecutionContext, error: TimeoutError): void {
    // Censoring: a timed-out attempt only says "latency >= timeout" (see adaptiveTimeout).
    if (error.source === 'timeout') this.#adaptive?.observeTimeout();
    if (this.#onTimeout.hasListeners) this.#onTimeout.emit({ timeout: ms, elapsed });
    if (telemetry.hasSubscribers) {
      // Which deadline fired (the error's source: timeout / deadline / ambient; bounded).
      const attributes = { source: error.source };
      publishEvent(this.#identity, ctx, 'timeout', this.clock.now(), error, attributes);
    }
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        duration:
          this.#fixed ?? (this.#adaptive !== undefined ? this.#adaptive.describe() : 'custom'),
        strategy: this.strategy,
      },
    };
  }
}

/** What the calls of one {@link TimeoutPolicy} share, built once with the policy. */
interface Shared {
  readonly aggressive: boolean;
  readonly adaptive: AdaptiveTimeout | undefined;
  readonly clock: Clock;
  readonly timers: TimerQueue<TimeoutCall<unknown>>;
  timeoutError(ms: number, source: TimeoutSource, own: number): TimeoutError;
  expired(ms: number, elapsed: number, ctx: ExecutionContext, error: TimeoutError): void;
}

const PENDING = 0;
/** Cooperative only: the timer fired, the function has not settled yet. */
const TIMED_OUT = 1;
const SETTLED = 2;

/**
 * One call in flight: an entry of the policy's {@link TimerQueue} (or the owner of a timer of its
 * own), settled by whichever comes first of the function, the timer and (aggressive) the caller's
 * abort. One object per call holds what the closures of a `new Promise` race would capture.
 */
class TimeoutCall<T> implements TimerEntry {
  prev: this | undefined = undefined;
  next: this | undefined = undefined;
  due = 0;
  resolve: (value: T) => void = settleNothing;
  reject: (reason: unknown) => void = settleNothing;
  /** The timer of its own, when the queue could not take it. */
  cancel: (() => void) | undefined = undefined;
  /** The time the timer of its own started, on its clock. */
  timerStart: number;
  unwatch: (() => void) | undefined = undefined;
  #state = PENDING;
  #timedOut: TimeoutError | undefined = undefined;
  readonly #shared: Shared;
  readonly #child: CancellableContext;
  readonly #ctx: ExecutionContext;
  readonly #ms: number;
  readonly #start: number;
  readonly #source: TimeoutSource;
  readonly #own: number;

  constructor(
    shared: Shared,
    child: CancellableContext,
    ctx: ExecutionContext,
    ms: number,
    start: number,
    source: TimeoutSource,
    own: number,
  ) {
    this.#shared = shared;
    this.#child = child;
    this.#ctx = ctx;
    this.#ms = ms;
    this.#start = start;
    this.timerStart = start;
    this.#source = source;
    this.#own = own;
  }

  /** The timer fired (`now` on the timer's clock). */
  expire(now: number): void {
    if (this.#state !== PENDING) return;
    this.cancel = undefined;
    const ctx = this.#ctx;
    const aggressive = this.#shared.aggressive;
    if (ctx.aborted) {
      // The caller's abort got here first (its listener has not run yet): not a timeout. An
      // aggressive timeout rejects with its reason; a cooperative one waits for the function.
      if (aggressive) {
        this.#state = SETTLED;
        this.#stopWatching();
        this.#release();
        this.reject(ctx.abortReason);
      }
      return;
    }
    const error = this.#shared.timeoutError(this.#ms, this.#source, this.#own);
    if (aggressive) {
      this.#state = SETTLED;
      this.#stopWatching();
    } else {
      this.#state = TIMED_OUT;
      this.#timedOut = error;
    }
    this.#child.abort(error);
    this.#shared.expired(this.#ms, now - this.timerStart, ctx, error);
    // Aggressive: the function is abandoned; its late outcome is handled, never reported.
    if (aggressive) this.reject(error);
  }

  /** The caller (or an enclosing policy) aborted: aggressive timeouts only. */
  callerAborted(): void {
    if (this.#state !== PENDING) return;
    this.#state = SETTLED;
    this.#stopTimer();
    this.#stopWatching();
    const reason = this.#ctx.abortReason;
    this.#child.abort(reason);
    this.#release();
    this.reject(reason);
  }

  /**
   * The function resolved: the value to resolve the call with. Throws an adaptive timeout's
   * classifier's error (the call then rejects with it and nothing is learned).
   */
  succeeded(value: T): T {
    const timedOut = this.#finish();
    // Cooperative: a value that arrives after the timeout is still the right answer, but says
    // nothing new about latency (the timeout was already observed).
    const adaptive = this.#shared.adaptive;
    if (adaptive !== undefined && timedOut === undefined) {
      adaptive.observeResult(value, this.#shared.clock.now() - this.#start, this.#ctx);
    }
    return value;
  }

  /** The function rejected: throws what the call rejects with. */
  failed(error: unknown): never {
    const timedOut = this.#finish();
    const ctx = this.#ctx;
    throw timedOut ?? (ctx.aborted ? ctx.abortReason : error);
  }

  /** Aggressive: settles the call with the function's value, unless it has already settled. */
  resolveWith(value: T): void {
    if (this.#state === SETTLED) return;
    let settled: T;
    try {
      settled = this.succeeded(value);
    } catch (error) {
      this.reject(error);
      return;
    }
    this.resolve(settled);
  }

  /** Aggressive: settles the call with the function's error, unless it has already settled. */
  rejectWith(error: unknown): void {
    if (this.#state === SETTLED) return;
    try {
      this.failed(error);
    } catch (reason) {
      this.reject(reason);
    }
  }

  /** The function settled: stops the timer and the watch, releases the child. */
  #finish(): TimeoutError | undefined {
    this.#state = SETTLED;
    this.#stopTimer();
    this.#stopWatching();
    this.#release();
    return this.#timedOut;
  }

  #stopTimer(): void {
    const cancel = this.cancel;
    if (cancel === undefined) {
      this.#shared.timers.remove(this as TimeoutCall<unknown>);
    } else {
      this.cancel = undefined;
      cancel();
    }
  }

  #stopWatching(): void {
    const unwatch = this.unwatch;
    if (unwatch !== undefined) {
      this.unwatch = undefined;
      unwatch();
    }
  }

  #release(): void {
    release(this.#child, this.#source === 'timeout');
  }
}

function settleNothing(): void {}

/** The resolving functions of the last `new Promise(capture)`: no executor closure per call. */
const captured: { resolve: (value: unknown) => void; reject: (reason: unknown) => void } = {
  resolve: settleNothing,
  reject: settleNothing,
};
function capture(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve as (value: unknown) => void;
  captured.reject = reject;
}

/**
 * The call is over: unlink the child from its parent and, when the deadline is the policy's own,
 * clear the timer behind its `signal()` if the function asked for one (nobody else can).
 */
function release(child: CancellableContext, ownBound: boolean): void {
  child.dispose();
  if (ownBound) child.deadline.dispose();
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
