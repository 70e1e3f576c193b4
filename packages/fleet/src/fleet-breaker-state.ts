import type { CircuitState, TransitionReason, TripState } from '@faultline/breaker';
import type { FleetWindow } from './fleet-window.js';
import type { BreakerReply, FleetOpenReason } from './store.js';

export const CLOSED = 0;
export const OPEN = 1;
export const HALF_OPEN = 2;
export const ISOLATED = 3;
export const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** Admission results below zero are rejections; zero and above are the admitting generation. */
export const REJECT = -1;
export const REJECT_ISOLATED = -2;

/** What the policy must do after an outcome. */
export const NOTHING = 0;
/** The local window tripped: ask the store now (the fleet decides whether to open). */
export const SYNC_NOW = 1;
/** A fleet probe ended: report it to the store with {@link FleetCircuitState.reportToken}. */
export const REPORT_SUCCESS = 2;
export const REPORT_FAILURE = 3;

/** Told of every transition (the policy turns them into events and telemetry). */
export interface TransitionSink {
  transition(from: number, to: number, reason: TransitionReason): void;
  opened(
    reason: FleetOpenReason,
    attempt: number,
    breakMs: number,
    failures: number,
    rate: number,
  ): void;
}

/**
 * One instance's view of a shared circuit (closed / open / half-open), kept in step with the
 * store's replies ({@link adopt}) and running on its own when the store fails (`local`):
 *
 * - closed: calls run; the trip strategy and the published window count their outcomes. A trip
 *   asks the store at once (the fleet's aggregate and quorum decide); on local state it opens.
 * - open: calls are rejected until the break has elapsed (computed when read, as circuitBreaker).
 * - half-open: one probe per break *fleet-wide*: a call runs only with the store's permit (asked
 *   for in the background when a call is refused for want of one); on local state, one local
 *   probe. A probe that neither succeeds nor fails for a break duration is abandoned.
 *
 * Outcomes count only in the generation that admitted them (as circuitBreaker).
 */
export class FleetCircuitState {
  readonly #trip: TripState;
  readonly #window: FleetWindow;
  readonly #breaks: readonly number[];
  /** Length of the current (or last) break. */
  #breakMs: number;
  readonly #sink: TransitionSink;
  readonly #clock: () => number;

  mode = CLOSED;
  generation = 0;
  /** The store's break id as last seen (0: never opened). */
  breakId = 0;
  /** Local clock time the current break ends. */
  openUntil = 0;
  attempt = 0;
  /** Whether the current opening was decided locally (store failing). */
  localBreak = false;
  /** A probe permit held (0: none), and when it was granted. */
  permit = 0;
  permitAt = 0;
  /** A probe in flight: its permit (0: a local probe) and start. */
  probing = false;
  probeToken = 0;
  probeAt = 0;
  /** The token of the fleet probe that just ended (for the report). */
  reportToken = 0;
  /** A call was refused for want of a permit since the last store step. */
  wantPermit = false;
  /** When the last rejection was decided (for retryAfter). */
  rejectedAt = 0;

  constructor(
    trip: TripState,
    window: FleetWindow,
    breaks: readonly number[],
    sink: TransitionSink,
    clock: () => number,
  ) {
    this.#clock = clock;
    this.#trip = trip;
    this.#window = window;
    this.#breaks = breaks;
    this.#breakMs = breaks[0]!;
    this.#sink = sink;
  }

  get window(): FleetWindow {
    return this.#window;
  }

  /** The state as read now; an elapsed break reads as half-open (without moving). */
  peek(now: number): CircuitState {
    if (this.mode === OPEN && now >= this.openUntil) return 'half-open';
    return STATE_NAMES[this.mode]!;
  }

