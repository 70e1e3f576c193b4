/** Event of `AdaptiveThrottlePolicy.onReject`: a request throttled locally. Plain data. */
export interface AdaptiveThrottleRejectEvent {
  /** The rejection probability the request was drawn at. */
  readonly probability: number;
}

/** @deprecated Use {@link AdaptiveThrottleRejectEvent} (the name before the policy checklist). */
export type ThrottleRejectEvent = AdaptiveThrottleRejectEvent;
