import { checkNumber, checkOneOf, formatValue } from '@faultline/core';

/** The states of a circuit breaker. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * A circuit breaker's state as plain JSON, from `breaker.toJSON()`, to restore with
 * `circuitBreaker({ ..., initialState })` in another process (a serverless cold start, a
 * restart). Monotonic clock readings mean nothing in another process, so the snapshot holds the
 * *remaining* break time and the wall-clock time it was taken; restoring subtracts the wall time
 * that has passed since (never less than zero). Window counts are not carried over: a restored
 * closed circuit starts with an empty window.
 */
export interface CircuitSnapshot {
  /** Format version; always 1. */
  readonly version: 1;
  readonly state: CircuitState;
  /** Consecutive openings since the circuit last closed (0 when closed). */
  readonly attempt: number;
  /** The current break duration in ms (0 when closed or isolated from closed). */
  readonly breakDuration: number;
  /** Ms of the break still to run when the snapshot was taken (0 unless open). */
  readonly remainingBreak: number;
  /** Wall-clock time (ms since the epoch, `Date.now()`) when the snapshot was taken. */
  readonly takenAt: number;
}

/** Validates an `initialState` option; messages name `initialState.<field>`. */
export function checkSnapshot(owner: string, value: unknown): CircuitSnapshot {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${owner}: option "initialState" must be a snapshot object from toJSON(), received ${formatValue(value)}`,
    );
  }
  const raw = value as Record<string, unknown>;
  checkOneOf(owner, 'initialState.version', raw.version, [1]);
  const state = checkOneOf(owner, 'initialState.state', raw.state, CIRCUIT_STATES);
  const attempt = checkNumber(owner, 'initialState.attempt', raw.attempt, {
    min: 0,
    integer: true,
  });
  const breakDuration = checkNumber(owner, 'initialState.breakDuration', raw.breakDuration, {
    min: 0,
  });
  const remainingBreak = checkNumber(owner, 'initialState.remainingBreak', raw.remainingBreak, {
    min: 0,
    max: breakDuration,
  });
  const takenAt = checkNumber(owner, 'initialState.takenAt', raw.takenAt, {});
  return { version: 1, state, attempt, breakDuration, remainingBreak, takenAt };
}
