import type { Clock } from '@faultline/clock';
import {
  type Backoff,
  type Context,
  drawRandom,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  identify,
  isExecutionRejected,
  type Listener,
  type Outcome,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishAttempt,
  publishEvent,
  type Random,
  rootContext,
  type ShouldHandle,
  type Task,
  telemetry,
} from '@faultline/core';
import { describeFunction, discardResult } from '@faultline/core/internal';
import { Delays } from './backoff.js';
import type { RetryBudget, RetryTicket } from './budgets/budget.js';
import { describeBudget } from './budgets/describe.js';
import { BudgetExhaustedError } from './retry-errors.js';
import type {
  RetryEvent,
  RetryGiveUpEvent,
  RetryGiveUpReason,
  RetrySuccessEvent,
} from './retry-events.js';
import {
  noRetryAfter,
  type RetryAfter,
  type RetryOptions,
  resolveRetryOptions,
} from './retry-options.js';
import { handleTransient } from './should-handle.js';

const OWNER = 'retry';
const KIND = 'retry';

function isFiniteDelay(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Number.POSITIVE_INFINITY;
}

/**
 * One call on the failure path (see `RetryPolicy.#retry`): its state between attempts, and the
 * call's settlement. It is a thenable: attempt 1's `then` callback returns it, and the promise
 * the caller holds adopts it by calling {@link then} with that promise's own resolving functions,
 * which the call then settles directly. A native promise in its place would be a second promise
 * per failed call, an executor closure and its resolving functions, and one more microtask turn
 * between the call's end and the caller's reaction (the adopting promise waits for a reaction to
 * the adopted one), a turn that every settle of the simulator pays for.
 */
class RetryCall<T> {
  readonly fn: Task<T>;
  readonly ctx: ExecutionContext;
  /** Set to `undefined` once ended by `succeed()`. */
  ticket: RetryTicket | undefined;
  /** The latest attempt's outcome. */
  outcome: Outcome<T>;
  attemptCtx: ExecutionContext;
  /** When the latest attempt started (telemetry only; NaN while nobody subscribes). */
  start: number;
  attempt = 1;
  /** The backoff's delays, created on the first retry. */
  delays: Iterator<number> | undefined = undefined;
  /** `delays` when it is a built-in sequence whose `next` is {@link Delays}'s own. */
  ownDelays: Delays | undefined = undefined;
  // Set by the policy right after construction (they call its private methods).
  onValue: (value: T) => void = noop;
  onError: (error: unknown) => void = noop;
  onWake: () => void = noop;
  /** 0 pending; 1 fulfilled, 2 rejected before {@link then} was called (`result` holds it). */
  #state = 0;
  #result: unknown = undefined;
  #resolve: ((value: T) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;

  constructor(
    fn: Task<T>,
    ctx: ExecutionContext,
    ticket: RetryTicket | undefined,
    outcome: Outcome<T>,
    attemptCtx: ExecutionContext,
    start: number,
  ) {
    this.fn = fn;
    this.ctx = ctx;
    this.ticket = ticket;
    this.outcome = outcome;
    this.attemptCtx = attemptCtx;
    this.start = start;
  }

  /** Called once, by the promise that adopts this call (or by `#retry`'s caller). */
  // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, adopted by the caller's promise
  then(resolve: (value: T) => void, reject: (error: unknown) => void): void {
    const state = this.#state;
    if (state === 0) {
      this.#resolve = resolve;
      this.#reject = reject;
      return;
    }
    const result = this.#result;
    this.#result = undefined;
    if (state === 1) resolve(result as T);
    else reject(result);
  }

  resolve(value: T): void {
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      resolve(value);
    } else if (this.#state === 0) {
      this.#state = 1;
      this.#result = value;
    }
  }

  reject(error: unknown): void {
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      reject(error);
    } else if (this.#state === 0) {
      this.#state = 2;
      this.#result = error;
    }
  }
}

function noop(): void {}

/** The retry policy; build it with {@link retry}. */
export class RetryPolicy extends PolicyBase {
  readonly maxAttempts: number;
  readonly #backoff: Backoff;
  readonly #classifier: OutcomeClassifier;
  readonly #shouldHandle: ShouldHandle;
  readonly #budget: RetryBudget | undefined;
  readonly #retryAfter: RetryAfter;
  /** Whether `retryAfter` is the default (never a pushback): #pushback need not call it. */
  readonly #noRetryAfter: boolean;
  /** No budget and a result-blind rule: attempt 1's success needs no per-call state. */
  readonly #plainSuccess: boolean;
  readonly #maxRetryAfter: number;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #onRetry = new EventChannel<RetryEvent>();
  readonly #onGiveUp = new EventChannel<RetryGiveUpEvent>();
  readonly #onSuccess = new EventChannel<RetrySuccessEvent>();
  readonly #identity: PolicyIdentity;

