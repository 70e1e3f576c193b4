/** The event of `HeartbeatMonitor.onProbeFailure`: a probe failed or timed out. */
export interface HeartbeatMonitorProbeFailureEvent<T> {
  readonly target: T;
  /** The probe's error, or the abort reason of its timeout (a `TimeoutError` DOMException). */
  readonly error: unknown;
}
