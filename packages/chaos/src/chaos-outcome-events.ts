/** Emitted (`onOutcome`) when a call gets the substitute result instead of running. Plain data. */
export interface ChaosOutcomeEvent {
  /** The substitute result (once resolved). */
  readonly outcome: unknown;
  /** The call's attempt number (`ctx.attempt`). */
  readonly attempt: number;
}
