import { type Clock, systemClock } from '@faultline/clock';

/**
 * The end of the current event-loop turn, shared by every hedge policy in the process: one
 * `setImmediate` per turn in which something asked, however many hedged calls started or ended
 * in it. Used for two things that would otherwise cost a native call per hedged call:
 *
 * - **The turn's time.** The first read in a turn calls `performance.now()` (on Node 20 about as
 *   costly as an empty `await`); later reads in the same turn reuse it, so it can be older than
 *   the moment of the read by however long the turn has run. (Node's `setTimeout` does not work
 *   that way: it updates the loop's time and counts from the call.) A hedge delay must never be
 *   counted from it alone: hedge-timers.ts moves the due times of a turn's calls to the end of
 *   the turn, when it reads the clock once, so a hedge is never early, only late by at most the
 *   rest of the turn, like any timer on a busy loop.
 * - **Letting go of the process.** A policy's shared timer stops keeping the process alive at the
 *   end of the turn in which its last waiting call left (see hedge-timers.ts).
 *
 * A call per turn pays one `setImmediate` (~0.1 µs, next to the I/O a hedge guards); a fan-out
 * of a hundred hedged reads in one turn pays it once. Where there is no `setImmediate`
 * (browsers), every read is exact and nothing is deferred.
 */
const defer: ((callback: () => void) => unknown) | undefined =
  typeof setImmediate === 'function' ? setImmediate : undefined;

let pending: Array<() => void> = [];
let spare: Array<() => void> = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const due = pending;
  pending = spare;
  for (let i = 0; i < due.length; i++) due[i]!();
  due.length = 0;
  spare = due;
}

/** Whether {@link atTurnEnd} can defer (Node, Deno, Bun); else callers act at once. */
export const deferrable = defer !== undefined;

/** Calls `callback` at the end of this event-loop turn (it must not throw). */
export function atTurnEnd(callback: () => void): void {
  pending.push(callback);
  if (!scheduled) {
    scheduled = true;
    defer!(flush);
  }
}

let cached = Number.NaN;

function forget(): void {
  cached = Number.NaN;
}

function systemTurnTime(): number {
  if (!Number.isNaN(cached)) return cached;
  const now = systemClock.now();
  if (deferrable) {
    cached = now;
    atTurnEnd(forget);
  }
  return now;
}

/**
 * `clock.now()`, or for {@link systemClock} the time of the current event-loop turn (see above).
 * Used only where a timer's precision suffices: when a hedge is due.
 */
export function turnTime(clock: Clock): number {
  return clock === systemClock ? systemTurnTime() : clock.now();
}
