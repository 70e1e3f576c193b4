import { type Clock, systemClock } from './clock.js';
import { checkClock } from './validate.js';

/** Measures elapsed monotonic time. */
export class Stopwatch {
  #started: number;
  /** The clock it measures on. */
  readonly clock: Clock;

  private constructor(clock: Clock) {
    this.clock = clock;
    this.#started = clock.now();
  }

  /** Starts measuring now on `clock` (default {@link systemClock}). */
  static start(clock: Clock = systemClock): Stopwatch {
    if (clock !== systemClock) checkClock('Stopwatch.start', 'clock', clock, false);
    return new Stopwatch(clock);
  }

  /** Milliseconds since start (or the last {@link restart}). */
  elapsed(): number {
    return this.clock.now() - this.#started;
  }

  /** Returns the elapsed time and starts counting again from now. */
  restart(): number {
    const now = this.clock.now();
    const elapsed = now - this.#started;
    this.#started = now;
    return elapsed;
  }
}
