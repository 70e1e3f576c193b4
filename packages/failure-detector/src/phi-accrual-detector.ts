import type { Clock } from '@faultline/clock';
import type { FailureDetector } from './failure-detector.js';
import { HeartbeatHistory, type HeartbeatStatistics } from './heartbeat-history.js';
import { phi, standardizedElapsedForPhi } from './phi.js';
import {
  type PhiAccrualDetectorOptions,
  resolvePhiAccrualDetectorOptions,
} from './phi-accrual-detector-options.js';

/**
 * The phi accrual failure detector (Hayashibara et al., 2004) with Akka's semantics
 * (`akka.remote.PhiAccrualFailureDetector`): instead of a yes/no timeout it reports how
 * suspicious the silence of a peer is, given how regularly that peer's heartbeats arrived so far.
 *
 * With `Δ` the time since the last heartbeat, `μ` the mean interval plus
 * `acceptableHeartbeatPause` and `σ = max(stdDeviation, minStdDeviation)`,
 * `phi = -log10(1 - F(Δ))` where F is the normal CDF N(μ, σ) (see {@link phi}).
 *
 * ```ts
 * const detector = new PhiAccrualDetector({ threshold: 8 });
 * onHeartbeatMessage(() => detector.heartbeat());
 * if (!detector.isAvailable()) markDown(peer);
 * ```
 */
export class PhiAccrualDetector implements FailureDetector {
  readonly threshold: number;
  readonly maxSampleSize: number;
  readonly minStdDeviation: number;
  readonly acceptableHeartbeatPause: number;
  readonly firstHeartbeatEstimate: number;
  readonly #clock: Clock;
  readonly #history: HeartbeatHistory;
  /** Standardized elapsed time at which phi reaches the threshold (depends on threshold only). */
  readonly #crossing: number;
  #monitoring = false;
  #last = 0;
  /** `mean + acceptableHeartbeatPause` and the floored σ, cached when the history changes. */
  #mu = 0;
  #sigma = 1;
  /** The elapsed time at which phi reaches the threshold, cached with μ and σ. */
  #crossingElapsed = 0;

  /** Validates `options` (see {@link resolvePhiAccrualDetectorOptions}). */
  constructor(options?: PhiAccrualDetectorOptions) {
    const resolved = resolvePhiAccrualDetectorOptions(options);
    this.threshold = resolved.threshold;
    this.maxSampleSize = resolved.maxSampleSize;
    this.minStdDeviation = resolved.minStdDeviation;
    this.acceptableHeartbeatPause = resolved.acceptableHeartbeatPause;
    this.firstHeartbeatEstimate = resolved.firstHeartbeatEstimate;
    this.#clock = resolved.clock;
    this.#history = new HeartbeatHistory(this.maxSampleSize);
    this.#crossing = standardizedElapsedForPhi(this.threshold);
  }

  /** `true` once a heartbeat has been recorded. */
  get isMonitoring(): boolean {
    return this.#monitoring;
  }

  /** The learned inter-arrival statistics (read-only view). */
  get history(): HeartbeatStatistics {
    return this.#history;
  }

  /**
   * Records a heartbeat now. The first one seeds the history with two intervals around
   * `firstHeartbeatEstimate`, so that a peer that sends a single heartbeat still becomes
   * unavailable. Later ones append the interval since the previous heartbeat only if the peer is
   * available at this moment: the first heartbeat after a failure would skew the statistics with
   * the length of the outage (Akka). The timestamp is updated either way.
   */
  heartbeat(): void {
    const now = this.#clock.now();
    if (!this.#monitoring) {
      // Akka: `stdDeviation = mean / 4` on Long millis, i.e. integer division.
      const estimate = this.firstHeartbeatEstimate;
      const quarter = Math.floor(estimate / 4);
      this.#history.clear();
      this.#history.add(estimate - quarter);
      this.#history.add(estimate + quarter);
      this.#monitoring = true;
      this.#refreshStatistics();
    } else if (this.#availableAfter(now - this.#last)) {
      this.#history.add(now - this.#last);
      this.#refreshStatistics();
    }
    this.#last = now;
  }

  /** The current suspicion level; 0 before the first heartbeat (an unknown peer is healthy). */
  phi(): number {
    if (!this.#monitoring) return 0;
    return phi(this.#clock.now() - this.#last, this.#mu, this.#sigma);
  }

  /** `phi() < threshold`. */
  isAvailable(): boolean {
    return !this.#monitoring || this.#availableAfter(this.#clock.now() - this.#last);
  }

  /**
   * Milliseconds from now until phi reaches `threshold` if no heartbeat arrives (phi is strictly
   * increasing in the elapsed time, so this inverts it in closed form; see `elapsedForPhi`).
   * 0 when already unavailable; `Infinity` before the first heartbeat. A principled timeout.
   */
  timeUntilUnavailable(): number {
    if (!this.#monitoring) return Number.POSITIVE_INFINITY;
    const left = this.#crossingElapsed - (this.#clock.now() - this.#last);
    return left > 0 ? left : 0;
  }

  #refreshStatistics(): void {
    const history = this.#history;
    this.#mu = history.mean + this.acceptableHeartbeatPause;
    const sd = history.stdDeviation;
    this.#sigma = sd > this.minStdDeviation ? sd : this.minStdDeviation;
    this.#crossingElapsed = this.#mu + this.#crossing * this.#sigma;
  }

  /**
   * `phi(elapsed) < threshold` without computing phi: phi is strictly increasing in the elapsed
   * time, so it is below the threshold exactly before the crossing. Within a nanosecond of the
   * crossing (rounding), phi itself decides, so that this always agrees with `phi()`.
   */
  #availableAfter(elapsed: number): boolean {
    const margin = elapsed - this.#crossingElapsed;
    if (margin < -1e-6) return true;
    if (margin > 1e-6) return false;
    return phi(elapsed, this.#mu, this.#sigma) < this.threshold;
  }
}
