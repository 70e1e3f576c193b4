import type { Clock } from '@faultline/clock';
import {
  drawRandom,
  EventChannel,
  type ExecuteOptions,
  type ExecutionContext,
  executeInContext,
  identify,
  type Listener,
  type Outcome,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  rootContext,
  type Task,
  type TelemetryEventName,
  telemetry,
  type Verdict,
} from '@faultline/core';
import { describeFunction } from '@faultline/core/internal';
import { BreakSchedule } from './break-duration.js';
import { BrokenCircuitError, IsolatedCircuitError } from './circuit-breaker-errors.js';
import type {
  CircuitBreakerFailureEvent,
  CircuitBreakerOpenEvent,
  CircuitBreakerRejectEvent,
  CircuitBreakerStateChangeEvent,
  CircuitBreakerTransitionEvent,
  CircuitBreakerTransitionReason,
} from './circuit-breaker-events.js';
import {
  type CircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './circuit-breaker-options.js';
import { CircuitPermit, type PermitSettle } from './circuit-breaker-permit.js';
import {
  type Admission,
  type CircuitBreakerState,
  type CircuitRejection,
  CircuitStateMachine,
  type ClosedState,
  type HalfOpenState,
} from './circuit-breaker-state.js';
import type { CircuitSnapshot, CircuitState } from './snapshot.js';
import type { TripStrategy } from './trip-strategy.js';

const OWNER = 'circuitBreaker';
const KIND = 'circuit-breaker';
/** The name `describe()` reports (kept from before the policy checklist: it is public output). */
const DESCRIPTION_NAME = 'circuitBreaker';

const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];
/** The telemetry event of entering each state. */
const STATE_EVENTS: Readonly<Record<CircuitState, TelemetryEventName>> = {
  closed: 'circuit-closed',
  open: 'circuit-opened',
  'half-open': 'circuit-half-opened',
  isolated: 'circuit-isolated',
};

/** A call admitted in this state (its outcome counts only while the state is current). */
type Admitted = ClosedState | HalfOpenState;

/** Outcome handlers shared by the root-context calls admitted in one state. */
interface RootHandlers {
  readonly admitted: Admitted;
  readonly succeeded: (value: unknown) => unknown;
  /** Counts the failure and rethrows it (or the error of a throwing `shouldHandle`). */
  readonly failed: (error: unknown) => never;
}

/** A synchronous throw of `fn`: counted, then a rejection, as an async function would. */
function failedAtOnce(handlers: RootHandlers, error: unknown): Promise<never> {
  try {
    return handlers.failed(error);
  } catch (thrown) {
    return Promise.reject(thrown);
  }
}

/**
 * A circuit breaker (Nygard, "Release It!"; state machine after resilience4j and Polly, in
 * `CircuitStateMachine`). Built by {@link circuitBreaker}.
 *
 * - **closed**: calls run; the trip strategy watches their outcomes and opens the circuit.
 * - **open**: calls fail fast with {@link BrokenCircuitError} until the break has elapsed
 *   (`now - openedAt ≥ breakDuration`). No timer: the break is checked when a call arrives.
 * - **half-open**: up to `halfOpen.probes` calls run as probes, everyone else is rejected at once.
 *   All probes succeed → closed; a failed (or slow) probe → open with the next break duration.
 *   If the probes neither succeed nor fail for another break duration, they are abandoned and
 *   new probes are admitted, so a hung probe cannot wedge the breaker.
 * - **isolated**: held open by hand ({@link isolate}) until released or {@link close}d.
 *
 * Outcomes are attributed to the state in which the call was admitted: a call admitted before
 * the last transition does not count (a slow call that started while closed cannot close a
 * circuit that has since re-opened).
 */
export class CircuitBreakerPolicy extends PolicyBase {
  readonly #machine: CircuitStateMachine;
  readonly #tripDescription: ReturnType<TripStrategy['describe']>;
  readonly #schedule: BreakSchedule;
  readonly #probes: number;
  readonly #classifier: OutcomeClassifier;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #slowMs: number;
  readonly #timed: boolean;
  readonly #settle: PermitSettle;
  readonly #identity: PolicyIdentity;
  /** The root context's outcome handlers for the state calls were last admitted in. */
  #handlers: RootHandlers | undefined;

