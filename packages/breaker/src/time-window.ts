import type { Clock } from '@faultline/clock';
import type { OutcomeWindow } from './outcome-window.js';
import { RollingCounters } from './rolling-counters.js';

const CALLS = 0;
const FAILURES = 1;
const SLOW = 2;

/**
 * The outcomes of the last `window` ms, in `buckets` slices (resilience4j's time-based sliding
 * window; Hystrix's rolling statistical window). Expiry is by time, idle gaps included.
 */
export class TimeWindow implements OutcomeWindow {
  /** Whether {@link record} is told the time (it is, except on `systemClock`). */
  readonly needsTime: boolean;
  readonly #counters: RollingCounters;

  /**
   * `clock`: the breaker's clock. On `systemClock` the window dates calls itself, mostly without
   * reading the clock (see {@link RollingCounters.tick}), and {@link record} ignores its `now`.
   * On any other clock, or none, `record` is told the time, read once per call by the caller.
   */
  constructor(window: number, buckets: number, clock?: Clock) {
    this.#counters = new RollingCounters(window, buckets, 3, clock);
    this.needsTime = !this.#counters.skipsReads;
  }

  get calls(): number {
    return this.#counters.total(CALLS);
  }

  get failures(): number {
    return this.#counters.total(FAILURES);
  }

  get slowCalls(): number {
    return this.#counters.total(SLOW);
  }

  record(failed: boolean, slow: boolean, now: number): void {
    const counters = this.#counters;
    if (this.needsTime) counters.advance(now);
    else counters.tick();
    counters.add(CALLS);
    if (failed) counters.add(FAILURES);
    if (slow) counters.add(SLOW);
  }

  reset(): void {
    this.#counters.reset();
  }
}
