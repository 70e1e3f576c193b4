import type { Clock } from '@faultline/clock';
import type { ExecutionContext } from '@faultline/core';
import type { BreakSchedule } from './break-duration.js';
import type { CircuitBreakerTransitionReason } from './circuit-breaker-events.js';
import type { CircuitSnapshot, CircuitState } from './snapshot.js';
import type { TripState } from './trip-strategy.js';

/**
 * Calls run; the trip strategy counts their outcomes. A new object each time the circuit
 * closes, so a call admitted before a transition cannot count after it (see {@link Admission}).
 */
export interface ClosedState {
  readonly kind: 'closed';
}

/** What an opening carries into half-open and into the next re-opening. */
interface Opening {
  /** Consecutive openings since the circuit last closed (1 for the first). */
  readonly attempt: number;
  /** The break of the current opening, ms. */
  readonly breakMs: number;
  /** Failures and failure rate the trip strategy counted when the circuit last tripped. */
  readonly failures: number;
  readonly failureRate: number;
}

/** Calls are rejected until the break has elapsed (`now - openedAt ≥ breakMs`). */
export interface OpenState extends Opening {
  readonly kind: 'open';
  /** Clock reading when the circuit opened (`-Infinity`: a restored break that has elapsed). */
  readonly openedAt: number;
}

/**
 * One round of probes. A new object for each round: when the probes of a round are presumed
 * hung, a new round starts and the abandoned probes' outcomes no longer count.
 */
export interface HalfOpenState extends Opening {
  readonly kind: 'half-open';
  /** Probe slots taken in this round (a probe that ends without an outcome gives its slot back). */
  admitted: number;
  /** Probes of this round that succeeded. */
  succeeded: number;
  /** Clock reading at the round's first admission; `undefined` until a probe is admitted. */
  roundStart: number | undefined;
}

/**
 * Held open by hand. A new object for each isolation: a release handle counts only while the
 * isolation it was given for is the current state (`close()` voids every handle).
 */
export interface IsolatedState {
  readonly kind: 'isolated';
  /** The opening that was current when the circuit was isolated (for snapshots). */
  readonly attempt: number;
  readonly breakMs: number;
  /** Handles not yet released (1 and held by nobody for a restored isolation). */
  holders: number;
}

/** The breaker's state: a tagged union, each variant carrying its own data. */
export type CircuitBreakerState = ClosedState | OpenState | HalfOpenState | IsolatedState;

/** A call turned away, and why: the state that rejected it and when to come back. */
export interface CircuitRejection {
  readonly kind: 'rejected';
  readonly state: Exclude<CircuitState, 'closed'>;
  /** Ms until a call may pass again; `undefined` when isolated (only a release or close ends it). */
  readonly retryAfter: number | undefined;
}

/**
 * The result of asking for admission: the state the call is admitted in (its outcome counts
 * only while that same object is the current state), or the rejection.
 */
export type Admission = ClosedState | HalfOpenState | CircuitRejection;

const ISOLATED_REJECTION: CircuitRejection = Object.freeze({
  kind: 'rejected',
  state: 'isolated',
  retryAfter: undefined,
});

/** Told of every transition, after the new state is in place. */
export type TransitionListener = (
  from: CircuitBreakerState,
  to: CircuitBreakerState,
  reason: CircuitBreakerTransitionReason,
  ctx: ExecutionContext | undefined,
) => void;

/**
 * The circuit breaker's state machine (Nygard, "Release It!"; states as in resilience4j and
 * Polly v8's `CircuitStateController`), separate from the policy that runs calls through it.
 *
 * The machine sets no timer. The open → half-open transition is lazy: it happens when the next
 * call asks for admission ({@link admit}) or the state is changed by hand ({@link isolate},
 * {@link close}). Reading never moves it: {@link current} and {@link snapshot} report what the
 * next admission would find (an elapsed break reads as half-open) and fire nothing.
 *
 * `ctx` is the call that caused a transition, when there is one (not for `isolate()`, `close()`
 * or a permit's report): its pipeline and operation label the telemetry record.
 */
export class CircuitStateMachine {
  readonly #trip: TripState;
  readonly #schedule: BreakSchedule;
  readonly #probes: number;
  readonly #clock: Clock;
  readonly #needsTime: boolean;
  readonly #onTransition: TransitionListener;
  #state: CircuitBreakerState = { kind: 'closed' };

