/**
 * A set of counters over a sliding time window, kept as a ring of `buckets` slices of
 * `window / buckets` ms each (the "bucketed rolling window" of Hystrix and resilience4j's
 * time-based sliding window). Memory is O(buckets × fields), whatever the traffic.
 *
 * Every slice remembers nothing but counts; which slices are live is derived from the absolute
 * slice number of the current time, so an idle gap of any length expires the slices it covers.
 * (cockatiel's `SamplingBreaker` only rotates one slice per call, so after an idle hour its old
 * counts come back to life: see js-peers.md §3.3. That bug cannot happen here.)
 *
 * The window covers the current (partial) slice and the `buckets - 1` slices before it.
 */
export class RollingCounters {
  readonly window: number;
  readonly buckets: number;
  readonly fields: number;
  readonly #width: number;
  readonly #slots: Float64Array;
  readonly #totals: Float64Array;
  /** The absolute slice number (floor(now / width)) of the newest slice in the ring. */
  #head = Number.NEGATIVE_INFINITY;
  /** Index in #slots of the newest slice's first counter (cached: `add` is on the hot path). */
  #headBase = 0;

  constructor(window: number, buckets: number, fields: number) {
    this.window = window;
    this.buckets = buckets;
    this.fields = fields;
    this.#width = window / buckets;
    this.#slots = new Float64Array(buckets * fields);
    this.#totals = new Float64Array(fields);
  }

  /** Expires every slice that has left the window at time `now`. */
  advance(now: number): void {
    const slice = Math.floor(now / this.#width);
    const head = this.#head;
    if (slice <= head) return; // same slice (or a clock that did not move)
    const buckets = this.buckets;
    const fields = this.fields;
    const slots = this.#slots;
    const totals = this.#totals;
    if (slice - head >= buckets) {
      // The whole ring is older than the window (an idle gap): start from nothing.
      slots.fill(0);
      totals.fill(0);
    } else {
      for (let s = head + 1; s <= slice; s++) {
        const base = (((s % buckets) + buckets) % buckets) * fields;
        for (let f = 0; f < fields; f++) {
          totals[f]! -= slots[base + f]!;
          slots[base + f] = 0;
        }
      }
    }
    this.#head = slice;
    this.#headBase = (((slice % buckets) + buckets) % buckets) * fields;
  }

  /**
   * The absolute slice number (`floor(now / (window / buckets))`) of the last {@link advance};
   * `-Infinity` before the first. Slices `head - buckets + 1 … head` are the live ones.
   */
  get head(): number {
    return this.#head;
  }

  /** Adds `n` to counter `field` in the current slice. Call {@link advance} first. */
  add(field: number, n = 1): void {
    this.#slots[this.#headBase + field]! += n;
    this.#totals[field]! += n;
  }

  /** The sum of counter `field` over the window (as of the last {@link advance}). */
  total(field: number): number {
    return this.#totals[field]!;
  }

  /** Forgets everything. */
  reset(): void {
    this.#slots.fill(0);
    this.#totals.fill(0);
    this.#head = Number.NEGATIVE_INFINITY;
    this.#headBase = 0;
  }
}
