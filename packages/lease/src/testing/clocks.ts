/**
 * Test clocks for leases, for tests only (not exported, not in the tarball).
 * - {@link PausableClock}: one process's view of a shared `VirtualClock` that can be stopped
 *   (SIGSTOP, a stop-the-world GC): while paused its timers do not run; on `resume()` every timer
 *   that fell due runs at once, late, as a resumed process's would.
 * - {@link DriftingClock}: a clock that runs at `rate` × the shared clock's speed (a slow or fast
 *   quartz), for checking the lease's drift allowance.
 */
import { type Clock, sleepWith, type TimerOptions, type VirtualClock } from '@faultline/clock';

export class PausableClock implements Clock {
  readonly #base: Clock;
  #paused = false;
  #due: (() => void)[] = [];

  constructor(base: Clock) {
    this.#base = base;
    this.now = this.now.bind(this);
    this.setTimer = this.setTimer.bind(this);
    this.sleep = this.sleep.bind(this);
  }

  get paused(): boolean {
    return this.#paused;
  }

  now(): number {
    return this.#base.now();
  }

  setTimer(ms: number, callback: () => void, options?: TimerOptions): () => void {
    let cancelled = false;
    const fire = (): void => {
      if (!cancelled) callback();
    };
    const cancel = this.#base.setTimer(
      ms,
      () => {
        if (this.#paused) this.#due.push(fire);
        else fire();
      },
      options,
    );
    return () => {
      cancelled = true;
      cancel();
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this.setTimer, ms, signal);
  }

  /** Stops this process: its timers wait for {@link resume}. */
  pause(): void {
    this.#paused = true;
  }

  /** Runs again: the timers that fell due during the pause run now, in order. */
  resume(): void {
    this.#paused = false;
    const due = this.#due;
    this.#due = [];
    for (const fire of due) fire();
  }
}

export class DriftingClock implements Clock {
  readonly #base: VirtualClock;
  readonly #rate: number;
  readonly #origin: number;

  /** `rate` < 1: this clock is slow (measures less time than passes on `base`). */
  constructor(base: VirtualClock, rate: number) {
    this.#base = base;
    this.#rate = rate;
    this.#origin = base.now();
    this.now = this.now.bind(this);
    this.setTimer = this.setTimer.bind(this);
    this.sleep = this.sleep.bind(this);
  }

  now(): number {
    return this.#origin + (this.#base.now() - this.#origin) * this.#rate;
  }

  setTimer(ms: number, callback: () => void, options?: TimerOptions): () => void {
    return this.#base.setTimer(ms / this.#rate, callback, options);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this.setTimer, ms, signal);
  }
}
