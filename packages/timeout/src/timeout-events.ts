/** The event of `TimeoutPolicy.onTimeout`: the effective timeout and the time elapsed, in ms. */
export interface TimeoutEvent {
  readonly timeout: number;
  readonly elapsed: number;
}