  /** Validates `options` (see {@link resolveRetryOptions}); {@link retry} is the same. */
  constructor(options?: RetryOptions) {
    super();
    const resolved = resolveRetryOptions(options);
    this.maxAttempts = resolved.maxAttempts;
    this.#backoff = resolved.backoff;
    this.#classifier = new OutcomeClassifier(resolved.shouldHandle);
    this.#shouldHandle = resolved.shouldHandle;
    this.#budget = resolved.budget;
    this.#retryAfter = resolved.retryAfter;
    this.#noRetryAfter = resolved.retryAfter === noRetryAfter;
    this.#plainSuccess = resolved.budget === undefined && !this.#classifier.classifiesResults;
    this.#maxRetryAfter = resolved.maxRetryAfter;
    this.#clock = resolved.clock;
    // A user's source is checked at every draw (so the error names this policy's option);
    // Math.random keeps its contract.
    const random = resolved.random;
    this.#random = random === Math.random ? random : () => drawRandom(random, OWNER);
    this.#identity = identify(OWNER, KIND, resolved.name);
  }

  /** The policy's name in telemetry (option `name`, default `'retry'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Before each retry's sleep. Returns an unsubscribe function. */
  onRetry(listener: Listener<RetryEvent>): () => void {
    return this.#onRetry.subscribe(listener);
  }

  /** When the policy stops retrying a handled failure (attempts, budget or deadline). */
  onGiveUp(listener: Listener<RetryGiveUpEvent>): () => void {
    return this.#onGiveUp.subscribe(listener);
  }

  /** When a call succeeds. */
  onSuccess(listener: Listener<RetrySuccessEvent>): () => void {
    return this.#onSuccess.subscribe(listener);
  }

  // The success path: no Outcome, no iterator, no async function; the received context is reused
  // when it already says attempt 1. Everything else happens in #retry, on the failure path only.
  //
  // Not `async`: attempt 1 is waited on with `then`, whose callback runs when the `await` it
  // replaces would resume, but which builds one promise instead of an async function's promise,
  // its suspended frame and the resume closures of its `await`, and a failed attempt arrives as a
  // value rather than an exception thrown into the function (after a failure the `then` promise
  // adopts the retried call, a thenable that then settles it directly: see RetryCall). A call
  // that needs nothing on success (no budget, no telemetry, a rule blind to results) shares one
  // success callback per policy, and its only allocation besides the `then` promise is the
  // rejection handler (#onFirstError).
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    try {
      const attemptCtx = ctx.attempt === 1 ? ctx : ctx.withAttempt(1);
      // Attempt durations are telemetry only: the clock is read while someone subscribes.
      if (!this.#plainSuccess || telemetry.hasSubscribers) {
        return this.#executeObserved(fn, ctx, attemptCtx);
      }
      let attempt: Promise<T>;
      try {
        // `Promise.resolve` then `then`: what `await` does (a native promise is used as it is, a
        // value or thenable is adopted).
        attempt = Promise.resolve(fn(attemptCtx));
      } catch (error) {
        return this.#retryNow(fn, ctx, undefined, error, attemptCtx, Number.NaN);
      }
      return attempt.then(
        this.#succeeded as (value: T) => T,
        this.#onFirstError(fn, ctx, attemptCtx),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Attempt 1's rejection handler on the plain path. Built here rather than in
   * `executeInContext`, so that the closure's context holds these three values only, and the
   * caller, which creates no closure of its own, allocates no context at all.
   */
  #onFirstError<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    attemptCtx: ExecutionContext,
  ): (error: unknown) => Promise<T> {
    // The returned call is a thenable, which the `then` promise adopts (see RetryCall).
    return (error) =>
      this.#retry(fn, ctx, undefined, { ok: false, error }, attemptCtx, Number.NaN) as never;
  }

  /** A synchronous throw of attempt 1: the call settles this promise (`then` runs at once). */
  #retryNow<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    ticket: RetryTicket | undefined,
    error: unknown,
    attemptCtx: ExecutionContext,
    start: number,
  ): Promise<T> {
    const call = this.#retry(fn, ctx, ticket, { ok: false, error }, attemptCtx, start);
    return new Promise<T>((resolve, reject) => call.then(resolve, reject));
  }

