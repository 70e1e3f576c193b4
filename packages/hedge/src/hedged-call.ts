import type { Clock, Deadline } from '@faultline/clock';
import { reportListenerError } from '@faultline/clock/internal';
import {
  CancellableContext,
  type Context,
  checkNumber,
  type EventChannel,
  type ExecutionContext,
  isExecutionRejected,
  type Outcome,
  type OutcomeClassifier,
  type PolicyIdentity,
  publishAttempt,
  publishEvent,
  type Task,
  telemetry,
} from '@faultline/core';
import {
  CHILD_ABORTED,
  CHILD_FREE_BIT,
  discardResult,
  isThenable,
  LazyChildContext,
} from '@faultline/core/internal';
import type { RetryAfter, RetryBudget, RetryTicket } from '@faultline/retry';
import type { HedgeSupersededError } from './hedge-errors.js';
import type {
  HedgeEvent,
  HedgeSkipEvent,
  HedgeSkipReason,
  HedgeTrigger,
  HedgeWinEvent,
} from './hedge-events.js';
import type { HedgeTimers, TimerEntry } from './hedge-timers.js';
import type { LearnedDelay } from './learned-delay.js';
import { turnTime } from './turn.js';

/** What every call of one hedge policy shares: its resolved options, timers and channels. */
export interface HedgeEngine {
  /** Attempts in all: 1 + maxHedgedAttempts. */
  readonly maxAttempts: number;
  /** Exactly one of these three is set. */
  readonly fixedDelay: number | undefined;
  readonly dynamicDelay: ((ctx: Context) => number) | undefined;
  readonly learned: LearnedDelay | undefined;
  /** Whether the delay is a fixed positive one or computed (attempt start times are read). */
  readonly timed: boolean;
  readonly classifier: OutcomeClassifier;
  readonly budget: RetryBudget | undefined;
  readonly retryAfter: RetryAfter | undefined;
  readonly clock: Clock;
  readonly timers: HedgeTimers;
  readonly identity: PolicyIdentity;
  readonly onHedge: EventChannel<HedgeEvent>;
  readonly onWin: EventChannel<HedgeWinEvent>;
  readonly onSkip: EventChannel<HedgeSkipEvent>;
  /** Builds a loser's abort reason (only on the hedged path). */
  superseded(winner: number): HedgeSupersededError;
}

/** One attempt's context: the call itself for attempt 1, a {@link HedgeAttempt} after. */
type Attempt = HedgedCall<unknown> | HedgeAttempt;

/**
 * Attempt 2, 3, … of a hedged call: a child of the call's context with its own abort (a loser is
 * cancelled alone) and its own attempt number. Like any `ctx.child()`, it creates an
 * AbortController only if the function reads `ctx.signal`.
 */
class HedgeAttempt extends CancellableContext {
  readonly #number: number;
  readonly call: HedgedCall<unknown>;
  /** Clock time the attempt started (0 when the call does not time its attempts). */
  start = 0;
  /** Whether the function's promise settled. */
  done = false;

  constructor(call: HedgedCall<unknown>, parent: ExecutionContext, deadline: Deadline, n: number) {
    super(parent, deadline);
    this.call = call;
    this.#number = n;
  }

  override get attempt(): number {
    return this.#number;
  }
}

/** Passed to a budget for a hedge that no failure asked for (the previous attempt is slow). */
const SLOW_OUTCOME: Outcome<unknown> = Object.freeze({ ok: false, error: undefined });

// Flags of a call, packed in one number (the success path allocates one object per call), after
// LazyChildContext's own (CHILD_ABORTED: attempt 1 was aborted, it lost or the call ended without
// it; CHILD_DISPOSED: attempt 1 is over, its context disposed).
const SETTLED = CHILD_FREE_BIT;
/** No further hedge for this call (budget, pushback). */
const STOPPED = CHILD_FREE_BIT << 1;
/** Attempt start times are read (latency mode, a learned delay, telemetry, onHedge listeners). */
const TIMED = CHILD_FREE_BIT << 2;
/**
 * Start times are read exactly (a learned delay and telemetry measure durations); otherwise the
 * event-loop turn's time serves, as precise as a timer (see coarse-time.ts).
 */
const EXACT = CHILD_FREE_BIT << 3;

/**
 * Waits for an attempt's function and reports its outcome to the call: `then` with two small
 * closures, the cheapest way to hear of a promise (an async function awaiting it allocates more).
 */
