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
 * Every method takes the clock reading: the window expires slices by time, whatever the traffic.
 * Expiring is not a change of state (the counts as of `now` are the same whenever they are
 * computed), so the readers below may do it.
 */
export class AdaptiveThrottleState {
  readonly #k: number;
  readonly #minimumRequests: number;
  readonly #counters: RollingCounters;

  constructor(k: number, minimumRequests: number, window: number, buckets: number) {
    this.#k = k;
    this.#minimumRequests = minimumRequests;
    this.#counters = new RollingCounters(window, buckets, 2);
  }

  /** Requests in the window at `now`: answered ones and locally rejected ones. */
  requests(now: number): number {
    this.#counters.advance(now);
    return this.#counters.total(REQUESTS);
  }

  /** Requests the backend accepted in the window at `now`. */
  accepts(now: number): number {
    this.#counters.advance(now);
    return this.#counters.total(ACCEPTS);
  }

  /** The probability that a request made at `now` is rejected locally. */
  probability(now: number): number {
    this.#counters.advance(now);
    return this.#probability();
  }

  /**
   * Decides a request at `now`: `undefined` to send it, or the probability it was rejected at.
   * `draw` is called (once) only when that probability is above 0. A locally rejected request
   * counts as a request at once (the book's "requests" are attempts, throttled ones included);
   * a sent one counts when it is {@link answered}.
   */
  admit(now: number, draw: () => number): number | undefined {
    const counters = this.#counters;
    counters.advance(now);
    const p = this.#probability();
    if (p > 0 && draw() < p) {
      counters.add(REQUESTS);
      return p;
    }
    return undefined;
  }

  /**
   * A sent request's outcome is known at `now`: it counts as a request, and as an accept if
   * accepted. Counted when answered, never while in flight (as grpc-java's `AdaptiveThrottler`
   * registers it with the backend's response): counted at send time, the i-th of a burst of first
   * calls would see `i / (i + 1)` with no answer back yet, and a fresh client would reject most
   * of a burst to a healthy backend.
   */
  answered(now: number, accepted: boolean): void {
    const counters = this.#counters;
    counters.advance(now);
    counters.add(REQUESTS);
    if (accepted) counters.add(ACCEPTS);
  }

  #probability(): number {
    const counters = this.#counters;
    const requests = counters.total(REQUESTS);
    if (requests < this.#minimumRequests) return 0;
    const p = (requests - this.#k * counters.total(ACCEPTS)) / (requests + 1);
    return p > 0 ? p : 0;
  }
}