  constructor(
    trip: TripState,
    schedule: BreakSchedule,
    probes: number,
    clock: Clock,
    onTransition: TransitionListener,
  ) {
    this.#trip = trip;
    this.#schedule = schedule;
    this.#probes = probes;
    this.#clock = clock;
    this.#needsTime = trip.needsTime;
    this.#onTransition = onTransition;
  }

  /** The state object as it is now, without applying an elapsed break (for transitions' data). */
  get state(): CircuitBreakerState {
    return this.#state;
  }

  /** The state a call would find now: an elapsed break reads as `'half-open'`. Changes nothing. */
  current(): CircuitState {
    const state = this.#state;
    if (state.kind === 'open' && this.#clock.now() - state.openedAt >= state.breakMs) {
      return 'half-open';
    }
    return state.kind;
  }

  /** Admission of one call (see {@link Admission}). */
  admit(ctx?: ExecutionContext): Admission {
    const state = this.#state;
    return state.kind === 'closed' ? state : this.#admitNotClosed(state, ctx);
  }

  #admitNotClosed(
    state: OpenState | HalfOpenState | IsolatedState,
    ctx: ExecutionContext | undefined,
  ): Admission {
    if (state.kind === 'isolated') return ISOLATED_REJECTION;
    const now = this.#clock.now();
    let round: HalfOpenState;
    if (state.kind === 'open') {
      // The predicate as written: `openedAt + breakMs` rounds, and with fractional clock
      // readings a precomputed end time could end the break one ulp early.
      const left = state.breakMs - (now - state.openedAt);
      if (left > 0) return { kind: 'rejected', state: 'open', retryAfter: left };
      round = this.#toHalfOpen(state, ctx);
    } else {
      round = state;
    }
    if (round.admitted >= this.#probes) {
      // Every probe slot is taken. If none has decided for a whole break duration they are
      // presumed hung: abandon them (their outcomes no longer count) and start a new round.
      const elapsed = now - (round.roundStart as number);
      if (elapsed < round.breakMs) {
        return { kind: 'rejected', state: 'half-open', retryAfter: round.breakMs - elapsed };
      }
      round = this.#newRound(round);
    }
    if (round.roundStart === undefined) round.roundStart = now;
    round.admitted++;
    return round;
  }

  /**
   * Counts the outcome of a call admitted in `admitted`: `failed` (handled), `slow` (over the
   * slow-call duration). `now` is the clock reading if the caller took one. A call admitted
   * before the last transition counts for nothing: its state is gone.
   */
  record(
    admitted: ClosedState | HalfOpenState,
    failed: boolean,
    slow: boolean,
    now: number | undefined,
    ctx?: ExecutionContext,
  ): void {
    if (admitted !== this.#state) return;
    if (admitted.kind === 'closed') {
      if (this.#needsTime && now === undefined) now = this.#clock.now();
      if (this.#trip.record(failed, slow, now ?? 0)) {
        this.#toOpen(now, 'failure-threshold', 1, this.#trip.failures, this.#trip.failureRate, ctx);
      }
    } else if (failed || slow) {
      this.#toOpen(
        now,
        'probe-failed',
        admitted.attempt + 1,
        admitted.failures,
        admitted.failureRate,
        ctx,
      );
    } else if (++admitted.succeeded >= this.#probes) {
      this.#toClosed('probes-succeeded', ctx);
    }
  }

  /** A call admitted in `admitted` ended without a countable outcome: free its probe slot. */
  release(admitted: ClosedState | HalfOpenState): void {
    if (admitted === this.#state && admitted.kind === 'half-open' && admitted.admitted > 0) {
      admitted.admitted--;
    }
  }

  /**
   * Holds the circuit open until the returned function has been called by every holder, or
   * {@link close} is called (which voids every handle).
   */
  isolate(): () => void {
    this.#settleBreak();
    let state = this.#state;
    if (state.kind === 'isolated') {
      state.holders++;
    } else {
      const from = state;
      const isolated: IsolatedState =
        from.kind === 'closed'
          ? { kind: 'isolated', attempt: 0, breakMs: 0, holders: 1 }
          : { kind: 'isolated', attempt: from.attempt, breakMs: from.breakMs, holders: 1 };
      state = isolated;
      this.#transition(from, isolated, 'isolated', undefined);
    }
    const isolation = state;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (isolation !== this.#state) return;
      if (--isolation.holders === 0) this.#toClosed('released', undefined);
    };
  }

  /** Forces the circuit closed (from any state), with an empty window. */
  close(): void {
    this.#settleBreak();
    if (this.#state.kind !== 'closed') this.#toClosed('closed-manually', undefined);
    else this.#trip.reset();
  }

  /**
   * The snapshot of the state (see {@link CircuitSnapshot}). `settled`: report an elapsed break
   * as half-open, as {@link current} does (`toJSON()`); otherwise the state object as it is
   * (the snapshot sent on a transition).
   */
  snapshot(takenAt: number, settled: boolean): CircuitSnapshot {
    const state = this.#state;
    switch (state.kind) {
      case 'closed':
        return {
          version: 1,
          state: 'closed',
          attempt: 0,
          breakDuration: 0,
          remainingBreak: 0,
          takenAt,
        };
      case 'open': {
        const left = state.breakMs - (this.#clock.now() - state.openedAt);
        return {
          version: 1,
          state: settled && left <= 0 ? 'half-open' : 'open',
          attempt: state.attempt,
          breakDuration: state.breakMs,
          remainingBreak: left > 0 ? left : 0,
          takenAt,
        };
      }
      default:
        return {
          version: 1,
          state: state.kind,
          attempt: state.attempt,
          breakDuration: state.breakMs,
          remainingBreak: 0,
          takenAt,
        };
    }
  }

  /**
   * Starts from a snapshot taken `elapsed` ms of wall time ago (monotonic time does not survive
   * a restart, so the remaining break is aged by the wall time that has passed). Fires nothing.
   */
  restore(snapshot: CircuitSnapshot, elapsed: number): void {
    const { attempt, breakDuration: breakMs } = snapshot;
    // The trip counts are not carried over; a re-opening from here reports none.
    const opening = { attempt, breakMs, failures: 0, failureRate: 0 };
    this.#schedule.resume(attempt, { failures: 0, failureRate: 0 });
    switch (snapshot.state) {
      case 'closed':
        return;
      case 'open': {
        const left = snapshot.remainingBreak - elapsed;
        // Backdate the opening so that `left` ms of the break remain (none: it has elapsed).
        const openedAt = left > 0 ? this.#clock.now() - (breakMs - left) : Number.NEGATIVE_INFINITY;
        this.#state = { kind: 'open', ...opening, openedAt };
        return;
      }
      case 'half-open':
        this.#state = {
          kind: 'half-open',
          ...opening,
          admitted: 0,
          succeeded: 0,
          roundStart: undefined,
        };
        return;
      case 'isolated':
        // Held by nobody in this process: only close() lets it go.
        this.#state = { kind: 'isolated', attempt, breakMs, holders: 1 };
        return;
    }
  }

  // --- transitions -----------------------------------------------------------------------

  /** Before a change by hand: an elapsed break first becomes half-open, as `state` reported. */
  #settleBreak(): void {
    const state = this.#state;
    if (state.kind === 'open' && this.#clock.now() - state.openedAt >= state.breakMs) {
      this.#toHalfOpen(state, undefined);
    }
  }

  #toOpen(
    now: number | undefined,
    reason: CircuitBreakerTransitionReason,
    attempt: number,
    failures: number,
    failureRate: number,
    ctx: ExecutionContext | undefined,
  ): void {
    const breakMs = this.#schedule.next({ attempt, failures, failureRate });
    const openedAt = now ?? this.#clock.now();
    const open: OpenState = { kind: 'open', attempt, breakMs, failures, failureRate, openedAt };
    this.#transition(this.#state, open, reason, ctx);
  }

  #toHalfOpen(from: OpenState, ctx: ExecutionContext | undefined): HalfOpenState {
    const round: HalfOpenState = {
      kind: 'half-open',
      attempt: from.attempt,
      breakMs: from.breakMs,
      failures: from.failures,
      failureRate: from.failureRate,
      admitted: 0,
      succeeded: 0,
      roundStart: undefined,
    };
    this.#transition(from, round, 'break-elapsed', ctx);
    return round;
  }

  /** A new probe round in the same half-open state: no transition, nothing fired. */
  #newRound(from: HalfOpenState): HalfOpenState {
    const round: HalfOpenState = { ...from, admitted: 0, succeeded: 0, roundStart: undefined };
    this.#state = round;
    return round;
  }

  #toClosed(reason: CircuitBreakerTransitionReason, ctx: ExecutionContext | undefined): void {
    this.#schedule.reset();
    this.#trip.reset();
    this.#transition(this.#state, { kind: 'closed' }, reason, ctx);
  }

  #transition(
    from: CircuitBreakerState,
    to: CircuitBreakerState,
    reason: CircuitBreakerTransitionReason,
    ctx: ExecutionContext | undefined,
  ): void {
    this.#state = to;
    this.#onTransition(from, to, reason, ctx);
  }
}
