export type {
  BreakDuration,
  BreakDurationContext,
} from './break-duration.js';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreaker,
  type FailureEvent,
  type HalfOpenOptions,
  type OpenEvent,
  type RejectEvent,
  type StateChangeEvent,
  type TransitionEvent,
  type TransitionReason,
} from './breaker.js';
export { consecutiveFailures } from './consecutive-failures.js';
export { BrokenCircuitError, IsolatedCircuitError, ThrottledError } from './errors.js';
export { type FailureRateOptions, failureRate, type SlowCallOptions } from './failure-rate.js';
export { handleOverload } from './overload.js';
export { CircuitPermit } from './permit.js';
export type { CircuitSnapshot, CircuitState } from './snapshot.js';
export {
  AdaptiveThrottle,
  type AdaptiveThrottleOptions,
  adaptiveThrottle,
  ThrottlePermit,
  type ThrottleRejectEvent,
} from './throttle.js';
export type { TripState, TripStrategy } from './trip-strategy.js';