function watch(call: HedgedCall<unknown>, attempt: Attempt, result: unknown): void {
  const promise = isThenable(result) ? result : Promise.resolve(result);
  try {
    promise.then(
      (value) => call.settle(attempt, true, value),
      (error: unknown) => call.settle(attempt, false, error),
    );
  } catch (error) {
    // A foreign thenable whose then() throws: that is the attempt's outcome.
    Promise.resolve().then(() => call.settle(attempt, false, error));
  }
}

/**
 * What a hedged call needs only off the success path (an attempt's signal read, a hedge, a handled
 * outcome, a budget), created on first use: the success path builds one smaller object.
 */
class CallExtras {
  /** Attempt 1's cancellable context, `ctx.child()`, created when somebody needs it. */
  inner: CancellableContext | undefined = undefined;
  /** Attempt 1's own abort reason (it lost, or the call ended without it). */
  reason: unknown = undefined;
  /** Attempts 2 and up, created only when a hedge starts. */
  others: HedgeAttempt[] | undefined = undefined;
  /** The last handled outcome: the result when every attempt fails. */
  last: Outcome<unknown> | undefined = undefined;
  ticket: RetryTicket | undefined = undefined;
}

// HedgedCall.run builds its promise with one shared executor reading this (set just before
// `new Promise`, which runs the executor synchronously) instead of a closure per call.
let building: HedgedCall<unknown> | undefined;

/**
 * One hedged call, and the context of its first attempt (one object: the success path allocates
 * as little as it can). It starts attempts (on a timer, on a handled failure, or all at once),
 * settles on the first acceptable outcome, aborts the rest, and otherwise settles with the last
 * handled outcome once nothing is left to try. Driven by events (an attempt settling, its hedge
 * delay elapsing); it never waits for losers to notice their abort.
 */
class HedgedCall<T> extends LazyChildContext implements TimerEntry {
  // TimerEntry: the call is its own entry in the policy's timer heap.
  due = 0;
  seq = 0;
  index = -1;
  /** Clock time attempt 1 started (0 when the call does not time its attempts). */
  start = 0;
  /** Whether attempt 1's function settled. */
  done = false;
  readonly #engine: HedgeEngine;
  readonly #fn: Task<T>;
  #launched = 0;
  #running = 0;
  /**
   * What only the other paths need (see {@link CallExtras}). Attempt 1's cancellable context in it
   * is created only when somebody reads the signal, subscribes to the abort, or aborts attempt 1
   * after that: on the success path nobody does, and the call stays one small object.
   */
  #extras: CallExtras | undefined = undefined;
  #resolve: ((value: T) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;

  private constructor(engine: HedgeEngine, fn: Task<T>, ctx: ExecutionContext) {
    super();
    this.parent = ctx;
    this.flags =
      engine.learned !== undefined || telemetry.hasSubscribers
        ? TIMED | EXACT
        : engine.timed || engine.onHedge.hasListeners
          ? TIMED
          : 0;
    this.#engine = engine;
    this.#fn = fn;
  }

