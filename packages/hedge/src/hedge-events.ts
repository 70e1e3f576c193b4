/** Why a hedge was sent. */
export type HedgeTrigger =
  /** The previous attempt had not settled when the delay elapsed (latency mode). */
  | 'delay'
  /** The previous attempt settled with a handled outcome (latency and fallback modes). */
  | 'failure'
  /** Every attempt starts at once (parallel mode, `delay: 0`). */
  | 'parallel';

/** Emitted (`onHedge`) when a hedge is sent, just before it starts. Plain data. */
export interface HedgeEvent {
  /** The hedge's attempt number: 2 for the first hedge. */
  readonly attempt: number;
  /** Milliseconds since the previous attempt started (the delay, for trigger `'delay'`). */
  readonly delay: number;
  readonly trigger: HedgeTrigger;
}

/** Emitted (`onWin`) when an attempt's acceptable outcome settles the call. */
export interface HedgeWinEvent {
  /** The winning attempt's number (1 when no hedge was needed or the first still won). */
  readonly attempt: number;
  /** Attempts started for the call. */
  readonly attempts: number;
}

/** Why a hedge that was due was not sent. */
export type HedgeSkipReason =
  /** The retry budget denied it. No further hedge is sent for the call. */
  | 'budget'
  /** The call's deadline would pass before (or as) it starts. */
  | 'deadline'
  /** A server asked for no more load (a pushback). No further hedge is sent for the call. */
  | 'pushback';

/** Emitted (`onSkip`) when a hedge that was due is not sent. */
export interface HedgeSkipEvent {
  /** The attempt number the hedge would have had. */
  readonly attempt: number;
  readonly reason: HedgeSkipReason;
}
