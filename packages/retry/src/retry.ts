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
import type { RetryBudget, RetryTicket } from './budgets/budget.js';
import { describeBudget } from './budgets/describe.js';
import { BudgetExhaustedError } from './retry-errors.js';
import type {
  RetryEvent,
  RetryGiveUpEvent,
  RetryGiveUpReason,
  RetrySuccessEvent,
} from './retry-events.js';
import { type RetryAfter, type RetryOptions, resolveRetryOptions } from './retry-options.js';
import { handleTransient } from './should-handle.js';

const OWNER = 'retry';
const KIND = 'retry';

function isFiniteDelay(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Number.POSITIVE_INFINITY;
}

/** The retry policy; build it with {@link retry}. */
export class RetryPolicy extends PolicyBase {
  readonly maxAttempts: number;
  readonly #backoff: Backoff;
  readonly #classifier: OutcomeClassifier;
  readonly #shouldHandle: ShouldHandle;
  readonly #budget: RetryBudget | undefined;
  readonly #retryAfter: RetryAfter;
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

  // The success path: no closure, no Outcome, no iterator; the received context is reused when it
  // already says attempt 1. Everything else happens in #retry, on the failure path only.
  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const attemptCtx = ctx.attempt === 1 ? ctx : ctx.withAttempt(1);
    const ticket = this.#budget === undefined ? undefined : this.#budget.begin();
    // Attempt durations are telemetry only: the clock is read while someone subscribes (NaN: not).
    const start = telemetry.hasSubscribers ? this.#clock.now() : Number.NaN;
    let value: T;
    try {
      value = await fn(attemptCtx);
    } catch (error) {
      return this.#retry(fn, ctx, ticket, { ok: false, error }, attemptCtx, start);
    }
    // The default and core's result-blind rules (handleErrors, handleAll, …) never handle a
    // result, so the success path need not build an Outcome for them.
    if (this.#classifier.classifiesResults) {
      return this.#retry(fn, ctx, ticket, { ok: true, value }, attemptCtx, start);
    }
    if (!Number.isNaN(start) && telemetry.hasSubscribers) {
      publishAttempt(this.#identity, ctx, 1, false, this.#clock.now() - start);
    }
    ticket?.succeed();
    if (this.#onSuccess.hasListeners) this.#onSuccess.emit({ attempts: 1 });
    return value;
  }

  /**
   * Classifies attempt 1's outcome and loops over retries. The ticket is ended exactly once: by
   * `succeed()` on success, or by the `catch` below for every other way out (including a throwing
   * `shouldHandle`, `retryAfter` or budget), so a concurrency budget never leaks a call in flight.
   */
  async #retry<T>(
    fn: Task<T>,
    ctx: ExecutionContext,
    ticket: RetryTicket | undefined,
    outcome: Outcome<T>,
    attemptCtx: ExecutionContext,
    start: number,
  ): Promise<T> {
    let attempt = 1;
    try {
      let delays: Iterator<number> | undefined;
      for (;;) {
        // The caller's abort (or an enclosing policy's) is never retried and never a success.
        const verdict = this.#classifier.classify(outcome, attemptCtx);
        if (!Number.isNaN(start) && telemetry.hasSubscribers) {
          const handled = verdict === 'handled';
          const error = outcome.ok ? undefined : outcome.error;
          publishAttempt(this.#identity, ctx, attempt, handled, this.#clock.now() - start, error);
        }
        if (verdict === 'aborted') {
          if (outcome.ok) discardResult(outcome.value);
          throw outcome.ok ? ctx.abortReason : outcome.error;
        }
        if (verdict === 'unhandled') {
          if (!outcome.ok) throw outcome.error;
          ticket?.succeed();
          ticket = undefined;
          if (this.#onSuccess.hasListeners) this.#onSuccess.emit({ attempts: attempt });
          return outcome.value;
        }
        if (attempt >= this.maxAttempts) {
          return this.#giveUp('attempts', attempt, outcome, ticket, ctx);
        }
        // The iterator is created on the first failure only, and advanced once per retry so that
        // its n-th value stays the delay before retry n even when a pushback replaced some.
        delays ??= this.#backoff.delays(this.#random);
        const step = delays.next();
        const backoffDelay: unknown = step.value;
        // A custom Backoff that ends, or yields something that is not a finite delay, ends
        // retrying.
        if (step.done === true || !isFiniteDelay(backoffDelay)) {
          return this.#giveUp('attempts', attempt, outcome, ticket, ctx);
        }
        const ms = this.#pushback(outcome, attemptCtx) ?? backoffDelay;
        // Only an uncapped pushback (maxRetryAfter: Infinity) can be infinite: "come back never"
        // ends retrying like a backoff that ends, rather than as a timer that never fires.
        if (ms === Number.POSITIVE_INFINITY) {
          return this.#giveUp('attempts', attempt, outcome, ticket, ctx);
        }
        // Never start a sleep that would end at or after the deadline: the attempt after it could
        // not finish, and giving up now leaves the caller the remaining time for a fallback.
        const remaining = ctx.deadline.remaining();
        if (remaining !== Number.POSITIVE_INFINITY && ms >= remaining) {
          return this.#giveUp('deadline', attempt, outcome, ticket, ctx);
        }
        if (ticket !== undefined && !ticket.tryRetry(outcome)) {
          return this.#giveUp('budget', attempt, outcome, ticket, ctx);
        }
        if (this.#onRetry.hasListeners) this.#onRetry.emit({ attempt, delay: ms, outcome });
        if (telemetry.hasSubscribers) {
          const error = outcome.ok ? undefined : outcome.error;
          const attributes = { attempt, delay: ms };
          publishEvent(this.#identity, ctx, 'retry', this.#clock.now(), error, attributes);
        }
        // Aborted during the sleep: it rejects at once with the caller's reason (rethrown below),
        // and no further attempt starts. Either way the handled result is dropped (after the
        // sleep, so that onRetry listeners could still read it).
        try {
          await this.#sleep(ms, ctx);
        } finally {
          if (outcome.ok) discardResult(outcome.value);
        }
        if (ctx.aborted) throw ctx.abortReason;
        attempt++;
        attemptCtx = ctx.withAttempt(attempt);
        start = telemetry.hasSubscribers ? this.#clock.now() : Number.NaN;
        try {
          outcome = { ok: true, value: await fn(attemptCtx) };
        } catch (error) {
          outcome = { ok: false, error };
        }
      }
    } catch (error) {
      ticket?.fail();
      throw error;
    }
  }

  /**
   * Sleeps `ms` on the clock, rejecting at once with the abort reason if `ctx` aborts first. The
   * context is watched with `onAbort`, which, unlike reading `ctx.signal` inside a timeout,
   * creates no AbortController; a context that can never abort gets a plain `clock.sleep`.
   */
  #sleep(ms: number, ctx: ExecutionContext): Promise<void> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    // The shared root context (a call without a signal) never aborts: no listener to build.
    if (ctx === rootContext) return this.#clock.sleep(ms);
    let cancel: (() => void) | undefined;
    let fail: ((reason: unknown) => void) | undefined;
    // Not aborted yet, so the listener cannot run before the promise below is set up.
    const unsubscribe = ctx.onAbort(() => {
      if (cancel !== undefined) cancel();
      if (fail !== undefined) fail(ctx.abortReason);
    });
    if (unsubscribe === undefined) return this.#clock.sleep(ms);
    return new Promise<void>((resolve, reject) => {
      fail = reject;
      cancel = this.#clock.setTimer(ms, () => {
        unsubscribe();
        resolve();
      });
    });
  }

  #pushback(outcome: Outcome<unknown>, attemptCtx: Context): number | undefined {
    let ms = this.#retryAfter(outcome, attemptCtx);
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
