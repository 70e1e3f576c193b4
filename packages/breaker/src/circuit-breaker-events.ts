import type { CircuitState } from './snapshot.js';

/** Why the circuit changed state. */
export type CircuitBreakerTransitionReason =
  | 'failure-threshold'
  | 'probe-failed'
  | 'break-elapsed'
  | 'probes-succeeded'
  | 'isolated'
  | 'released'
  | 'closed-manually';

/** Event of `CircuitBreakerPolicy.onStateChange`: every state change. Plain data. */
export interface CircuitBreakerStateChangeEvent {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: CircuitBreakerTransitionReason;
}

/** Event of `CircuitBreakerPolicy.onOpen`. Plain data. */
export interface CircuitBreakerOpenEvent {
  readonly reason: CircuitBreakerTransitionReason;
  /** Consecutive openings since the circuit last closed (1 for the first). */
  readonly attempt: number;
  /** How long this opening lasts, ms. */
  readonly breakDuration: number;
  /** Failures and failure rate the trip strategy counted when it last tripped. */
  readonly failures: number;
  readonly failureRate: number;
}

/** Event of `CircuitBreakerPolicy.onHalfOpen` and `onClose`. Plain data. */
export interface CircuitBreakerTransitionEvent {
  readonly reason: CircuitBreakerTransitionReason;
}

/** Event of `CircuitBreakerPolicy.onReject`: a call rejected without running. Plain data. */
export interface CircuitBreakerRejectEvent {
  readonly state: CircuitState;
  /** Ms until the breaker may let a call through again; `undefined` when isolated. */
  readonly retryAfter: number | undefined;
}

/** Event of `CircuitBreakerPolicy.onFailure`: a counted (handled) failure. */
export interface CircuitBreakerFailureEvent {
  /** The error, or the handled result when `shouldHandle` handles results. */
  readonly error: unknown;
  readonly state: CircuitState;
}

// The names before the policy checklist (kept: add, never rename).
/** @deprecated Use {@link CircuitBreakerTransitionReason}. */
export type TransitionReason = CircuitBreakerTransitionReason;
/** @deprecated Use {@link CircuitBreakerStateChangeEvent}. */
export type StateChangeEvent = CircuitBreakerStateChangeEvent;
/** @deprecated Use {@link CircuitBreakerOpenEvent}. */
export type OpenEvent = CircuitBreakerOpenEvent;
/** @deprecated Use {@link CircuitBreakerTransitionEvent}. */
export type TransitionEvent = CircuitBreakerTransitionEvent;
/** @deprecated Use {@link CircuitBreakerRejectEvent}. */
export type RejectEvent = CircuitBreakerRejectEvent;
/** @deprecated Use {@link CircuitBreakerFailureEvent}. */
export type FailureEvent = CircuitBreakerFailureEvent;
