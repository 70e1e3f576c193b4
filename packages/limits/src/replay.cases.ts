/**
 * Replays a generated sequence of calls for the property tests of the rate-limit algorithms.
 * Test support, not shipped.
 */

/** One generated call: `dt` ms after the previous one, asking for `permits`. */
export interface GeneratedCall {
  readonly dt: number;
  readonly permits: number;
}

/** Calls `step` for each call of `sequence`, at its time (the running sum of the gaps, from 0). */
export function replay(
  sequence: Iterable<GeneratedCall>,
  step: (now: number, permits: number) => void,
): void {
  let now = 0;
  for (const { dt, permits } of sequence) {
    now += dt;
    step(now, permits);
  }
}
