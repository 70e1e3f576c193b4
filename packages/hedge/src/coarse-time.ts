import { type Clock, systemClock } from '@faultline/clock';

/**
 * The system clock's time, read once per event-loop turn: the first read in a turn calls
 * `performance.now()` (about as costly as the call a hedge guards, on Node 20) and the value
 * serves every later read until a `setImmediate` at the end of the turn clears it.
 *
 * It is exactly as precise as a `setTimeout` started in the same turn: Node's timers measure
 * their delay from the loop's cached time (libuv `uv_now`, updated once per iteration), not
 * from the moment `setTimeout` is called. A hedge delay measured from it can therefore start up
 * to one turn early, like a timer would. Where there is no `setImmediate` (browsers) every read
 * is exact.
 */
let cached = Number.NaN;

function forget(): void {
  cached = Number.NaN;
}

const defer: ((callback: () => void) => unknown) | undefined =
  typeof setImmediate === 'function' ? setImmediate : undefined;

function coarseSystemNow(): number {
  if (!Number.isNaN(cached)) return cached;
  const now = systemClock.now();
  if (defer !== undefined) {
    cached = now;
    defer(forget);
  }
  return now;
}

/**
 * `clock.now()`, or for {@link systemClock} the time of the current event-loop turn (see above).
 * Used only where a timer's precision suffices: when a hedge is due.
 */
export function turnTime(clock: Clock): number {
  return clock === systemClock ? coarseSystemNow() : clock.now();
}
