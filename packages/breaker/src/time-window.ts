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
  readonly needsTime = true;
  readonly #counters: RollingCounters;

  constructor(window: number, buckets: number) {
    this.#counters = new RollingCounters(window, buckets, 3);
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
    counters.advance(now);
    counters.add(CALLS);
    if (failed) counters.add(FAILURES);
    if (slow) counters.add(SLOW);
  }

  reset(): void {
    this.#counters.reset();
  }
}