  #more(): CallExtras {
    let extras = this.#extras;
    if (extras === undefined) {
      extras = new CallExtras();
      this.#extras = extras;
    }
    return extras;
  }

  // Attempt 1's context: the caller's, with its own abort and attempt number 1. A lighter
  // CancellableContext (a LazyChildContext): the real one is created on demand, and kept with
  // the abort reason in #extras.

  get attempt(): number {
    return 1;
  }

  get deadline(): Deadline {
    return this.parent.deadline;
  }

  protected get ownReason(): unknown {
    return this.#extras!.reason;
  }

  protected get inner(): CancellableContext | undefined {
    return this.#extras?.inner;
  }

  protected set inner(inner: CancellableContext) {
    this.#more().inner = inner;
  }

  /** Aborts attempt 1 (not the caller) with `reason`. Idempotent. */
  abort(reason: unknown): void {
    if ((this.flags & CHILD_ABORTED) !== 0) return;
    this.flags |= CHILD_ABORTED;
    const extras = this.#more();
    extras.reason = reason;
    extras.inner?.abort(reason);
  }

  static #executor(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    const call = building!;
    call.#resolve = resolve;
    call.#reject = reject;
  }

  /** Runs `fn` hedged in `ctx` (not aborted). */
  static run<T>(engine: HedgeEngine, fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const call = new HedgedCall<T>(engine, fn, ctx);
    building = call as HedgedCall<unknown>;
    const promise = new Promise<T>(HedgedCall.#executor as (resolve: (value: T) => void) => void);
    building = undefined;
    try {
      const budget = engine.budget;
      if (budget !== undefined) call.#more().ticket = budget.begin();
      call.#launchFirst();
    } catch (error) {
      // A throwing budget or delay function: nothing ran yet, or what runs is cancelled.
      call.#finish(false, error);
    }
    return promise;
  }

  /** The attempt with number `n` (1-based), if started. */
  #attempt(n: number): Attempt {
    return n === 1 ? (this as HedgedCall<unknown>) : this.#extras!.others![n - 2]!;
  }

  /** The time an attempt starts. */
  #time(): number {
    const clock = this.#engine.clock;
    return (this.flags & EXACT) !== 0 ? clock.now() : turnTime(clock);
  }

  /** Starts attempt 1, then arranges for the next one. May throw (a delay function). */
  #launchFirst(): void {
    this.#launched = 1;
    this.#running = 1;
    const engine = this.#engine;
    const flags = this.flags;
    if ((flags & TIMED) !== 0) {
      const clock = engine.clock;
      this.start = (flags & EXACT) !== 0 ? clock.now() : turnTime(clock);
    }
    let result: unknown;
    try {
      result = this.#fn(this);
    } catch (error) {
      result = Promise.reject(error);
    }
    watch(this as HedgedCall<unknown>, this as HedgedCall<unknown>, result);
    // maxAttempts is at least 2.
    if ((this.flags & (SETTLED | STOPPED)) !== 0) return;
    // The usual case, latency mode with a fixed delay and time left, without #schedule's others.
    const delay = engine.fixedDelay;
    if (
      delay !== undefined &&
      delay > 0 &&
      delay < Number.POSITIVE_INFINITY &&
      this.parent.deadline.remaining() > delay
    ) {
      engine.timers.add(this, this.start + delay);
    } else this.#schedule(this as HedgedCall<unknown>);
  }

  /**
   * Starts attempt `n` > 1 (at clock time `now` when known), then arranges for the next one. May
   * throw (a delay function).
   */
  #launch(n: number, now?: number): void {
    const ctx = this.parent;
    const attempt = new HedgeAttempt(this as HedgedCall<unknown>, ctx, ctx.deadline, n);
    const extras = this.#more();
    if (extras.others === undefined) extras.others = [attempt];
    else extras.others.push(attempt);
    this.#launched = n;
    this.#running++;
    if ((this.flags & TIMED) !== 0) attempt.start = now ?? this.#time();
    let result: unknown;
    try {
      result = this.#fn(attempt);
    } catch (error) {
      result = Promise.reject(error);
    }
    watch(this as HedgedCall<unknown>, attempt, result);
    if (n < this.#engine.maxAttempts && (this.flags & (SETTLED | STOPPED)) === 0) {
      this.#schedule(attempt);
    }
  }

  /** Arranges for the attempt after `previous`: a timer, at once, or on its failure. */
  #schedule(previous: Attempt): void {
    const engine = this.#engine;
    let delay: number;
    if (engine.fixedDelay !== undefined) delay = engine.fixedDelay;
    else if (engine.learned !== undefined) delay = engine.learned.current();
    else {
      delay = engine.dynamicDelay!(previous);
      checkNumber('hedge', 'delay(ctx) result', delay, { allowInfinity: true });
    }
    if (delay === 0) {
      this.#hedge('parallel', SLOW_OUTCOME);
      return;
    }
    // Negative or infinite: fallback mode, the next attempt starts only on a handled failure.
    if (!(delay > 0 && delay < Number.POSITIVE_INFINITY)) return;
    // No hedge starts at or after the deadline: it could not finish in time.
    if (this.deadline.remaining() <= delay) {
      this.#skip(this.#launched + 1, 'deadline');
      return;
    }
    engine.timers.add(this, previous.start + delay);
  }

  /** The hedge delay elapsed at clock time `now` (called by the timer heap). */
  onDue(now: number): void {
    if ((this.flags & (SETTLED | STOPPED)) !== 0) return;
    try {
      this.#hedge('delay', SLOW_OUTCOME, now);
    } catch (error) {
      this.#finish(false, error);
    }
  }

  /** Sends the next attempt if it is allowed. May throw (a budget or delay function). */
  #hedge(trigger: HedgeTrigger, outcome: Outcome<unknown>, now?: number): void {
    const engine = this.#engine;
    const n = this.#launched + 1;
    if (n > engine.maxAttempts || this.parent.aborted) return;
    engine.timers.remove(this);
    if (this.deadline.expired()) {
      this.#skip(n, 'deadline');
      return;
    }
    const ticket = this.#extras?.ticket;
    if (ticket !== undefined && !ticket.tryRetry(outcome)) {
      this.flags |= STOPPED;
      this.#skip(n, 'budget');
      return;
    }
    const listening = engine.onHedge.hasListeners;
    if (listening || telemetry.hasSubscribers) {
      now ??= engine.clock.now();
      const delay = trigger === 'parallel' ? 0 : now - this.#attempt(n - 1).start;
      if (listening) engine.onHedge.emit({ attempt: n, delay, trigger });
      if (telemetry.hasSubscribers) {
        const attributes = { attempt: n, trigger };
        publishEvent(engine.identity, this.parent, 'hedge', now, undefined, attributes);
      }
    }
    this.#launch(n, now);
  }

  #skip(n: number, reason: HedgeSkipReason): void {
    const engine = this.#engine;
    if (engine.onSkip.hasListeners) engine.onSkip.emit({ attempt: n, reason });
    if (reason === 'budget' && telemetry.hasSubscribers) {
      const attributes = { attempt: n };
      publishEvent(
        engine.identity,
        this.parent,
        'budget-exhausted',
        engine.clock.now(),
        undefined,
        attributes,
      );
    }
  }

  /** An attempt's function settled. Never throws (a throw here would go unhandled). */
  settle(attempt: Attempt, ok: boolean, result: unknown): void {
    try {
      attempt.done = true;
      this.#running--;
      if ((this.flags & SETTLED) !== 0) {
        // A loser finishing after the winner, or anything after the caller left.
        if (ok) discardResult(result);
        return;
      }
      if (ok && !this.#engine.classifier.classifiesResults) this.#win(attempt, true, result);
      else this.#classify(attempt, ok, result);
    } catch (error) {
      // Every user error is handled within: this only keeps a bug from going unhandled.
      reportListenerError(error);
    }
  }

  /** An outcome the classifier must see (an error, or a result for a result-aware rule). */
  #classify(attempt: Attempt, ok: boolean, result: unknown): void {
    const outcome: Outcome<unknown> = ok
      ? { ok: true, value: result }
      : { ok: false, error: result };
    try {
      const verdict = this.#engine.classifier.classify(outcome, attempt);
      if (verdict === 'unhandled') this.#win(attempt, ok, result);
      else if (verdict === 'aborted') {
        // The caller (or an enclosing timeout) gave up: never handled, never a success.
        if (ok) discardResult(result);
        this.#finish(false, ok ? this.parent.abortReason : result);
      } else this.#handled(attempt, outcome);
    } catch (error) {
      // A throwing shouldHandle (or budget, or delay function) replaces the outcome.
      if (ok) discardResult(result);
      this.#finish(false, error);
    }
  }

  #handled(attempt: Attempt, outcome: Outcome<unknown>): void {
    if (telemetry.hasSubscribers) this.#publishAttempt(attempt, true, outcome, this.#time());
    const extras = this.#more();
    const previous = extras.last;
    extras.last = outcome;
    if (previous?.ok) discardResult(previous.value);
    const more = this.#launched < this.#engine.maxAttempts;
    if ((this.flags & STOPPED) === 0 && more && this.#pushback(outcome, attempt)) {
      // gRFC A6: pushback on a hedged attempt stops further hedges for the call.
      this.flags |= STOPPED;
      this.#engine.timers.remove(this);
      this.#skip(this.#launched + 1, 'pushback');
    }
    if ((this.flags & STOPPED) === 0 && more) this.#hedge('failure', outcome);
    if (this.#running === 0 && (this.flags & SETTLED) === 0) {
      // Nothing in flight and nothing more to send: the last to settle decides.
      const last = outcome;
      extras.last = undefined;
      if (last.ok) this.#finish(true, last.value);
      else this.#finish(false, last.error);
    }
  }

  #pushback(outcome: Outcome<unknown>, attempt: Attempt): boolean {
    const read = this.#engine.retryAfter;
    let ms = read === undefined ? undefined : read(outcome, attempt);
    if (ms === undefined && !outcome.ok && isExecutionRejected(outcome.error)) {
      ms = outcome.error.retryAfter;
    }
    // Pushback comes from the network: only a real non-negative number counts.
    return typeof ms === 'number' && ms >= 0;
  }

  /** `attempt`'s acceptable outcome settles the call; the others are cancelled. */
  #win(attempt: Attempt, ok: boolean, result: unknown): void {
    this.flags |= SETTLED;
    const engine = this.#engine;
    engine.timers.remove(this);
    const launched = this.#launched;
    // The success path (one attempt, nothing learned or published) only disposes its context.
    if (launched > 1 || engine.learned !== undefined || telemetry.hasSubscribers) {
      this.#settleAttempts(attempt, ok, result);
    } else this.dispose();
    if (this.#extras !== undefined) this.#release(ok);
    if (engine.onWin.hasListeners) {
      engine.onWin.emit({ attempt: attempt.attempt, attempts: launched });
    }
    if (ok) this.#resolve!(result as T);
    else this.#reject!(result);
  }

  /** The winner's bookkeeping and the losers' cancellation (hedged or measured calls only). */
  #settleAttempts(winner: Attempt, ok: boolean, result: unknown): void {
    const engine = this.#engine;
    const now = (this.flags & TIMED) !== 0 ? this.#time() : 0;
    const learned = engine.learned;
    const publishing = telemetry.hasSubscribers;
    // A learned delay learns first attempts only: the delay is about how long a first attempt
    // stays unanswered. A hedge's own latency is cut short when the first attempt wins, and
    // learning it would pull the quantile (and so the delay) down, sending more hedges.
    if (ok && learned !== undefined && winner === this) learned.observe(now - winner.start);
    if (publishing) {
      this.#publishAttempt(winner, false, ok ? undefined : { ok: false, error: result }, now);
    }
    let reason: HedgeSupersededError | undefined;
    for (let n = 1; n <= this.#launched; n++) {
      const attempt = this.#attempt(n);
      if (attempt !== winner && !attempt.done) {
        reason ??= engine.superseded(winner.attempt);
        attempt.abort(reason);
        // Censored: it was at least this slow (Finagle records superseded requests likewise).
        if (learned !== undefined && attempt === this) learned.observe(now - attempt.start);
        if (publishing) this.#publishAttempt(attempt, false, { ok: false, error: reason }, now);
      }
      attempt.dispose();
    }
  }

  /**
   * Settles the call without a winner: every attempt failed (`ok` is then the last outcome's), the
   * caller aborted, or a user function threw. Whatever still runs is cancelled.
   */
  #finish(ok: boolean, result: unknown): void {
    if ((this.flags & SETTLED) !== 0) return;
    this.flags |= SETTLED;
    this.#engine.timers.remove(this);
    for (let n = 1; n <= this.#launched; n++) {
      const attempt = this.#attempt(n);
      if (!attempt.done) attempt.abort(ok ? undefined : result);
      attempt.dispose();
    }
    this.#release(false);
    if (ok) this.#resolve!(result as T);
    else this.#reject!(result);
  }

  /**
   * Ends the budget ticket (succeeded: the call ends with a success) and drops a handled result
   * the outcome replaced (its unread body is cancelled).
   */
  #release(succeeded: boolean): void {
    const extras = this.#extras;
    if (extras === undefined) return;
    const ticket = extras.ticket;
    if (ticket !== undefined) {
      try {
        if (succeeded) ticket.succeed();
        else ticket.fail();
      } catch (error) {
        // A user-written budget that throws must not change the call's outcome.
        reportListenerError(error);
      }
    }
    const last = extras.last;
    if (last !== undefined) {
      extras.last = undefined;
      if (last.ok) discardResult(last.value);
    }
  }

  #publishAttempt(
    attempt: Attempt,
    handled: boolean,
    outcome: Outcome<unknown> | undefined,
    now: number,
  ): void {
    const error = outcome === undefined || outcome.ok ? undefined : outcome.error;
    const duration = (this.flags & TIMED) !== 0 ? now - attempt.start : 0;
    publishAttempt(this.#engine.identity, this.parent, attempt.attempt, handled, duration, error);
  }
}

/** Runs `fn` hedged by `engine` in `ctx` (not aborted). */
export const runHedged: <T>(engine: HedgeEngine, fn: Task<T>, ctx: ExecutionContext) => Promise<T> =
  HedgedCall.run;
