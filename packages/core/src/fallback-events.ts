import type { Outcome } from './outcome.js';

/** The event of `FallbackPolicy.onFallback`. Plain data. */
export interface FallbackEvent {
  /** The outcome being replaced. */
  readonly outcome: Outcome<unknown>;
  /** The attempt number of the context the fallback ran in. */
  readonly attempt: number;
}