  /** Admission when not closed. `local`: the store is failing. */
  admit(now: number, local: boolean): number {
    if (this.mode === CLOSED) return this.generation;
    if (this.mode === ISOLATED) return REJECT_ISOLATED;
    if (this.mode === OPEN) {
      if (now < this.openUntil) {
        this.rejectedAt = now;
        return REJECT;
      }
      this.#toHalfOpen();
    }
    if (this.probing) {
      if (now - this.probeAt < this.#breakMs) {
        this.rejectedAt = now;
        return REJECT;
      }
      // Hung probe: abandoned (its outcome no longer counts; its permit has expired too).
      this.probing = false;
      this.generation++;
    }
    if (this.permit !== 0 && now - this.permitAt >= this.#breakMs) this.permit = 0;
    if (!local && !this.localBreak) {
      if (this.permit === 0) {
        this.wantPermit = true;
        this.rejectedAt = now;
        return REJECT;
      }
      this.probeToken = this.permit;
      this.permit = 0;
    } else {
      this.probeToken = 0;
    }
    this.probing = true;
    this.probeAt = now;
    return this.generation;
  }

  /** Ms until a call may pass again, at the last rejection. */
  retryAfter(): number {
    const now = this.rejectedAt;
    if (this.mode === OPEN) return Math.max(0, this.openUntil - now);
    if (this.probing) return Math.max(0, this.#breakMs - (now - this.probeAt));
    return 0;
  }

  /** Counts one outcome admitted in `generation`; returns what the policy must do next. */
  complete(
    generation: number,
    failed: boolean,
    slow: boolean,
    now: number,
    local: boolean,
  ): number {
    if (generation !== this.generation) return NOTHING;
    // NaN when the caller did not need the clock: read it only to open the circuit.
    if ((failed || slow) && Number.isNaN(now)) now = this.#clock();
    if (this.mode === CLOSED) {
      this.#window.record(failed, slow, now);
      if (!this.#trip.record(failed, slow, now)) return NOTHING;
      if (!local) return SYNC_NOW;
      this.open(
        now,
        'failure-threshold',
        this.attempt + 1,
        this.#trip.failures,
        this.#trip.failureRate,
      );
      this.localBreak = true;
      return NOTHING;
    }
    if (this.mode !== HALF_OPEN || !this.probing) return NOTHING;
    this.probing = false;
    const token = this.probeToken;
    if (token !== 0) {
      // A fleet probe: the store closes or reopens the circuit for everyone; until its reply
      // (one round trip) this instance stays half-open and refuses calls.
      this.generation++;
      this.reportToken = token;
      return failed || slow ? REPORT_FAILURE : REPORT_SUCCESS;
    }
    if (failed || slow) {
      this.open(now, 'probe-failed', this.attempt + 1, 0, 0);
      this.localBreak = true;
    } else {
      this.close('probes-succeeded');
    }
    return NOTHING;
  }

  /** A call ended without an outcome worth counting: its probe's permit serves the next call. */
  release(generation: number): void {
    if (generation !== this.generation || this.mode !== HALF_OPEN || !this.probing) return;
    this.probing = false;
    if (this.probeToken !== 0) this.permit = this.probeToken;
  }

  /** A fleet probe's report could not reach the store: decide on local state. */
  reportFailed(success: boolean, now: number): void {
    if (this.mode !== HALF_OPEN || this.probing) return;
    if (success) this.close('probes-succeeded');
    else {
      this.open(now, 'probe-failed', this.attempt + 1, 0, 0);
      this.localBreak = true;
    }
  }

  /** Held isolated by this instance's own `isolate()` handles. */
  holding = false;

  /** Isolates at once (this instance's handle, or the fleet's isolation seen in a reply). */
  isolate(): void {
    if (this.mode === ISOLATED) return;
    const from = this.mode;
    this.mode = ISOLATED;
    this.generation++;
    this.probing = false;
    this.permit = 0;
    this.#sink.transition(from, ISOLATED, 'isolated');
  }

  /**
   * Takes the store's view (the store's state wins over a local decision). An isolation seen
   * before wins over the rest of the reply; its end closes the circuit ('released').
   */
  adopt(reply: BreakerReply, now: number): void {
    if (reply.isolated || this.holding) {
      if (reply.breakId !== this.breakId) this.breakId = reply.breakId;
      this.isolate();
      return;
    }
    if (this.mode === ISOLATED) this.close('released');
    if (reply.open) {
      if (reply.breakId !== this.breakId || this.mode === CLOSED || this.localBreak) {
        this.breakId = reply.breakId;
        this.localBreak = false;
        this.probing = false;
        this.permit = 0;
        this.#trip.reset();
        this.#window.reset();
        this.open(
          now,
          reply.reason,
          reply.attempt,
          reply.failures,
          reply.failureRate,
          reply.breakDuration,
        );
        this.openUntil = now + reply.remaining;
      } else if (this.mode === OPEN) {
        this.openUntil = now + reply.remaining;
      }
      if (reply.token !== 0) {
        this.permit = reply.token;
        this.permitAt = now;
      }
      return;
    }
    if (reply.breakId !== this.breakId) {
      this.breakId = reply.breakId;
      this.#trip.reset();
      this.#window.reset();
    }
    if (this.mode !== CLOSED) this.close('probes-succeeded');
  }

  /** Opens for `breakMs` (default: the n-th break of the schedule, n = `attempt`). */
  open(
    now: number,
    reason: FleetOpenReason,
    attempt: number,
    failures: number,
    rate: number,
    breakMs = this.#breaks[Math.min(attempt, this.#breaks.length) - 1]!,
  ): void {
    const from = this.mode;
    this.mode = OPEN;
    this.generation++;
    this.attempt = attempt;
    this.#breakMs = breakMs;
    this.openUntil = now + breakMs;
    this.probing = false;
    this.permit = 0;
    if (from !== OPEN) this.#sink.transition(from, OPEN, reason);
    this.#sink.opened(reason, attempt, this.#breakMs, failures, rate);
  }

  #toHalfOpen(): void {
    this.mode = HALF_OPEN;
    this.generation++;
    this.probing = false;
    this.#sink.transition(OPEN, HALF_OPEN, 'break-elapsed');
  }

  close(reason: TransitionReason): void {
    const from = this.mode;
    this.mode = CLOSED;
    this.generation++;
    this.attempt = 0;
    this.localBreak = false;
    this.probing = false;
    this.permit = 0;
    this.#trip.reset();
    this.#window.reset();
    if (from !== CLOSED) this.#sink.transition(from, CLOSED, reason);
  }
}
