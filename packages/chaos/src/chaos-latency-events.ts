/** Emitted (`onLatency`) when an injected call starts its wait. Plain data. */
export interface ChaosLatencyEvent {
  /** The wait, in ms. */
  readonly latency: number;
  /** The call's attempt number (`ctx.attempt`). */
  readonly attempt: number;
}
