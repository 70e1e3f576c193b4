import type { Clock } from '@faultline/clock';

/**
 * Decides when a closed circuit opens. A strategy is a shareable description
 * (`consecutiveFailures(5)`, `failureRate({...})`); each breaker asks it for its own
 * {@link TripState} with {@link TripStrategy.create}, so one strategy object can configure many
 * breakers.
 */
export interface TripStrategy {
  /**
   * Creates the per-breaker state. `clock` is the breaker's clock, for a state that reads the time
   * itself (its {@link TripState.needsTime} is then `false`); a strategy may ignore it.
   */
  create(clock?: Clock): TripState;
  /** Name and options, for `describe()`. */
  describe(): { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
}

/** The per-breaker state of a {@link TripStrategy}. Called only while the circuit is closed. */
export interface TripState {
  /** Whether {@link record} needs the current time (a time window). */
  readonly needsTime: boolean;
  /**
   * A call that takes longer than this (ms) is slow; `Infinity` when the strategy does not look
   * at durations (the breaker then never reads the clock to time a call).
   */
  readonly slowCallDuration: number;
  /** Handled failures the strategy currently counts (the window's, or the consecutive run). */
  readonly failures: number;
  /** `failures / calls` over what the strategy currently counts (0 with no calls). */
  readonly failureRate: number;
  /**
   * Records one outcome; returns `true` when the circuit must open. `now` is the breaker clock's
   * time when {@link needsTime} is set (otherwise 0).
   */
  record(failed: boolean, slow: boolean, now: number): boolean;
  /** Forgets everything (the circuit closed). */
  reset(): void;
}
