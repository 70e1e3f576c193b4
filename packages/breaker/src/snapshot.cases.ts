/**
 * A valid snapshot for the option tests to patch one field of: open, half-way through a 1 s break.
 * Test support, not packed.
 */
import type { CircuitSnapshot } from './snapshot.js';

export const openSnapshot: CircuitSnapshot = {
  version: 1,
  state: 'open',
  attempt: 1,
  breakDuration: 1_000,
  remainingBreak: 500,
  takenAt: 0,
};
