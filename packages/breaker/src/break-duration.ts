import { type Backoff, formatValue, type Random } from '@faultline/core';

/** What a break-duration function learns about the opening it sizes. */
export interface BreakDurationContext {
  /** 1 for the first opening after the circuit was closed, 2 for the next re-opening, … */
  readonly attempt: number;
  /** The failure rate the trip strategy saw when the circuit last tripped from closed. */
  readonly failureRate: number;
  /** The failures the trip strategy counted when the circuit last tripped from closed. */
  readonly failures: number;
}

/** How long the circuit stays open: ms, a `Backoff`, or a function of the re-opening. */
export type BreakDuration = number | Backoff | ((context: BreakDurationContext) => number);

function isBackoff(value: unknown): value is Backoff {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<Backoff>).delays === 'function'
  );
}

/** Checks the `breakDuration` option (TypeError / RangeError naming it). */
export function checkBreakDuration(owner: string, value: unknown): BreakDuration {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) {
      throw new TypeError(
        `${owner}: option "breakDuration" must be a number in [0, Infinity), a Backoff or a function, received NaN`,
      );
    }
    if (!(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(
        `${owner}: option "breakDuration" must be a number in [0, Infinity), received ${formatValue(value)}`,
      );
    }
    return value;
  }
  if (typeof value === 'function' || isBackoff(value)) return value as BreakDuration;
  throw new TypeError(
    `${owner}: option "breakDuration" must be a number in [0, Infinity), a Backoff or a function, received ${formatValue(value)}`,
  );
}

/**
 * Turns a {@link BreakDuration} into the duration of each consecutive opening. A `Backoff`'s
 * iterator is started on the first opening after a close and advanced once per re-opening, so
 * the break grows while the dependency keeps failing its probes (and resets when it recovers).
 */
export class BreakSchedule {
  readonly #source: BreakDuration;
  readonly #random: Random | undefined;
  readonly #owner: string;
  #delays: Iterator<number> | undefined;
  #last = 0;

  constructor(owner: string, source: BreakDuration, random: Random | undefined) {
    this.#owner = owner;
    this.#source = source;
    this.#random = random;
  }

  /** The break for opening number `context.attempt` (1-based, consecutive). */
  next(context: BreakDurationContext): number {
    const source = this.#source;
    let ms: unknown;
    if (typeof source === 'number') return source;
    if (typeof source === 'function') {
      ms = source(context);
    } else {
      if (this.#delays === undefined || context.attempt === 1) {
        this.#delays = source.delays(this.#random);
      }
      const step = this.#delays.next();
      // A finite backoff that has run out keeps its last value.
      ms = step.done === true ? this.#last : step.value;
    }
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `${this.#owner}: option "breakDuration" produced ${formatValue(ms)} for attempt ${context.attempt}; it must give a number in [0, Infinity)`,
      );
    }
    this.#last = ms;
    return ms;
  }

  /**
   * Brings a `Backoff` iterator to where it would be after `attempt` openings (used when a
   * snapshot is restored), so that the next re-opening gets the next step.
   */
  resume(attempt: number, context: Omit<BreakDurationContext, 'attempt'>): void {
    if (typeof this.#source !== 'object' || attempt < 1) return;
    for (let n = 1; n <= attempt; n++) this.next({ ...context, attempt: n });
  }

  /** The circuit closed: the next opening starts the sequence again. */
  reset(): void {
    this.#delays = undefined;
    this.#last = 0;
  }

  /** For `describe()`: the ms, `'backoff'`, or `'custom'` for a user function (plain data). */
  describe(): number | 'backoff' | 'custom' {
    const source = this.#source;
    if (typeof source === 'number') return source;
    return typeof source === 'function' ? 'custom' : 'backoff';
  }
}
