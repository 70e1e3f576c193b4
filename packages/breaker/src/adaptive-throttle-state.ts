import type { Clock } from '@faultline/clock';
import { RollingCounters } from './rolling-counters.js';

// Counter fields of the rolling window.
const REQUESTS = 0;
const ACCEPTS = 1;

/**
 * The adaptive throttle's state (Beyer et al., "Site Reliability Engineering", ch. 21 "Handling
 * Overload", "Client-side throttling"): over a rolling window, the requests the client attempted
 * (locally rejected ones included) and those the backend accepted, and from them the probability
 * of rejecting the next request locally,
 *
 *     max(0, (requests − K · accepts) / (requests + 1))
 *
 * The window expires slices by time, whatever the traffic. Expiring is not a change of state
 * (the counts as of a time are the same whenever they are computed), so the readers may do it.
 */
export class AdaptiveThrottleState {
  readonly #k: number;
  readonly #minimumRequests: number;
  readonly #clock: Clock;
  readonly #counters: RollingCounters;
  /**
   * The newest slice that counted a request without an accept (a backend rejection or a local
   * one); `undefined` if none ever did. While every live slice has as many accepts as requests,
   * `requests − K · accepts ≤ 0` exactly (K ≥ 1, and rounding is monotonic), so the probability
   * is 0 whatever expires: admission then needs neither the clock nor a draw.
   */
  #unacceptedSlice: number | undefined;

  constructor(k: number, minimumRequests: number, window: number, buckets: number, clock: Clock) {
    this.#k = k;
    this.#minimumRequests = minimumRequests;
    this.#clock = clock;
    this.#counters = new RollingCounters(window, buckets, 2, clock);
  }

  /** Requests in the window now: answered ones and locally rejected ones. */
  requests(): number {
    this.#counters.advance(this.#clock.now());
    return this.#counters.total(REQUESTS);
  }

  /** Requests the backend accepted in the window now. */
  accepts(): number {
    this.#counters.advance(this.#clock.now());
    return this.#counters.total(ACCEPTS);
  }

  /** The probability that a request made now is rejected locally. */
  probability(): number {
    this.#counters.advance(this.#clock.now());
    return this.#probability();
  }

  /**
   * Decides a request now: `undefined` to send it, or the probability it was rejected at.
   * `draw` is called (once) only when that probability is above 0. A locally rejected request
   * counts as a request at once (the book's "requests" are attempts, throttled ones included);
   * a sent one counts when it is {@link answered}.
   */
  admit(draw: () => number): number | undefined {
    const counters = this.#counters;
    const unaccepted = this.#unacceptedSlice;
    // Every live slice (as of the last advance, so also now) accepted all it counted: p is 0.
    if (unaccepted === undefined || counters.head - unaccepted >= counters.buckets) {
      return undefined;
    }
    counters.advance(this.#clock.now());
    const p = this.#probability();
    if (p > 0 && draw() < p) {
      counters.add(REQUESTS);
      this.#unacceptedSlice = counters.head;
      return p;
    }
    return undefined;
  }

  /**
   * A sent request's outcome is known now: it counts as a request, and as an accept if
   * accepted. Counted when answered, never while in flight (as grpc-java's `AdaptiveThrottler`
   * registers it with the backend's response): counted at send time, the i-th of a burst of first
   * calls would see `i / (i + 1)` with no answer back yet, and a fresh client would reject most
   * of a burst to a healthy backend.
   */
  answered(accepted: boolean): void {
    const counters = this.#counters;
    // Dated without a clock read while the newest slice is known to be current (on systemClock).
    counters.tick();
    counters.add(REQUESTS);
    if (accepted) counters.add(ACCEPTS);
    else this.#unacceptedSlice = counters.head;
  }

  #probability(): number {
    const counters = this.#counters;
    const requests = counters.total(REQUESTS);
    if (requests < this.#minimumRequests) return 0;
    const p = (requests - this.#k * counters.total(ACCEPTS)) / (requests + 1);
    return p > 0 ? p : 0;
  }
}
