import type { Clock } from '@faultline/clock';

/**
 * A sum over a sliding time window, kept in `slices` buckets: a port of Twitter util's
 * `WindowedAdder` (the store behind Finagle's `TokenBucket.newLeakyBucket`), so that
 * {@link RatioBudget} expires deposits exactly when Finagle does. Amounts added land in the
 * current slice; a slice is dropped about `range` after it was current.
 */
export class WindowedAdder {
  readonly #window: number;
  readonly #buf: number[];
  readonly #clock: Clock;
  #writer = 0;
  #index = 0;
  #old: number;

  constructor(range: number, slices: number, clock: Clock) {
    // As util: `window = range / slices` (integer division) and `slices - 1` closed slices; the
    // open one is the writer.
    this.#window = Math.floor(range / slices);
    this.#buf = new Array<number>(slices - 1).fill(0);
    this.#clock = clock;
    this.#old = clock.now();
  }

  #expired(now: number): void {
    const buf = this.#buf;
    const n = buf.length;
    // What was added since the last roll is credited to the slice that was current.
    buf[this.#index] = this.#writer;
    this.#writer = 0;
    this.#index = (this.#index + 1) % n;
    // Whole slices that passed with no activity are cleared.
    const skip = Math.min(Math.floor((now - this.#old) / this.#window) - 1, n);
    if (skip > 0) {
      for (let k = 0; k < skip; k++) buf[(this.#index + k) % n] = 0;
      this.#index = (this.#index + skip) % n;
    }
    this.#old = now;
  }

  add(amount: number): void {
    const now = this.#clock.now();
    if (now - this.#old >= this.#window) this.#expired(now);
    this.#writer += amount;
  }

  sum(): number {
    const now = this.#clock.now();
    if (now - this.#old >= this.#window) this.#expired(now);
    let sum = this.#writer;
    const buf = this.#buf;
    for (let i = 0; i < buf.length; i++) sum += buf[i]!;
    return sum;
  }
}
