import type { Clock } from '@faultline/clock';
import {
  type ExponentialDetectorOptions,
  resolveExponentialDetectorOptions,
} from './exponential-detector-options.js';
import type { FailureDetector } from './failure-detector.js';
import { HeartbeatHistory, type HeartbeatStatistics } from './heartbeat-history.js';

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

  /** Validates `options` (see {@link resolveExponentialDetectorOptions}). */
  constructor(options?: ExponentialDetectorOptions) {
    const resolved = resolveExponentialDetectorOptions(options);
    this.threshold = resolved.threshold;
    this.maxSampleSize = resolved.maxSampleSize;
    this.initialInterval = resolved.initialInterval;
    this.maxInterval = resolved.maxInterval;
    this.#clock = resolved.clock;
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
