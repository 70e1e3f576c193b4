import {
  BrokenCircuitError,
  type CircuitState,
  type FailureEvent,
  IsolatedCircuitError,
  type OpenEvent,
  type RejectEvent,
  type StateChangeEvent,
  type TransitionEvent,
  type TransitionReason,
} from '@faultline/breaker';
import type { Clock } from '@faultline/clock';
import {
  EventChannel,
  type ExecutionContext,
  executeInContext,
  handleAll,
  identify,
  type Listener,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Task,
  type TelemetryEventName,
  telemetry,
} from '@faultline/core';
import { type FleetBreakerOptions, resolveFleetBreakerOptions } from './fleet-breaker-options.js';
import { FleetCircuitPermit } from './fleet-breaker-permit.js';
import {
  CLOSED,
  FleetCircuitState,
  HALF_OPEN,
  NOTHING,
  REJECT,
  REJECT_ISOLATED,
  REPORT_SUCCESS,
  STATE_NAMES,
  SYNC_NOW,
} from './fleet-breaker-state.js';
import type { BreakerRequest, BreakerRule, FleetOpenReason, FleetStore } from './store.js';
import type { FleetRejoinEvent, FleetStoreFailureEvent } from './store-events.js';
import { FleetSync } from './sync.js';

const OWNER = 'fleetBreaker';
const KIND = 'fleet-circuit-breaker';
const STATE_EVENTS: readonly TelemetryEventName[] = [
  'circuit-closed',
  'circuit-opened',
  'circuit-half-opened',
  'circuit-isolated',
];

/**
 * A circuit breaker whose state is shared by every instance of a service (see
 * {@link fleetBreaker}). Same states, events, errors and telemetry as `circuitBreaker`; the
 * decisions to open and to close are the fleet's, made atomically in the store.
 */
export class FleetBreaker extends PolicyBase {
  readonly #store: FleetStore;
  readonly #name: string;
  readonly #instance: string;
  readonly #rule: BreakerRule;
  readonly #quorum: number;
  readonly #breaks: readonly number[];
  readonly #stale: number;
  readonly #clock: Clock;
  readonly #classifier: OutcomeClassifier;
  readonly #slowMs: number;
  readonly #timed: boolean;
  readonly #needsTime: boolean;
  readonly #identity: PolicyIdentity;
  readonly #description: PolicyDescription;
  readonly #state: FleetCircuitState;
  readonly #sync: FleetSync;
  /** A trip has asked for an early step that has not started yet. */
  #tripSent = false;
  /** Store requests sent, and the newest whose reply was adopted (older replies are stale). */
  #sent = 0;
  #adopted = 0;
  /** isolate() handles outstanding; handles from before the last close() are void. */
  #holders = 0;
  #isolationEpoch = 0;

  readonly #stateChange = new EventChannel<StateChangeEvent>();
  readonly #open = new EventChannel<OpenEvent>();
  readonly #halfOpen = new EventChannel<TransitionEvent>();
  readonly #close = new EventChannel<TransitionEvent>();
  readonly #reject = new EventChannel<RejectEvent>();
  readonly #failure = new EventChannel<FailureEvent>();

