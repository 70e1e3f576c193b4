export {
  AdaptiveThrottle,
  AdaptiveThrottlePolicy,
  adaptiveThrottle,
} from './adaptive-throttle.js';
export { ThrottledError } from './adaptive-throttle-errors.js';
export type {
  AdaptiveThrottleRejectEvent,
  ThrottleRejectEvent,
} from './adaptive-throttle-events.js';
export {
  ADAPTIVE_THROTTLE_DEFAULTS,
  type AdaptiveThrottleOptions,
  type ResolvedAdaptiveThrottleOptions,
  resolveAdaptiveThrottleOptions,
} from './adaptive-throttle-options.js';
export { ThrottlePermit } from './adaptive-throttle-permit.js';
export type {
  BreakDuration,
  BreakDurationContext,
} from './break-duration.js';
export { CircuitBreaker, CircuitBreakerPolicy, circuitBreaker } from './circuit-breaker.js';
export { BrokenCircuitError, IsolatedCircuitError } from './circuit-breaker-errors.js';
export type {
  CircuitBreakerFailureEvent,
  CircuitBreakerOpenEvent,
  CircuitBreakerRejectEvent,
  CircuitBreakerStateChangeEvent,
  CircuitBreakerTransitionEvent,
  CircuitBreakerTransitionReason,
  FailureEvent,
  OpenEvent,
  RejectEvent,
  StateChangeEvent,
  TransitionEvent,
  TransitionReason,
} from './circuit-breaker-events.js';
export {
  CIRCUIT_BREAKER_DEFAULTS,
  type CircuitBreakerOptions,
  type HalfOpenOptions,
  type ResolvedCircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './circuit-breaker-options.js';
export { CircuitPermit } from './circuit-breaker-permit.js';
export { consecutiveFailures } from './consecutive-failures.js';
export { type FailureRateOptions, failureRate, type SlowCallOptions } from './failure-rate.js';
export { handleOverload } from './overload.js';
export type { CircuitSnapshot, CircuitState } from './snapshot.js';
export type { TripState, TripStrategy } from './trip-strategy.js';
