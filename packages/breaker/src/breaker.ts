import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  drawRandom,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  formatValue,
  handleAll,
  identify,
  type Listener,
  type Outcome,
  OutcomeClassifier,
  optionalClock,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Random,
  type ShouldHandle,
  type Task,
  type TelemetryEventName,
  telemetry,
  type Verdict,
} from '@faultline/core';
import { type BreakDuration, BreakSchedule, checkBreakDuration } from './break-duration.js';
import { BrokenCircuitError, IsolatedCircuitError } from './errors.js';
import { CircuitPermit, PERMIT_FAILURE, PERMIT_IGNORE } from './permit.js';
import { type CircuitSnapshot, type CircuitState, checkSnapshot } from './snapshot.js';
import type { TripState, TripStrategy } from './trip-strategy.js';

const OWNER = 'circuitBreaker';

// Internal modes, indexes into STATE_NAMES. Numbers keep the hot-path comparison cheap.
const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];
/** The telemetry event of entering each mode (same indexes). */
const STATE_EVENTS: readonly TelemetryEventName[] = [
  'circuit-closed',
  'circuit-opened',
  'circuit-half-opened',
  'circuit-isolated',
];

// Admission results below zero are rejections; zero and above are the admitting generation.
const REJECT_BROKEN = -1;
const REJECT_ISOLATED = -2;

/** Why the circuit changed state. */
export type TransitionReason =
  | 'failure-threshold'
  | 'probe-failed'
  | 'break-elapsed'
  | 'probes-succeeded'
  | 'isolated'
  | 'released'
  | 'closed-manually';

/** Options of the half-open state. */
export interface HalfOpenOptions {
  /**
   * Calls let through as probes once the break has elapsed (integer ≥ 1, default 1). All must
   * succeed to close the circuit; other callers are rejected at once, never queued.
   */
  readonly probes?: number;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** When the closed circuit opens: `consecutiveFailures(n)` or `failureRate({...})`. Required. */
  readonly trip: TripStrategy;
  /**
   * How long the circuit stays open before letting probes through: ms, a `Backoff` (step n for
   * the n-th consecutive opening) or `({ attempt, failureRate, failures }) => ms`. Default 5 000.
   */
  readonly breakDuration?: BreakDuration;
  /** Half-open behaviour. Default `{ probes: 1 }`. */
  readonly halfOpen?: HalfOpenOptions;
  /**
   * Which outcomes count as failures. Default: every error (`handleAll`). Unhandled outcomes
   * count as successes; a rejection caused by the caller's abort is never counted. If it
   * throws, the caller gets its error and the call counts for nothing.
   */
  readonly shouldHandle?: ShouldHandle;
  /** Monotonic time source. Default `systemClock`. */
  readonly clock?: Clock;
  /** Random source handed to a `Backoff` break duration. Default `Math.random`. */
  readonly random?: Random;
  /** Wall-clock time for snapshots (ms since the epoch). Default `Date.now`. */
  readonly wallClock?: () => number;
  /** A snapshot from `toJSON()` to start from (e.g. persisted before a restart). */
  readonly initialState?: CircuitSnapshot;
  /** Called with a fresh snapshot after every state change (persist it to survive restarts). */
  readonly onSnapshot?: (snapshot: CircuitSnapshot) => void;
  /**
   * The breaker's name in telemetry and on its state gauge (a downstream or a use, never a
   * request). Default `'circuit-breaker'`.
   */
  readonly name?: string;
}

/** Event of {@link CircuitBreaker.onStateChange}. */
export interface StateChangeEvent {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: TransitionReason;
}

/** Event of {@link CircuitBreaker.onOpen}. */
export interface OpenEvent {
  readonly reason: TransitionReason;
  /** Consecutive openings since the circuit last closed (1 for the first). */
  readonly attempt: number;
  /** How long this opening lasts, ms. */
  readonly breakDuration: number;
  /** Failures and failure rate the trip strategy counted when it last tripped. */
  readonly failures: number;
  readonly failureRate: number;
}

/** Event of {@link CircuitBreaker.onHalfOpen} and {@link CircuitBreaker.onClose}. */
export interface TransitionEvent {
  readonly reason: TransitionReason;
}