  constructor(options: FleetBreakerOptions) {
    super();
    const o = resolveFleetBreakerOptions(options);
    this.#store = o.store;
    this.#name = o.name;
    this.#instance = o.instance;
    this.#rule = o.rule;
    this.#quorum = o.quorum;
    this.#breaks = o.breaks;
    // An instance that stopped publishing (crashed, partitioned) stops counting after 4 periods.
    this.#stale = 4 * o.sync;
    this.#clock = o.clock;
    this.#classifier = new OutcomeClassifier(o.shouldHandle);
    const trip = o.trip.create();
    this.#slowMs = trip.slowCallDuration;
    this.#timed = this.#slowMs !== Number.POSITIVE_INFINITY;
    this.#needsTime = trip.needsTime;
    this.#identity = identify(OWNER, KIND, o.name);
    this.#description = {
      name: KIND,
      options: {
        name: o.name,
        store: o.store.kind,
        trip: o.trip.describe(),
        breakDuration: o.breakDuration,
        quorum: o.quorum,
        sync: o.sync,
        storeTimeout: o.storeTimeout,
        shouldHandle: o.shouldHandle === handleAll ? 'handleAll' : 'custom',
      },
    };
    const clock = o.clock;
    this.#state = new FleetCircuitState(
      trip,
      o.window(),
      o.breaks,
      {
        transition: (from, to, reason) => this.#transitioned(from, to, reason),
        opened: (reason, attempt, breakMs, failures, rate) =>
          this.#opened(reason, attempt, breakMs, failures, rate),
      },
      () => clock.now(),
    );
    this.#sync = new FleetSync(o.clock, o.sync, o.storeTimeout, this.#identity, () => this.#step());
    telemetry.trackState(this, this.#identity, STATE_NAMES, FleetBreaker.#peek);
  }

  static #peek(breaker: FleetBreaker): CircuitState {
    return breaker.#state.peek(breaker.#clock.now());
  }

  /** The breaker's name (the shared circuit's and telemetry's). */
  get name(): string {
    return this.#identity.name;
  }

  /** This instance's id in the shared state. */
  get instance(): string {
    return this.#instance;
  }

  /** Whether the breaker runs on its local state because the store is failing. */
  get local(): boolean {
    return this.#sync.failing;
  }

  /** The state now, as this instance knows it (an elapsed break reads as `'half-open'`). */
  get state(): CircuitState {
    return this.#state.peek(this.#clock.now());
  }

  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const state = this.#state;
    const generation = state.mode === CLOSED ? state.generation : this.#admit();
    if (generation < 0) throw this.#rejection(generation, ctx);
    const start = this.#timed ? this.#clock.now() : 0;
    let value: T;
    try {
      value = (await fn(ctx)) as T;
    } catch (error) {
      this.#settle(generation, start, { ok: false, error }, ctx, error);
      throw error;
    }
    if (this.#classifier.classifiesResults) {
      if (this.#settle(generation, start, { ok: true, value }, ctx, value) === 'aborted') {
        throw ctx.abortReason;
      }
    } else {
      this.#count(generation, false, start);
    }
    return value;
  }

  /**
   * Holds the circuit open for the **whole fleet** (every call rejected with
   * `IsolatedCircuitError`) until the returned function is called, as `circuitBreaker.isolate()`.
   * This instance isolates at once, the others within one `sync`. The isolation is refreshed by
   * this instance's background steps: if the process dies, it lapses after 4 `sync` periods.
   * When the last holder in the fleet releases, the circuit closes (`'released'`).
   */
  isolate(): () => void {
    const epoch = this.#isolationEpoch;
    this.#holders++;
    this.#state.holding = true;
    this.#state.isolate();
    this.#sync.kick();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (epoch !== this.#isolationEpoch || --this.#holders > 0) return;
      this.#state.holding = false;
      // On local state there is no fleet to wait for.
      if (this.#sync.failing) this.#state.close('released');
      else this.#sync.kick();
    };
  }

  /**
   * Forces the circuit closed for the whole fleet (from any state, isolation included), with
   * empty windows, as `circuitBreaker.close()`; voids this instance's isolate() handles.
   */
  close(): void {
    this.#isolationEpoch++;
    this.#holders = 0;
    this.#state.holding = false;
    this.#state.close('closed-manually');
    void this.#sync.once('close', () => this.#call('close', 0));
  }

  /**
   * Low-level admission, for streaming calls and libraries that do their own I/O (as
   * `circuitBreaker.tryAcquire()`): a permit if the call may go ahead (report its outcome with
   * `success(ms)` / `failure(ms)`, or `ignore()`), `undefined` if the circuit rejects it.
   */
  tryAcquire(): FleetCircuitPermit | undefined {
    const state = this.#state;
    const generation = state.mode === CLOSED ? state.generation : this.#admit();
    if (generation < 0) {
      if (this.#reject.hasListeners || telemetry.hasSubscribers) {
        this.#rejection(generation, undefined);
      }
      return undefined;
    }
    return new FleetCircuitPermit(this.#settlePermit, generation);
  }

  readonly #settlePermit = (generation: number, outcome: 0 | 1 | 2, duration: number): void => {
    if (outcome === 2) {
      this.#state.release(generation);
      return;
    }
    if (generation !== this.#state.generation) return;
    const action = this.#state.complete(
      generation,
      outcome === 1,
      duration > this.#slowMs,
      this.#needsTime ? this.#clock.now() : Number.NaN,
      this.#sync.failing,
    );
    this.#act(action);
  };

  /** Admission when not closed; a refusal for want of a permit asks the store for one. */
  #admit(): number {
    const state = this.#state;
    const generation = state.admit(this.#clock.now(), this.#sync.failing);
    if (generation === REJECT && state.wantPermit) this.#sync.kick();
    return generation;
  }

  /**
   * Stops the background sync; the breaker keeps its last state, on local decisions. (Not
   * `close()`: on `circuitBreaker` that forces the circuit closed.) Not needed for the process to
   * exit: the sync timer is unref'd.
   */
  dispose(): void {
    this.#sync.close();
  }

  describe(): PolicyDescription {
    return this.#description;
  }

  onStateChange(listener: Listener<StateChangeEvent>): () => void {
    return this.#stateChange.subscribe(listener);
  }

  onOpen(listener: Listener<OpenEvent>): () => void {
    return this.#open.subscribe(listener);
  }

  onHalfOpen(listener: Listener<TransitionEvent>): () => void {
    return this.#halfOpen.subscribe(listener);
  }

  onClose(listener: Listener<TransitionEvent>): () => void {
    return this.#close.subscribe(listener);
  }

  onReject(listener: Listener<RejectEvent>): () => void {
    return this.#reject.subscribe(listener);
  }

  onFailure(listener: Listener<FailureEvent>): () => void {
    return this.#failure.subscribe(listener);
  }

  /** A store step failed: the breaker now decides locally. */
  onStoreFailure(listener: Listener<FleetStoreFailureEvent>): () => void {
    return this.#sync.onStoreFailure(listener);
  }

  /** The store answered again: the breaker follows the shared state again. */
  onRejoin(listener: Listener<FleetRejoinEvent>): () => void {
    return this.#sync.onRejoin(listener);
  }

  // --- outcomes --------------------------------------------------------------------------

  #settle(
    generation: number,
    start: number,
    outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
    ctx: ExecutionContext,
    subject: unknown,
  ): string {
    let verdict: string;
    try {
      verdict = this.#classifier.classify(outcome, ctx);
    } catch (error) {
      this.#state.release(generation);
      throw error;
    }
    if (verdict === 'aborted') {
      this.#state.release(generation);
      return verdict;
    }
    const handled = verdict === 'handled';
    if (handled && this.#failure.hasListeners && generation === this.#state.generation) {
      this.#failure.emit({ error: subject, state: STATE_NAMES[this.#state.mode]! });
    }
    this.#count(generation, handled, start);
    return verdict;
  }

  #count(generation: number, failed: boolean, start: number): void {
    const state = this.#state;
    if (generation !== state.generation) return;
    const now = this.#timed || this.#needsTime ? this.#clock.now() : Number.NaN;
    const slow = this.#timed && now - start > this.#slowMs;
    this.#act(state.complete(generation, failed, slow, now, this.#sync.failing));
  }

  #act(action: number): void {
    if (action === NOTHING) return;
    if (action === SYNC_NOW) {
      // One early step per trip: with quorum > 1 a sick instance keeps tripping on every
      // failure, and its window reaches the store with the next step anyway.
      if (!this.#tripSent) {
        this.#tripSent = true;
        this.#sync.kick();
      }
      return;
    }
    void this.#report(action === REPORT_SUCCESS, this.#state.reportToken);
  }

  /** Reports a fleet probe's result; on store failure, decides on local state. */
  async #report(success: boolean, token: number): Promise<void> {
    const ok = await this.#sync.once('report', () =>
      this.#call(success ? 'success' : 'failure', token),
    );
    if (!ok) this.#state.reportFailed(success, this.#clock.now());
  }

  // --- the store ---------------------------------------------------------------------------

  #request(op: BreakerRequest['op'], token: number): BreakerRequest {
    const window = this.#state.window;
    return {
      op,
      instance: this.#instance,
      seen: this.#state.breakId,
      calls: window.calls,
      failures: window.failures,
      slow: window.slow,
      rule: this.#rule,
      quorum: this.#quorum,
      stale: this.#stale,
      breaks: this.#breaks,
      token,
      holding: this.#holders > 0,
    };
  }

  async #step(): Promise<void> {
    const state = this.#state;
    // Ask for the probe permit only when a call wanted it: an idle instance leaves the probe to
    // the instances that have traffic.
    const op = state.wantPermit && state.mode !== CLOSED ? 'probe' : 'sync';
    state.wantPermit = false;
    this.#tripSent = false;
    await this.#call(op, 0);
  }

  /** One store request; its reply is adopted unless a newer one already was. */
  async #call(op: BreakerRequest['op'], token: number): Promise<void> {
    const seq = ++this.#sent;
    const reply = await this.#store.breaker(this.#name, this.#request(op, token));
    if (seq < this.#adopted) return;
    this.#adopted = seq;
    this.#state.adopt(reply, this.#clock.now());
  }

  // --- events ------------------------------------------------------------------------------

  #rejection(code: number, ctx: ExecutionContext | undefined): Error {
    if (code === REJECT_ISOLATED) {
      if (this.#reject.hasListeners)
        this.#reject.emit({ state: 'isolated', retryAfter: undefined });
      const error = new IsolatedCircuitError();
      if (telemetry.hasSubscribers) {
        publishEvent(this.#identity, ctx, 'circuit-rejected', this.#clock.now(), error, {
          state: 'isolated',
        });
      }
      return error;
    }
    const state = this.#state;
    const retryAfter = state.retryAfter();
    const open = state.mode !== HALF_OPEN;
    if (this.#reject.hasListeners) {
      this.#reject.emit({ state: open ? 'open' : 'half-open', retryAfter });
    }
    const error = new BrokenCircuitError(
      retryAfter,
      open ? 'circuit is open' : 'circuit is half-open and the fleet probe is elsewhere',
    );
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, ctx, 'circuit-rejected', this.#clock.now(), error, {
        state: open ? 'open' : 'half-open',
      });
    }
    return error;
  }

  #transitioned(from: number, to: number, reason: TransitionReason): void {
    if (this.#stateChange.hasListeners) {
      this.#stateChange.emit({ from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, reason });
    }
    if (to === HALF_OPEN && this.#halfOpen.hasListeners) this.#halfOpen.emit({ reason });
    if (to === CLOSED && this.#close.hasListeners) this.#close.emit({ reason });
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, undefined, STATE_EVENTS[to]!, this.#clock.now(), undefined, {
        from: STATE_NAMES[from]!,
        reason,
      });
    }
  }

  #opened(
    reason: FleetOpenReason,
    attempt: number,
    breakDuration: number,
    failures: number,
    failureRate: number,
  ): void {
    if (this.#open.hasListeners) {
      this.#open.emit({ reason, attempt, breakDuration, failures, failureRate });
    }
  }
}

/**
 * Creates a {@link FleetBreaker}: a circuit breaker shared by every instance of a service.
 *
 * - Each instance publishes its window every `sync` ms; the store opens the circuit for all when
 *   the sum of the windows trips and at least `quorum` instances have failures.
 * - Every instance rejects within one `sync` of the opening.
 * - Half-open: exactly one probe per break in the whole fleet, through a store-side permit that
 *   expires after `breakDuration` (a probe that dies does not wedge the fleet).
 * - The call path never waits on the store; when it fails the instance runs on local state.
 *
 * @example
 * ```ts
 * const breaker = fleetBreaker({ store, name: 'payments', trip: consecutiveFailures(5) });
 * const res = await breaker.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function fleetBreaker(options: FleetBreakerOptions): FleetBreaker {
  return new FleetBreaker(options);
}
