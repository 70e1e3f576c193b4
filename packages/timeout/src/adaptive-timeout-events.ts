/** The event of `AdaptiveTimeout.onChange`: the timeout before and after, in ms. Plain data. */
export interface AdaptiveTimeoutChangeEvent {
  readonly previous: number;
  readonly current: number;
}

/** @deprecated The old name of {@link AdaptiveTimeoutChangeEvent}. */
export type AdaptiveTimeoutChange = AdaptiveTimeoutChangeEvent;