  readonly #onStateChange = new EventChannel<CircuitBreakerStateChangeEvent>();
  readonly #onOpen = new EventChannel<CircuitBreakerOpenEvent>();
  readonly #onHalfOpen = new EventChannel<CircuitBreakerTransitionEvent>();
  readonly #onClose = new EventChannel<CircuitBreakerTransitionEvent>();
  readonly #onReject = new EventChannel<CircuitBreakerRejectEvent>();
  readonly #onFailure = new EventChannel<CircuitBreakerFailureEvent>();
  readonly #onSnapshot = new EventChannel<CircuitSnapshot>();

  /** Validates `options` (see {@link resolveCircuitBreakerOptions}); {@link circuitBreaker} is the same. */
  constructor(options: CircuitBreakerOptions) {
    super();
    const resolved = resolveCircuitBreakerOptions(options);
    // The breaker's clock: a time window reads it itself, and on systemClock not on every call.
    const trip = resolved.trip.create(resolved.clock);
    this.#tripDescription = resolved.trip.describe();
    this.#probes = resolved.halfOpen.probes;
    this.#classifier = new OutcomeClassifier(resolved.shouldHandle);
    this.#clock = resolved.clock;
    this.#wallClock = resolved.wallClock;
    // Checked at every draw, so a broken source fails naming this option (see drawRandom).
    const source = resolved.random;
    const random = source === undefined ? undefined : () => drawRandom(source, OWNER);
    this.#schedule = new BreakSchedule(OWNER, resolved.breakDuration, random);
    if (resolved.onSnapshot !== undefined) this.#onSnapshot.subscribe(resolved.onSnapshot);
    this.#slowMs = trip.slowCallDuration;
    this.#timed = this.#slowMs !== Number.POSITIVE_INFINITY;
    this.#machine = new CircuitStateMachine(
      trip,
      this.#schedule,
      this.#probes,
      this.#clock,
      (from, to, reason, ctx) => this.#transitioned(from, to, reason, ctx),
    );
    this.#settle = (admitted, outcome, duration) => {
      if (outcome === 'ignore') this.#machine.release(admitted as Admitted);
      else {
        this.#machine.record(
          admitted as Admitted,
          outcome === 'failure',
          duration > this.#slowMs,
          undefined,
        );
      }
    };
    const initial = resolved.initialState;
    if (initial !== undefined) {
      // A wall clock that went backwards counts as no time.
      this.#machine.restore(initial, Math.max(0, this.#wallClock() - initial.takenAt));
    }
    this.#identity = identify(OWNER, KIND, resolved.name);
    // The state gauge (faultline.circuit_breaker.state) reads the breaker weakly, without moving it.
    telemetry.trackState(this, this.#identity, STATE_NAMES, CircuitBreakerPolicy.#peek);
  }

  /** The breaker's name in telemetry (option `name`, default `'circuit-breaker'`). */
  get name(): string {
    return this.#identity.name;
  }

  static #peek(breaker: CircuitBreakerPolicy): CircuitState {
    return breaker.#machine.current();
  }

  /**
   * The state a call made now would find. Reading it changes nothing and fires nothing: once the
   * break has elapsed it reads `'half-open'`, and the open → half-open transition (with its
   * events) happens when the next call arrives or on `isolate()` / `close()`.
   */
  get state(): CircuitState {
    return this.#machine.current();
  }

  /**
   * {@link PolicyBase.execute}, with the common call (no signal, no operation, no telemetry
   * subscriber) dispatched here: the skeleton's call of `executeInContext` is shared by every
   * policy class and turns megamorphic in an application that uses several, where this one only
   * ever sees a breaker.
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
    let admission: Admission;
    try {
      admission = this.#machine.admit(ctx);
      if (admission.kind === 'rejected') return Promise.reject(this.#rejection(admission, ctx));
    } catch (error) {
      // A transition's listener threw (as an async function would, the call rejects).
      return Promise.reject(error);
    }
    if (ctx !== rootContext || this.#timed) return this.#run(fn, ctx, admission);
    // The root context (no signal, no operation) never aborts and, without the slow-call rule,
    // the outcome handlers need nothing of the call but the state it was admitted in: they are
    // made once per state, and the call costs no async function.
    let handlers = this.#handlers;
    if (handlers === undefined || handlers.admitted !== admission) {
      handlers = this.#handlersFor(admission);
      this.#handlers = handlers;
    }
    let result: T | PromiseLike<T>;
    try {
      result = fn(ctx);
    } catch (error) {
      return failedAtOnce(handlers, error);
    }
    return Promise.resolve(result).then(handlers.succeeded, handlers.failed) as Promise<T>;
  }

  /** The outcome handlers of calls admitted in `admitted` in the root context. */
  #handlersFor(admitted: Admitted): RootHandlers {
    return {
      admitted,
      succeeded: (value) => {
        if (!this.#classifier.classifiesResults) {
          this.#machine.record(admitted, false, false, undefined, rootContext);
        } else if (this.#completeValue(admitted, 0, value, rootContext) === 'aborted') {
          throw rootContext.abortReason; // never: the root context does not abort
        }
        return value;
      },
      failed: (error) => {
        this.#completeError(admitted, 0, error, rootContext);
        throw error;
      },
    };
  }

  async #run<T>(fn: Task<T>, ctx: ExecutionContext, admission: Admitted): Promise<T> {
    // The clock is read only when durations matter (slow-call rule).
    const start = this.#timed ? this.#clock.now() : 0;
    let value: T;
    try {
      value = (await fn(ctx)) as T;
    } catch (error) {
      this.#completeError(admission, start, error, ctx);
      throw error;
    }
    // A result-blind rule (handleAll, handleErrors(...)) skips building an Outcome on success.
    if (this.#classifier.classifiesResults) {
      // A result the rule would count as a failure, after the caller left: counted for nothing.
      if (this.#completeValue(admission, start, value, ctx) === 'aborted') throw ctx.abortReason;
    } else if (this.#timed) {
      const now = this.#clock.now();
      this.#machine.record(admission, false, now - start > this.#slowMs, now, ctx);
    } else {
      this.#machine.record(admission, false, false, undefined, ctx);
    }
    return value;
  }

  /**
   * Low-level admission, for streaming calls and libraries that do their own I/O: a permit if
   * the call may go ahead (report its outcome with `success(ms)` / `failure(ms)`, or `ignore()`
   * to count nothing), `undefined` if the circuit rejects it.
   */
  tryAcquire(): CircuitPermit | undefined {
    const admission = this.#machine.admit();
    if (admission.kind === 'rejected') {
      if (this.#onReject.hasListeners || telemetry.hasSubscribers) this.#rejection(admission);
      return undefined;
    }
    return new CircuitPermit(this.#settle, admission);
  }

  /**
   * Holds the circuit open (every call rejected with {@link IsolatedCircuitError}) until the
   * returned function is called. Several holders may isolate at once; the circuit closes when
   * the last one releases. {@link close} voids every handle.
   */
  isolate(): () => void {
    return this.#machine.isolate();
  }

  /** Forces the circuit closed (from any state), with an empty window. */
  close(): void {
    this.#machine.close();
  }

  /**
   * A snapshot to persist and restore with `initialState` (see {@link CircuitSnapshot}). Like
   * {@link state}, it reports an elapsed break as half-open and changes nothing.
   */
  toJSON(): CircuitSnapshot {
    return this.#machine.snapshot(this.#wallClock(), true);
  }

  describe(): PolicyDescription {
    return {
      name: DESCRIPTION_NAME,
      options: {
        trip: this.#tripDescription,
        breakDuration: this.#schedule.describe(),
        halfOpen: { probes: this.#probes },
        shouldHandle: describeFunction(this.#classifier.shouldHandle),
      },
    };
  }

  /** Every state change. */
  onStateChange(listener: Listener<CircuitBreakerStateChangeEvent>): () => void {
    return this.#onStateChange.subscribe(listener);
  }

  /** The circuit opened (from closed or from a failed probe). */
  onOpen(listener: Listener<CircuitBreakerOpenEvent>): () => void {
    return this.#onOpen.subscribe(listener);
  }

  /**
   * The break elapsed. Seen lazily: fired by the first call (or `isolate()` / `close()`) after
   * the break, never by reading `state`.
   */
  onHalfOpen(listener: Listener<CircuitBreakerTransitionEvent>): () => void {
    return this.#onHalfOpen.subscribe(listener);
  }

  /** The circuit closed (probes succeeded, isolation released, or `close()`). */
  onClose(listener: Listener<CircuitBreakerTransitionEvent>): () => void {
    return this.#onClose.subscribe(listener);
  }

  /** A call was rejected without running. */
  onReject(listener: Listener<CircuitBreakerRejectEvent>): () => void {
    return this.#onReject.subscribe(listener);
  }

  /** A handled failure was counted. */
  onFailure(listener: Listener<CircuitBreakerFailureEvent>): () => void {
    return this.#onFailure.subscribe(listener);
  }

  // --- rejections ------------------------------------------------------------------------

  /** Builds the rejection (failure path only), emits onReject and publishes it. */
  #rejection(rejection: CircuitRejection, ctx?: ExecutionContext): Error {
    const { state, retryAfter } = rejection;
    if (this.#onReject.hasListeners) this.#onReject.emit({ state, retryAfter });
    const error =
      state === 'isolated'
        ? new IsolatedCircuitError()
        : new BrokenCircuitError(
            retryAfter,
            state === 'open'
              ? 'circuit is open'
              : 'circuit is half-open and its probes are in flight',
          );
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'circuit-rejected', this.#clock.now(), error, { state });
    }
    return error;
  }

  // --- outcomes --------------------------------------------------------------------------

  #completeError(admitted: Admitted, start: number, error: unknown, ctx: ExecutionContext): void {
    const verdict = this.#classify(admitted, { ok: false, error }, ctx);
    // A rejection caused by the caller's abort says nothing about the dependency.
    if (verdict === 'aborted') {
      this.#machine.release(admitted);
      return;
    }
    this.#count(admitted, verdict === 'handled', start, error, ctx);
  }

  #completeValue(
    admitted: Admitted,
    start: number,
    value: unknown,
    ctx: ExecutionContext,
  ): Verdict {
    const verdict = this.#classify(admitted, { ok: true, value }, ctx);
    if (verdict === 'aborted') {
      this.#machine.release(admitted);
      return verdict;
    }
    this.#count(admitted, verdict === 'handled', start, value, ctx);
    return verdict;
  }

  /** Counts a classified outcome; `failure` is the error or handled result for onFailure. */
  #count(
    admitted: Admitted,
    handled: boolean,
    start: number,
    failure: unknown,
    ctx: ExecutionContext,
  ): void {
    const now = this.#timed ? this.#clock.now() : undefined;
    if (handled && this.#onFailure.hasListeners && admitted === this.#machine.state) {
      this.#onFailure.emit({ error: failure, state: admitted.kind });
    }
    const slow = now !== undefined && now - start > this.#slowMs;
    this.#machine.record(admitted, handled, slow, now, ctx);
  }

  /**
   * Runs `shouldHandle` through core's classifier. If it throws, its error replaces the outcome
   * (as in retry) and the call counts for nothing: without the release, a half-open probe slot
   * would stay taken until the hung-probe rule frees it a whole break duration later.
   */
  #classify(admitted: Admitted, outcome: Outcome<unknown>, ctx: ExecutionContext): Verdict {
    try {
      return this.#classifier.classify(outcome, ctx);
    } catch (error) {
      this.#machine.release(admitted);
      throw error;
    }
  }

  // --- events ----------------------------------------------------------------------------

  /** Publishes a transition of the state machine: events, telemetry, snapshot. */
  #transitioned(
    from: CircuitBreakerState,
    to: CircuitBreakerState,
    reason: CircuitBreakerTransitionReason,
    ctx: ExecutionContext | undefined,
  ): void {
    if (this.#onStateChange.hasListeners) {
      this.#onStateChange.emit({ from: from.kind, to: to.kind, reason });
    }
    if (telemetry.hasSubscribers) {
      const attributes = { from: from.kind, reason };
      const event = STATE_EVENTS[to.kind];
      publishEvent(this.#identity, ctx, event, this.#clock.now(), undefined, attributes);
    }
    if (this.#onSnapshot.hasListeners) {
      this.#onSnapshot.emit(this.#machine.snapshot(this.#wallClock(), false));
    }
    switch (to.kind) {
      case 'open':
        if (this.#onOpen.hasListeners) {
          const { attempt, breakMs: breakDuration, failures, failureRate } = to;
          this.#onOpen.emit({ reason, attempt, breakDuration, failures, failureRate });
        }
        return;
      case 'half-open':
        if (this.#onHalfOpen.hasListeners) this.#onHalfOpen.emit({ reason });
        return;
      case 'closed':
        if (this.#onClose.hasListeners) this.#onClose.emit({ reason });
        return;
      case 'isolated':
        return;
    }
  }
}

/**
 * Creates a {@link CircuitBreakerPolicy} (exactly `new CircuitBreakerPolicy(options)`).
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({
 *   trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 30_000 }),
 *   breakDuration: 5_000,
 * });
 * const res = await breaker.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options);
}

/** The class's name before the policy checklist (kept: add, never rename). */
export const CircuitBreaker = CircuitBreakerPolicy;
/** @deprecated Use {@link CircuitBreakerPolicy}. */
export type CircuitBreaker = CircuitBreakerPolicy;