/** Event of {@link CircuitBreaker.onReject}. */
export interface RejectEvent {
  readonly state: CircuitState;
  /** Ms until the breaker may let a call through again; `undefined` when isolated. */
  readonly retryAfter: number | undefined;
}

/** Event of {@link CircuitBreaker.onFailure}: a counted (handled) failure. */
export interface FailureEvent {
  /** The error, or the handled result when `shouldHandle` handles results. */
  readonly error: unknown;
  readonly state: CircuitState;
}

function checkTrip(value: unknown): TripStrategy {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<TripStrategy>).create !== 'function' ||
    typeof (value as Partial<TripStrategy>).describe !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: option "trip" must be a trip strategy (consecutiveFailures(n) or failureRate({...})), received ${formatValue(value)}`,
    );
  }
  return value as TripStrategy;
}

/**
 * A circuit breaker (Nygard, "Release It!"; state machine after resilience4j and Polly).
 *
 * - **closed**: calls run; the trip strategy watches their outcomes and opens the circuit.
 * - **open**: calls fail fast with {@link BrokenCircuitError} until the break has elapsed
 *   (`now - openedAt ≥ breakDuration`). No timer: the state is computed when read.
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
export class CircuitBreaker extends PolicyBase {
  readonly #trip: TripState;
  readonly #tripDescription: ReturnType<TripStrategy['describe']>;
  readonly #schedule: BreakSchedule;
  readonly #probes: number;
  readonly #classifier: OutcomeClassifier;
  readonly #clock: Clock;
  readonly #wallClock: () => number;
  readonly #slowMs: number;
  readonly #timed: boolean;
  readonly #needsTime: boolean;
  readonly #settle: (generation: number, outcome: number, duration: number) => void;
  readonly #identity: PolicyIdentity;

  #mode = CLOSED;
  /** Incremented on every transition (and new probe round); admissions carry it. */
  #generation = 0;
  /** Consecutive openings since the last close. */
  #attempt = 0;
  #breakMs = 0;
  /** When the circuit last opened; the break has elapsed once `now - #openedAt ≥ #breakMs`. */
  #openedAt = 0;
  /** Half-open: probe slots used in this round, successes so far, first admission time. */
  #admitted = 0;
  #succeeded = 0;
  #roundStart = Number.NaN;
  /** Isolation handles outstanding; handles from before the last close() are void. */
  #holders = 0;
  #isolationEpoch = 0;
  #tripFailures = 0;
  #tripRate = 0;
  /** The clock reading taken by the last rejected admission (for retryAfter). */
  #rejectedAt = 0;

  readonly #stateChange = new EventChannel<StateChangeEvent>();
  readonly #open = new EventChannel<OpenEvent>();
  readonly #halfOpen = new EventChannel<TransitionEvent>();
  readonly #close = new EventChannel<TransitionEvent>();
  readonly #reject = new EventChannel<RejectEvent>();
  readonly #failure = new EventChannel<FailureEvent>();
  readonly #snapshot = new EventChannel<CircuitSnapshot>();

  constructor(options: CircuitBreakerOptions) {
    super();
    const opts = checkOptions<CircuitBreakerOptions>(OWNER, options);
    const strategy = checkTrip(opts.trip);
    this.#trip = strategy.create();
    this.#tripDescription = strategy.describe();
    const breakDuration =
      opts.breakDuration === undefined ? 5_000 : checkBreakDuration(OWNER, opts.breakDuration);
    let probes = 1;
    if (opts.halfOpen !== undefined) {
      const halfOpen: unknown = opts.halfOpen;
      if (halfOpen === null || typeof halfOpen !== 'object' || Array.isArray(halfOpen)) {
        throw new TypeError(
          `${OWNER}: option "halfOpen" must be an object { probes }, received ${formatValue(halfOpen)}`,
        );
      }
      const raw = (halfOpen as HalfOpenOptions).probes;
      if (raw !== undefined) {
        probes = checkNumber(OWNER, 'halfOpen.probes', raw, { min: 1, max: 10_000, integer: true });
      }
    }
    this.#probes = probes;
    this.#classifier = new OutcomeClassifier(
      opts.shouldHandle === undefined
        ? handleAll
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    );
    // A breaker only reads the time.
    this.#clock = optionalClock(OWNER, 'clock', opts.clock, ['now']);
    // Checked at every draw, so a broken source fails naming this option (see drawRandom).
    const source =
      opts.random === undefined ? undefined : checkFunction<Random>(OWNER, 'random', opts.random);
    const random = source === undefined ? undefined : () => drawRandom(source, OWNER);
    this.#wallClock =
      opts.wallClock === undefined
        ? Date.now
        : checkFunction<() => number>(OWNER, 'wallClock', opts.wallClock);
    this.#schedule = new BreakSchedule(OWNER, breakDuration, random);
    if (opts.onSnapshot !== undefined) {
      this.#snapshot.subscribe(
        checkFunction<(snapshot: CircuitSnapshot) => void>(OWNER, 'onSnapshot', opts.onSnapshot),
      );
    }
    this.#slowMs = this.#trip.slowCallDuration;
    this.#timed = this.#slowMs !== Number.POSITIVE_INFINITY;
    this.#needsTime = this.#trip.needsTime;
    this.#settle = (generation, outcome, duration) => {
      if (outcome === PERMIT_IGNORE) this.#release(generation);
      else {
        this.#complete(generation, outcome === PERMIT_FAILURE, duration > this.#slowMs, Number.NaN);
      }
    };
    if (opts.initialState !== undefined) {
      this.#restore(checkSnapshot(OWNER, opts.initialState));
    }
    this.#identity = identify(OWNER, 'circuit-breaker', opts.name);
    // The state gauge (faultline.circuit_breaker.state) reads the breaker weakly, without moving it.
    telemetry.trackState(this, this.#identity, STATE_NAMES, CircuitBreaker.#peek);
  }

  /** The breaker's name in telemetry (option `name`, default `'circuit-breaker'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** The state as {@link state} reports it, without moving an elapsed break to half-open. */
  static #peek(breaker: CircuitBreaker): CircuitState {
    const mode = breaker.#mode;
    if (mode === OPEN && breaker.#clock.now() - breaker.#openedAt >= breaker.#breakMs) {
      return 'half-open';
    }
    return STATE_NAMES[mode]!;
  }

  /** The state now. Exact at read time: an elapsed break reads as `'half-open'`. */
  get state(): CircuitState {
    if (this.#mode === OPEN) {
      if (this.#clock.now() - this.#openedAt >= this.#breakMs) this.#toHalfOpen();
    }
    return STATE_NAMES[this.#mode]!;
  }

  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const generation = this.#mode === CLOSED ? this.#generation : this.#admit(ctx);
    if (generation < 0) throw this.#rejection(generation, ctx);
    // The clock is read only when durations matter (slow-call rule).
    const start = this.#timed ? this.#clock.now() : 0;
    let value: T;
    try {
      value = (await fn(ctx)) as T;
    } catch (error) {
      this.#completeError(generation, start, error, ctx);
      throw error;
    }
    // A result-blind rule (handleAll, handleErrors(...)) skips building an Outcome on success.
    if (this.#classifier.classifiesResults) {
      // A result the rule would count as a failure, after the caller left: counted for nothing.
      if (this.#completeValue(generation, start, value, ctx) === 'aborted') throw ctx.abortReason;
    } else if (this.#timed) {
      const now = this.#clock.now();
      this.#complete(generation, false, now - start > this.#slowMs, now, ctx);
    } else {
      this.#complete(generation, false, false, Number.NaN, ctx);
    }
    return value;
  }

  /**
   * Low-level admission, for streaming calls and libraries that do their own I/O: a permit if
   * the call may go ahead (report its outcome with `success(ms)` / `failure(ms)`, or `ignore()`
   * to count nothing), `undefined` if the circuit rejects it.
   */
  tryAcquire(): CircuitPermit | undefined {
    const generation = this.#mode === CLOSED ? this.#generation : this.#admit();
    if (generation < 0) {
      if (this.#reject.hasListeners || telemetry.hasSubscribers) this.#rejection(generation);
      return undefined;
    }
    return new CircuitPermit(this.#settle, generation);
  }

  /**
   * Holds the circuit open (every call rejected with {@link IsolatedCircuitError}) until the
   * returned function is called. Several holders may isolate at once; the circuit closes when
   * the last one releases. {@link close} voids every handle.
   */
  isolate(): () => void {
    const epoch = this.#isolationEpoch;
    this.#holders++;
    if (this.#mode !== ISOLATED) this.#transition(ISOLATED, 'isolated');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (epoch !== this.#isolationEpoch) return;
      if (--this.#holders === 0) this.#toClosed('released');
    };
  }

  /** Forces the circuit closed (from any state), with an empty window. */
  close(): void {
    this.#isolationEpoch++;
    this.#holders = 0;
    if (this.#mode !== CLOSED) {
      this.#toClosed('closed-manually');
    } else {
      this.#trip.reset();
    }
  }

  /** A snapshot to persist and restore with `initialState` (see {@link CircuitSnapshot}). */
  toJSON(): CircuitSnapshot {
    void this.state; // settles an elapsed break first
    return this.#takeSnapshot();
  }

  /** The snapshot of the current mode, without moving open → half-open (used mid-transition). */
  #takeSnapshot(): CircuitSnapshot {
    const open = this.#mode === OPEN;
    return {
      version: 1,
      state: STATE_NAMES[this.#mode]!,
      attempt: this.#attempt,
      breakDuration: this.#mode === CLOSED ? 0 : this.#breakMs,
      remainingBreak: open ? this.#remainingBreak(this.#clock.now()) : 0,
      takenAt: this.#wallClock(),
    };
  }

  describe(): PolicyDescription {
    return {
      name: 'circuitBreaker',
      options: {
        trip: this.#tripDescription,
        breakDuration: this.#schedule.describe(),
        halfOpen: { probes: this.#probes },
        shouldHandle: this.#classifier.shouldHandle === handleAll ? 'handleAll' : 'custom',
      },
    };
  }

  /** Every state change. */
  onStateChange(listener: Listener<StateChangeEvent>): () => void {
    return this.#stateChange.subscribe(listener);
  }

  /** The circuit opened (from closed or from a failed probe). */
  onOpen(listener: Listener<OpenEvent>): () => void {
    return this.#open.subscribe(listener);
  }

  /** The break elapsed (observed lazily: on the first call or state read after it). */
  onHalfOpen(listener: Listener<TransitionEvent>): () => void {
    return this.#halfOpen.subscribe(listener);
  }

  /** The circuit closed (probes succeeded, isolation released, or `close()`). */
  onClose(listener: Listener<TransitionEvent>): () => void {
    return this.#close.subscribe(listener);
  }

  /** A call was rejected without running. */
  onReject(listener: Listener<RejectEvent>): () => void {
    return this.#reject.subscribe(listener);
  }

  /** A handled failure was counted. */
  onFailure(listener: Listener<FailureEvent>): () => void {
    return this.#failure.subscribe(listener);
  }

  // --- admission -------------------------------------------------------------------------

  /** Admission when not closed; returns the generation or a REJECT_* code. */
  #admit(ctx?: ExecutionContext): number {
    const mode = this.#mode;
    if (mode === ISOLATED) return REJECT_ISOLATED;
    if (mode === CLOSED) return this.#generation;
    const now = this.#clock.now();
    if (mode === OPEN) {
      // The spec's predicate as written: `openedAt + breakMs` rounds, and with fractional clock
      // readings a precomputed end time could end the break one ulp early.
      if (now - this.#openedAt < this.#breakMs) {
        this.#rejectedAt = now;
        return REJECT_BROKEN;
      }
      this.#toHalfOpen(ctx);
    }
    if (this.#admitted >= this.#probes) {
      // Every probe slot is taken. If none has decided for a whole break duration they are
      // presumed hung: abandon them (their outcomes no longer count) and start a new round.
      if (now - this.#roundStart < this.#breakMs) {
        this.#rejectedAt = now;
        return REJECT_BROKEN;
      }
      this.#generation++;
      this.#admitted = 0;
      this.#succeeded = 0;
      this.#roundStart = Number.NaN;
    }
    if (this.#admitted === 0 && this.#succeeded === 0 && Number.isNaN(this.#roundStart)) {
      this.#roundStart = now;
    }
    this.#admitted++;
    return this.#generation;
  }

  /** Builds the rejection (failure path only) and emits onReject. */
  #rejection(code: number, ctx?: ExecutionContext): Error {
    if (code === REJECT_ISOLATED) {
      if (this.#reject.hasListeners) {
        this.#reject.emit({ state: 'isolated', retryAfter: undefined });
      }
      const error = new IsolatedCircuitError();
      if (telemetry.hasSubscribers) this.#publishRejection(error, 'isolated', ctx);
      return error;
    }
    const now = this.#rejectedAt;
    const open = this.#mode === OPEN;
    const retryAfter = open
      ? this.#remainingBreak(now)
      : Math.max(0, this.#breakMs - (now - this.#roundStart));
    if (this.#reject.hasListeners) {
      this.#reject.emit({ state: open ? 'open' : 'half-open', retryAfter });
    }
    const error = new BrokenCircuitError(
      retryAfter,
      open ? 'circuit is open' : 'circuit is half-open and its probes are in flight',
    );
    if (telemetry.hasSubscribers) this.#publishRejection(error, open ? 'open' : 'half-open', ctx);
    return error;
  }

  #publishRejection(error: Error, state: CircuitState, ctx: ExecutionContext | undefined): void {
    publishEvent(this.#identity, ctx, 'circuit-rejected', this.#clock.now(), error, { state });
  }

  /** Ms of the current break still to run at `now` (open state). */
  #remainingBreak(now: number): number {
    const left = this.#breakMs - (now - this.#openedAt);
    return left > 0 ? left : 0;
  }

  // --- outcomes --------------------------------------------------------------------------

  #completeError(generation: number, start: number, error: unknown, ctx: ExecutionContext): void {
    const verdict = this.#classify(generation, { ok: false, error }, ctx);
    // A rejection caused by the caller's abort says nothing about the dependency.
    if (verdict === 'aborted') {
      this.#release(generation);
      return;
    }
    const handled = verdict === 'handled';
    const now = this.#timed ? this.#clock.now() : Number.NaN;
    if (handled && this.#failure.hasListeners && generation === this.#generation) {
      this.#failure.emit({ error, state: STATE_NAMES[this.#mode]! });
    }
    this.#complete(generation, handled, this.#timed && now - start > this.#slowMs, now, ctx);
  }

  #completeValue(
    generation: number,
    start: number,
    value: unknown,
    ctx: ExecutionContext,
  ): Verdict {
    const verdict = this.#classify(generation, { ok: true, value }, ctx);
    if (verdict === 'aborted') {
      this.#release(generation);
      return verdict;
    }
    const handled = verdict === 'handled';
    const now = this.#timed ? this.#clock.now() : Number.NaN;
    if (handled && this.#failure.hasListeners && generation === this.#generation) {
      this.#failure.emit({ error: value, state: STATE_NAMES[this.#mode]! });
    }
    this.#complete(generation, handled, this.#timed && now - start > this.#slowMs, now, ctx);
    return verdict;
  }

  /**
   * Runs `shouldHandle`. If it throws, its error replaces the outcome (as in retry) and the call
   * counts for nothing: without the release, a half-open probe slot would stay taken until the
   * hung-probe rule frees it a whole break duration later.
   */
  #classify(generation: number, outcome: Outcome<unknown>, ctx: ExecutionContext): Verdict {
    try {
      return this.#classifier.classify(outcome, ctx);
    } catch (error) {
      this.#release(generation);
      throw error;
    }
  }

  /** Counts one outcome admitted in `generation`. `now` is NaN when not read yet. */
  #complete(
    generation: number,
    failed: boolean,
    slow: boolean,
    now: number,
    ctx?: ExecutionContext,
  ): void {
    // Admitted before the last transition: the outcome belongs to a state that is gone.
    if (generation !== this.#generation) return;
    const mode = this.#mode;
    if (mode === CLOSED) {
      if (this.#needsTime && Number.isNaN(now)) now = this.#clock.now();
      if (this.#trip.record(failed, slow, now)) {
        this.#tripFailures = this.#trip.failures;
        this.#tripRate = this.#trip.failureRate;
        this.#toOpen(now, 'failure-threshold', ctx);
      }
    } else if (mode === HALF_OPEN) {
      if (failed || slow) this.#toOpen(now, 'probe-failed', ctx);
      else if (++this.#succeeded >= this.#probes) this.#toClosed('probes-succeeded', ctx);
    }
  }

  /** A call admitted in `generation` ended without a countable outcome: free its probe slot. */
  #release(generation: number): void {
    if (generation === this.#generation && this.#mode === HALF_OPEN && this.#admitted > 0) {
      this.#admitted--;
    }
  }

  // --- transitions -----------------------------------------------------------------------

  #toOpen(now: number, reason: TransitionReason, ctx?: ExecutionContext): void {
    if (Number.isNaN(now)) now = this.#clock.now();
    const attempt = this.#attempt + 1;
    const failures = this.#tripFailures;
    const failureRate = this.#tripRate;
    const breakMs = this.#schedule.next({ attempt, failures, failureRate });
    this.#attempt = attempt;
    this.#breakMs = breakMs;
    this.#openedAt = now;
    this.#transition(OPEN, reason, ctx);
    if (this.#open.hasListeners) {
      this.#open.emit({ reason, attempt, breakDuration: breakMs, failures, failureRate });
    }
  }

  #toHalfOpen(ctx?: ExecutionContext): void {
    this.#admitted = 0;
    this.#succeeded = 0;
    this.#roundStart = Number.NaN;
    this.#transition(HALF_OPEN, 'break-elapsed', ctx);
    if (this.#halfOpen.hasListeners) this.#halfOpen.emit({ reason: 'break-elapsed' });
  }

  #toClosed(reason: TransitionReason, ctx?: ExecutionContext): void {
    this.#attempt = 0;
    this.#breakMs = 0;
    this.#schedule.reset();
    this.#trip.reset();
    this.#transition(CLOSED, reason, ctx);
    if (this.#close.hasListeners) this.#close.emit({ reason });
  }

  /**
   * `ctx` is the call that caused the transition, when there is one (not for `isolate()`,
   * `close()`, a permit's report or a state read): its pipeline and operation label the record.
   */
  #transition(to: number, reason: TransitionReason, ctx?: ExecutionContext): void {
    const from = this.#mode;
    this.#mode = to;
    this.#generation++;
    if (this.#stateChange.hasListeners) {
      this.#stateChange.emit({ from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, reason });
    }
    if (telemetry.hasSubscribers) {
      const attributes = { from: STATE_NAMES[from]!, reason };
      publishEvent(
        this.#identity,
        ctx,
        STATE_EVENTS[to]!,
        this.#clock.now(),
        undefined,
        attributes,
      );
    }
    if (this.#snapshot.hasListeners) this.#snapshot.emit(this.#takeSnapshot());
  }

  #restore(snapshot: CircuitSnapshot): void {
    const now = this.#clock.now();
    // Monotonic time does not survive a restart: age the remaining break by the wall time that
    // has passed since the snapshot. A wall clock that went backwards counts as no time.
    const elapsed = Math.max(0, this.#wallClock() - snapshot.takenAt);
    this.#attempt = snapshot.attempt;
    this.#breakMs = snapshot.breakDuration;
    this.#schedule.resume(snapshot.attempt, { failures: 0, failureRate: 0 });
    switch (snapshot.state) {
      case 'closed':
        this.#attempt = 0;
        this.#breakMs = 0;
        return;
      case 'open': {
        this.#mode = OPEN;
        const left = snapshot.remainingBreak - elapsed;
        // Backdate the opening so that `left` ms of the break remain (none: it has elapsed).
        this.#openedAt =
          left > 0 ? now - (snapshot.breakDuration - left) : Number.NEGATIVE_INFINITY;
        return;
      }
      case 'half-open':
        this.#mode = HALF_OPEN;
        return;
      case 'isolated':
        // Held by nobody in this process: only close() lets it go.
        this.#mode = ISOLATED;
        this.#holders = 1;
        this.#isolationEpoch = -1;
        return;
    }
  }
}

/**
 * Creates a {@link CircuitBreaker}.
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
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (options === undefined) {
    throw new TypeError(
      `${OWNER}: options must be an object with a "trip" strategy, received undefined`,
    );
  }
  return new CircuitBreaker(options);
}
