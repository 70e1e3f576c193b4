import type { TripStrategy } from '@faultline/breaker';
import { formatValue } from '@faultline/core';
import type { BreakerRule } from './store.js';

/**
 * What an instance publishes of its window: calls, handled failures and slow calls, counted the
 * way its trip strategy counts them, so the store can sum the fleet's windows and apply the
 * strategy's own rule to the sum ({@link BreakerRule}).
 */
export interface FleetWindow {
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  record(failed: boolean, slow: boolean, now: number): void;
  reset(): void;
}

/** A time window of `window` ms in `buckets` slices (expiring with time, idle gaps included). */
class TimeCounts implements FleetWindow {
  readonly #slice: number;
  readonly #calls: Float64Array;
  readonly #failures: Float64Array;
  readonly #slow: Float64Array;
  #current = Number.NaN;

  constructor(window: number, buckets: number) {
    this.#slice = window / buckets;
    this.#calls = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    this.#slow = new Float64Array(buckets);
  }

  #sum(array: Float64Array): number {
    let total = 0;
    for (let i = 0; i < array.length; i++) total += array[i]!;
    return total;
  }

  get calls(): number {
    return this.#sum(this.#calls);
  }

  get failures(): number {
    return this.#sum(this.#failures);
  }

  get slow(): number {
    return this.#sum(this.#slow);
  }

  /** Moves to the slice of `now`, clearing the slices that passed (all of them after a gap). */
  advance(now: number): void {
    const slice = Math.floor(now / this.#slice);
    const n = this.#calls.length;
    if (Number.isNaN(this.#current) || slice - this.#current >= n) {
      this.reset();
    } else {
      for (let s = this.#current + 1; s <= slice; s++) {
        const i = s % n;
        this.#calls[i] = 0;
        this.#failures[i] = 0;
        this.#slow[i] = 0;
      }
    }
    if (Number.isNaN(this.#current) || slice > this.#current) this.#current = slice;
  }

  record(failed: boolean, slow: boolean, now: number): void {
    this.advance(now);
    const i = this.#current % this.#calls.length;
    this.#calls[i]!++;
    if (failed) this.#failures[i]!++;
    if (slow) this.#slow[i]!++;
  }

  reset(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
  }
}

/** The last `size` calls. */
class CountCounts implements FleetWindow {
  readonly #outcomes: Uint8Array;
  #next = 0;
  #filled = 0;
  failures = 0;
  slow = 0;

  constructor(size: number) {
    this.#outcomes = new Uint8Array(size);
  }

  get calls(): number {
    return this.#filled;
  }

  record(failed: boolean, slow: boolean): void {
    const outcomes = this.#outcomes;
    if (this.#filled === outcomes.length) {
      const old = outcomes[this.#next]!;
      if (old & 1) this.failures--;
      if (old & 2) this.slow--;
    } else {
      this.#filled++;
    }
    outcomes[this.#next] = (failed ? 1 : 0) | (slow ? 2 : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.#next = (this.#next + 1) % outcomes.length;
  }

  reset(): void {
    this.#outcomes.fill(0);
    this.#next = 0;
    this.#filled = 0;
    this.failures = 0;
    this.slow = 0;
  }
}

/** The current run of failures (published as calls = failures = run). */
class RunCounts implements FleetWindow {
  #run = 0;
  readonly slow = 0;

  get calls(): number {
    return this.#run;
  }

  get failures(): number {
    return this.#run;
  }

  record(failed: boolean): void {
    this.#run = failed ? this.#run + 1 : 0;
  }

  reset(): void {
    this.#run = 0;
  }
}

/** The fleet's rule and an instance's window for a trip strategy from `@faultline/breaker`. */
export function fleetTrip(
  owner: string,
  trip: TripStrategy,
): { rule: BreakerRule; window: () => FleetWindow } {
  const { name, options } = trip.describe();
  if (name === 'consecutiveFailures') {
    const n = options.n as number;
    // n failures in a row fleet-wide: the instances' current runs add up.
    return { rule: { minCalls: n, failureRatio: 1, slowRatio: 2 }, window: () => new RunCounts() };
  }
  if (name === 'failureRate') {
    const slowCall = options.slowCall as { threshold: number } | undefined;
    const rule = {
      minCalls: options.minimumThroughput as number,
      failureRatio: options.threshold as number,
      slowRatio: slowCall === undefined ? 2 : slowCall.threshold,
    };
    const window = options.window as number | { calls: number };
    if (typeof window === 'number') {
      const buckets = options.buckets as number;
      return { rule, window: () => new TimeCounts(window, buckets) };
    }
    return { rule, window: () => new CountCounts(window.calls) };
  }
  throw new TypeError(
    `${owner}: option "trip" must be consecutiveFailures(n) or failureRate({...}) from @faultline/breaker (a fleet sums their windows), received ${formatValue(name)}`,
  );
}
