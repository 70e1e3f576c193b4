/**
 * What {@link DetectorRegistry} and {@link HeartbeatMonitor} need from a detector. Both
 * `PhiAccrualDetector` and `ExponentialDetector` implement it; so can your own.
 */
export interface FailureDetector {
  /** The phi level at and above which the peer is considered unavailable. */
  readonly threshold: number;
  /** `true` once a heartbeat has been recorded. */
  readonly isMonitoring: boolean;
  /** Records a heartbeat from the peer, now. */
  heartbeat(): void;
  /** The current suspicion level; 0 before any heartbeat. */
  phi(): number;
  /** `phi() < threshold`. A peer that never sent a heartbeat is available. */
  isAvailable(): boolean;
  /**
   * Milliseconds from now until phi reaches the threshold if no heartbeat arrives: 0 when
   * already unavailable, `Infinity` before the first heartbeat.
   */
  timeUntilUnavailable(): number;
}
