import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock, optionalNumber } from '@faultline/core';
import type { FailureDetector } from './failure-detector.js';
import {
  HeartbeatHistory,
  type HeartbeatStatistics,
  MAX_SAMPLE_SIZE,
} from './heartbeat-history.js';

/** Options of {@link ExponentialDetector}. Durations in ms. */
export interface ExponentialDetectorOptions {
  /** Suspicion level at which the peer is considered unavailable (> 0). Default 8 (Cassandra's `phi_convict_threshold`). */
  readonly threshold?: number;
  /** How many recent intervals the mean uses (integer >= 1). Default 1000 (Cassandra's window). */
  readonly maxSampleSize?: number;
  /** The interval the first heartbeat seeds the window with (> 0). Default 1000. */
  readonly initialInterval?: number;
  /**
   * Longer intervals are not learned (> 0), so that one long partition does not teach the
   * detector to tolerate long silences. Default `10 · initialInterval`.
   */
  readonly maxInterval?: number;
  /** Time source. Default `systemClock`. */
  readonly clock?: Clock;
}

const OWNER = 'ExponentialDetector';

/**
 * Cassandra's failure detector (`org.apache.cassandra.gms.FailureDetector`, CASSANDRA-2597):
 * phi accrual with exponentially distributed inter-arrival times, where
 * `phi = -log10(e^(-Δ/mean)) = Δ / (mean · ln 10)`. Simpler and cheaper than the normal model,
 * and robust to jittery heartbeats (gossip), at the cost of ignoring their variance.
 */
export class ExponentialDetector implements FailureDetector {
  readonly threshold: number;
  readonly maxSampleSize: number;
  readonly initialInterval: number;
  readonly maxInterval: number;
  readonly #clock: Clock;
  readonly #history: HeartbeatHistory;
  #monitoring = false;
  #last = 0;
  /** `mean · ln 10`, cached when the window changes. */
  #scale = 1;

  constructor(options?: ExponentialDetectorOptions) {
    const o = checkOptions<ExponentialDetectorOptions>(OWNER, options);
    this.threshold = optionalNumber(OWNER, 'threshold', o.threshold, 8, {
      min: 0,
      minExclusive: true,
    });
    this.maxSampleSize = optionalNumber(OWNER, 'maxSampleSize', o.maxSampleSize, 1000, {
      min: 1,
      max: MAX_SAMPLE_SIZE,
      integer: true,
    });
    this.initialInterval = optionalNumber(OWNER, 'initialInterval', o.initialInterval, 1000, {
      min: 0,
      minExclusive: true,
    });
    this.maxInterval = optionalNumber(
      OWNER,
      'maxInterval',
      o.maxInterval,
      10 * this.initialInterval,
      { min: 0, minExclusive: true },
    );
    // The failure detectors ask for now() and setTimer() (none of them sleeps).
    this.#clock = optionalClock(OWNER, 'clock', o.clock, ['now', 'setTimer']);
    this.#history = new HeartbeatHistory(this.maxSampleSize);
  }

  get isMonitoring(): boolean {
    return this.#monitoring;
  }

  /** The learned inter-arrival statistics (read-only view). */
  get history(): HeartbeatStatistics {
    return this.#history;
  }

  /**
   * Records a heartbeat now. The first one seeds the window with `initialInterval`; later ones
   * append the interval since the previous heartbeat unless it exceeds `maxInterval` (Cassandra's
   * `ArrivalWindow.add`). The timestamp is updated either way.
   */
  heartbeat(): void {
    const now = this.#clock.now();
    if (!this.#monitoring) {
      this.#history.add(this.initialInterval);
      this.#monitoring = true;
      this.#scale = this.#history.mean * Math.LN10;
    } else {
      const interval = now - this.#last;
      if (interval <= this.maxInterval) {
        this.#history.add(interval);
        this.#scale = this.#history.mean * Math.LN10;
      }
    }
    this.#last = now;
  }

  /** `Δ / (mean · ln 10)`; 0 before the first heartbeat. */
  phi(): number {
    if (!this.#monitoring) return 0;
    const elapsed = this.#clock.now() - this.#last;
    // A window of zero-length intervals has mean 0: only a silence is suspicious then, not 0/0.
    return elapsed > 0 ? elapsed / this.#scale : 0;
  }

  isAvailable(): boolean {
    return this.phi() < this.threshold;
  }

  /** `threshold · mean · ln 10 - Δ`, floored at 0; `Infinity` before the first heartbeat. */
  timeUntilUnavailable(): number {
    if (!this.#monitoring) return Number.POSITIVE_INFINITY;
    const left = this.threshold * this.#scale - (this.#clock.now() - this.#last);
    return left > 0 ? left : 0;
  }
}
