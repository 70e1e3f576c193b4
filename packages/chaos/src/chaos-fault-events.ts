/** Emitted (`onFault`) when a call gets the fault instead of running. Plain data. */
export interface ChaosFaultEvent {
  /** What the call throws. */
  readonly fault: unknown;
  /** The call's attempt number (`ctx.attempt`). */
  readonly attempt: number;
}