  /** Attempt 1 with a budget ticket, telemetry or a rule that classifies results. */
  #executeObserved<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    attemptCtx: ExecutionContext,
  ): Promise<T> {
    const ticket = this.#budget === undefined ? undefined : this.#budget.begin();
    // NaN: nobody subscribes to telemetry.
    const start = telemetry.hasSubscribers ? this.#clock.now() : Number.NaN;
    let attempt: Promise<T>;
    try {
      attempt = Promise.resolve(fn(attemptCtx));
    } catch (error) {
      return this.#retryNow(fn, ctx, ticket, error, attemptCtx, start);
    }
    const onError = (error: unknown): Promise<T> =>
      this.#retry(fn, ctx, ticket, { ok: false, error }, attemptCtx, start) as never;
    return attempt.then((value): T | Promise<T> => {
      // The default and core's result-blind rules (handleErrors, handleAll, …) never handle a
      // result, so the success path need not build an Outcome for them.
      if (this.#classifier.classifiesResults) {
        return this.#retry(fn, ctx, ticket, { ok: true, value }, attemptCtx, start) as never;
      }
      if (!Number.isNaN(start) && telemetry.hasSubscribers) {
        publishAttempt(this.#identity, ctx, 1, false, this.#clock.now() - start);
      }
      ticket?.succeed();
      if (this.#onSuccess.hasListeners) this.#onSuccess.emit({ attempts: 1 });
      return value;
    }, onError);
  }

  /** Attempt 1's success when there is no ticket to end and no attempt to publish. */
  readonly #succeeded = <T>(value: T): T => {
    if (this.#onSuccess.hasListeners) this.#onSuccess.emit({ attempts: 1 });
    return value;
  };

  /**
   * Classifies attempt 1's outcome and goes on with the retries (the failure path). The ticket is
   * ended exactly once: by `succeed()` on success, or by {@link #fail} for every other way out
   * (including a throwing `shouldHandle`, `retryAfter` or budget), so a concurrency budget never
   * leaks a call in flight.
   *
   * The loop is written with `then` callbacks on a {@link RetryCall} rather than `await`: the same
   * microtask turns (a callback runs when an `await` would resume), but a failed attempt reaches
   * the classifier as a value instead of an exception thrown into an async function (V8 builds a
   * message for every such throw, ~150 ns), and the two waits per retry (attempt, sleep) build no
   * resume closures. It is the path a retry storm takes: 1.4 million times in the simulator's
   * contention sweep. Returns the call, a thenable that the caller's promise adopts.
   */
  #retry<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    ticket: RetryTicket | undefined,
    outcome: Outcome<T>,
    attemptCtx: ExecutionContext,
    start: number,
  ): RetryCall<T> {
    const call = new RetryCall(fn, ctx, ticket, outcome, attemptCtx, start);
    call.onValue = (value) => {
      call.outcome = { ok: true, value };
      this.#advance(call);
    };
    call.onError = (error) => {
      call.outcome = { ok: false, error };
      this.#advance(call);
    };
    call.onWake = () => this.#wake(call);
    this.#advance(call);
    return call;
  }

  /** Classifies the call's latest outcome, then settles the call or starts the sleep. */
  #advance<T>(call: RetryCall<T>): void {
    try {
      const { ctx, outcome, attemptCtx, attempt } = call;
      // The caller's abort (or an enclosing policy's) is never retried and never a success.
      const verdict = this.#classifier.classify(outcome, attemptCtx);
      if (!Number.isNaN(call.start) && telemetry.hasSubscribers) {
        const handled = verdict === 'handled';
        const error = outcome.ok ? undefined : outcome.error;
        publishAttempt(
          this.#identity,
          ctx,
          attempt,
          handled,
          this.#clock.now() - call.start,
          error,
        );
      }
      if (verdict === 'aborted') {
        if (outcome.ok) discardResult(outcome.value);
        throw outcome.ok ? ctx.abortReason : outcome.error;
      }
      if (verdict === 'unhandled') {
        if (!outcome.ok) throw outcome.error;
        call.ticket?.succeed();
        call.ticket = undefined;
        if (this.#onSuccess.hasListeners) this.#onSuccess.emit({ attempts: attempt });
        call.resolve(outcome.value);
        return;
      }
      if (attempt >= this.maxAttempts) {
        call.resolve(this.#giveUp('attempts', attempt, outcome, call.ticket, ctx));
        return;
      }
      // The iterator is created on the first failure only, and advanced once per retry so that
      // its n-th value stays the delay before retry n even when a pushback replaced some.
      let delays = call.delays;
      if (delays === undefined) {
        delays = this.#backoff.delays(this.#random);
        call.delays = delays;
        if (delays instanceof Delays && delays.next === Delays.prototype.next) {
          call.ownDelays = delays;
        }
      }
      // A built-in sequence never ends: its `next()` is `{ value: nextDelay(), done: false }`.
      let backoffDelay: unknown;
      let ended = false;
      if (call.ownDelays !== undefined) {
        backoffDelay = call.ownDelays.nextDelay();
      } else {
        const step = delays.next();
        backoffDelay = step.value;
        ended = step.done === true;
      }
      // A custom Backoff that ends, or yields something that is not a finite delay, ends
      // retrying.
      if (ended || !isFiniteDelay(backoffDelay)) {
        call.resolve(this.#giveUp('attempts', attempt, outcome, call.ticket, ctx));
        return;
      }
      const ms = this.#pushback(outcome, attemptCtx) ?? backoffDelay;
      // Only an uncapped pushback (maxRetryAfter: Infinity) can be infinite: "come back never"
      // ends retrying like a backoff that ends, rather than as a timer that never fires.
      if (ms === Number.POSITIVE_INFINITY) {
        call.resolve(this.#giveUp('attempts', attempt, outcome, call.ticket, ctx));
        return;
      }
      // Never start a sleep that would end at or after the deadline: the attempt after it could
      // not finish, and giving up now leaves the caller the remaining time for a fallback.
      const remaining = ctx.deadline.remaining();
      if (remaining !== Number.POSITIVE_INFINITY && ms >= remaining) {
        call.resolve(this.#giveUp('deadline', attempt, outcome, call.ticket, ctx));
        return;
      }
      if (call.ticket !== undefined && !call.ticket.tryRetry(outcome)) {
        call.resolve(this.#giveUp('budget', attempt, outcome, call.ticket, ctx));
        return;
      }
      if (this.#onRetry.hasListeners) this.#onRetry.emit({ attempt, delay: ms, outcome });
      if (telemetry.hasSubscribers) {
        const error = outcome.ok ? undefined : outcome.error;
        const attributes = { attempt, delay: ms };
        publishEvent(this.#identity, ctx, 'retry', this.#clock.now(), error, attributes);
      }
      // Aborted during the sleep: it ends at once with the caller's reason (#wakeFailed), and
      // no further attempt starts. Either way the handled result is dropped (after the sleep, so
      // that onRetry listeners could still read it).
      try {
        this.#sleep(ms, call);
      } catch (error) {
        if (outcome.ok) discardResult(outcome.value);
        throw error;
      }
    } catch (error) {
      this.#fail(call, error);
    }
  }

  /** After the sleep: the next attempt, unless the caller aborted meanwhile. */
  #wake<T>(call: RetryCall<T>): void {
    const { ctx, fn } = call;
    let attemptCtx: ExecutionContext;
    try {
      if (call.outcome.ok) discardResult(call.outcome.value);
      if (ctx.aborted) throw ctx.abortReason;
      call.attempt++;
      attemptCtx = ctx.withAttempt(call.attempt);
      call.attemptCtx = attemptCtx;
      call.start = telemetry.hasSubscribers ? this.#clock.now() : Number.NaN;
    } catch (error) {
      this.#fail(call, error);
      return;
    }
    let result: T | PromiseLike<T>;
    try {
      result = fn(attemptCtx);
    } catch (error) {
      // A synchronous throw is classified at once, as `await fn()` inside try/catch would.
      call.outcome = { ok: false, error };
      this.#advance(call);
      return;
    }
    // `Promise.resolve` then `then`: what `await` does (a native promise is used as it is, a
    // value or thenable is adopted), with the same microtask turns.
    try {
      Promise.resolve(result).then(call.onValue, call.onError);
    } catch (error) {
      call.outcome = { ok: false, error };
      this.#advance(call);
    }
  }

  /** The caller aborted during the sleep: the call ends with `reason`, the handled result dropped. */
  #wakeFailed<T>(call: RetryCall<T>, reason: unknown): void {
    try {
      if (call.outcome.ok) discardResult(call.outcome.value);
    } catch (error) {
      this.#fail(call, error);
      return;
    }
    this.#fail(call, reason);
  }

  /** Rejects the call, ending its ticket as failed (its own error replaces `error` if it throws). */
  #fail<T>(call: RetryCall<T>, error: unknown): void {
    try {
      call.ticket?.fail();
    } catch (failure) {
      call.reject(failure);
      return;
    }
    call.reject(error);
  }

  /**
   * Sleeps `ms` on the clock, then calls `call.onWake`; or {@link #wakeFailed} with the abort
   * reason at once if `call.ctx` aborts first. A timer rather than `clock.sleep`: the timer calls
   * the next attempt itself, with no promise to build and no microtask turn to wait for after
   * it fires. The context is watched with `onAbort`, which, unlike reading `ctx.signal`, creates
   * no AbortController; a context that can never abort gets a plain timer. A clock may call the
   * timer back inside `setTimer` (the simulator's does): nothing here runs after it.
   */
  #sleep<T>(ms: number, call: RetryCall<T>): void {
    const ctx = call.ctx;
    if (ctx.aborted) {
      this.#wakeFailed(call, ctx.abortReason);
      return;
    }
    // The shared root context (a call without a signal) never aborts: no listener to build.
    if (ctx === rootContext) {
      this.#clock.setTimer(ms, call.onWake);
      return;
    }
    let cancel: (() => void) | undefined;
    let done = false;
    // Not aborted yet, so the listener cannot run before the timer below is set.
    const unsubscribe = ctx.onAbort(() => {
      if (done) return;
      done = true;
      if (cancel !== undefined) cancel();
      this.#wakeFailed(call, ctx.abortReason);
    });
    if (unsubscribe === undefined) {
      this.#clock.setTimer(ms, call.onWake);
      return;
    }
    try {
      cancel = this.#clock.setTimer(ms, () => {
        if (done) return;
        done = true;
        unsubscribe();
        this.#wake(call);
      });
    } catch (error) {
      done = true;
      unsubscribe();
      throw error;
    }
  }

  #pushback(outcome: Outcome<unknown>, attemptCtx: Context): number | undefined {
    // The default never pushes back: only a policy's own rejection may (the common case is a
    // plain error, decided by one instanceof).
    let ms = this.#noRetryAfter ? undefined : this.#retryAfter(outcome, attemptCtx);
    // A policy's own rejection may say when to come back (an open circuit's remaining break).
    if (ms === undefined && !outcome.ok && isExecutionRejected(outcome.error)) {
      ms = outcome.error.retryAfter;
    }
    // Pushback comes from the network: a malformed value is ignored, not trusted.
    if (typeof ms !== 'number' || !(ms >= 0)) return undefined;
    return ms < this.#maxRetryAfter ? ms : this.#maxRetryAfter;
  }

  #giveUp<T>(
    reason: RetryGiveUpReason,
    attempts: number,
    outcome: Outcome<T>,
    ticket: RetryTicket | undefined,
    ctx: ExecutionContext,
  ): T {
    // An error outcome is rethrown below and #retry's catch ends the ticket; a result ends it here.
    if (outcome.ok) ticket?.fail();
    if (telemetry.hasSubscribers) {
      const now = this.#clock.now();
      const error = outcome.ok ? undefined : outcome.error;
      // The budget's own event first: alerts on it tell a retry storm averted from a flaky call.
      if (reason === 'budget') publishEvent(this.#identity, ctx, 'budget-exhausted', now, error);
      publishEvent(this.#identity, ctx, 'give-up', now, error, { reason, attempts });
    }
    if (this.#onGiveUp.hasListeners) {
      const event: RetryGiveUpEvent =
        reason === 'budget'
          ? {
              attempts,
              reason,
              outcome,
              rejection: new BudgetExhaustedError(
                `retry budget denied retry ${attempts} (attempt ${attempts + 1} of at most ${this.maxAttempts})`,
                outcome.ok ? undefined : outcome.error,
              ),
            }
          : { attempts, reason, outcome };
      this.#onGiveUp.emit(event);
    }
    // The last error passes through unchanged; a handled last *result* (a 503 Response) is
    // returned, so the caller can still read it.
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        maxAttempts: this.maxAttempts,
        maxRetryAfter: this.#maxRetryAfter,
        shouldHandle: describeFunction(this.#shouldHandle, { handleTransient }),
        budget: this.#budget === undefined ? undefined : describeBudget(this.#budget),
      },
    };
  }
}

/**
 * Retries a call on transient failures with backoff, pushback, a shared budget and respect for
 * the caller's deadline and abort. `maxAttempts` counts all attempts, the first included.
 */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
