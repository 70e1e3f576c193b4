import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock, optionalNumber } from '@faultline/core';
import type { FailureDetector } from './failure-detector.js';
import {
  HeartbeatHistory,
  type HeartbeatStatistics,
  MAX_SAMPLE_SIZE,
} from './heartbeat-history.js';
import { phi, standardizedElapsedForPhi } from './phi.js';

/** Options of {@link PhiAccrualDetector}. Durations in ms. Defaults are Akka's cluster detector. */
export interface PhiAccrualDetectorOptions {
  /**
   * Suspicion level at which the peer is considered unavailable (> 0). Default 8: a 10⁻⁸ chance
   * of a mistake under the learned distribution. Lower detects faster and suspects wrongly more.
   */
  readonly threshold?: number;
  /** How many recent intervals the statistics use (integer in [1, 10 000]). Default 1000. */
  readonly maxSampleSize?: number;
  /**
   * Floor on the standard deviation (> 0). Default 100. Very regular heartbeats would otherwise
   * make phi jump at the slightest delay.
   */
  readonly minStdDeviation?: number;
  /**
   * Extra time tolerated before phi starts to rise (>= 0), added to the mean: lost or delayed
   * heartbeats, GC pauses, network hiccups. Default 3000.
   */
  readonly acceptableHeartbeatPause?: number;
  /**
   * Guess of the heartbeat interval used until real intervals arrive (> 0). Default 1000. The
   * first heartbeat seeds the history with `est - ⌊est/4⌋` and `est + ⌊est/4⌋` (Akka).
   */
  readonly firstHeartbeatEstimate?: number;
  /** Time source. Default `systemClock`. */
  readonly clock?: Clock;
}

const OWNER = 'PhiAccrualDetector';

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

  constructor(options?: PhiAccrualDetectorOptions) {
    const o = checkOptions<PhiAccrualDetectorOptions>(OWNER, options);
    this.threshold = optionalNumber(OWNER, 'threshold', o.threshold, 8, {
      min: 0,
      minExclusive: true,
    });
    this.maxSampleSize = optionalNumber(OWNER, 'maxSampleSize', o.maxSampleSize, 1000, {
      min: 1,
      max: MAX_SAMPLE_SIZE,
      integer: true,
    });
    this.minStdDeviation = optionalNumber(OWNER, 'minStdDeviation', o.minStdDeviation, 100, {
      min: 0,
      minExclusive: true,
    });
    this.acceptableHeartbeatPause = optionalNumber(
      OWNER,
      'acceptableHeartbeatPause',
      o.acceptableHeartbeatPause,
      3000,
      { min: 0 },
    );
    this.firstHeartbeatEstimate = optionalNumber(
      OWNER,
      'firstHeartbeatEstimate',
      o.firstHeartbeatEstimate,
      1000,
      { min: 0, minExclusive: true },
    );
    // The failure detectors ask for now() and setTimer() (none of them sleeps).
    this.#clock = optionalClock(OWNER, 'clock', o.clock, ['now', 'setTimer']);
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
