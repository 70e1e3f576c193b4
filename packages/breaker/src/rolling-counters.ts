import { type Clock, systemClock } from '@faultline/clock';

/**
 * On `systemClock`, {@link RollingCounters.tick} reads the clock at least once every this many
 * ticks, even while the head slice's timer has not fired: a caller that awaits call after call in
 * promise jobs alone never lets a timer run, and this bounds how long such a run of calls can go
 * on being counted in a slice that has ended. (A clock read costs ~45 ns on Node 20; one read per
 * 32 ticks is ~1.5 ns a call.)
 */
const TICKS_PER_READ = 32;

/**
 * What a head slice's timer shares with its counters: not the counters themselves, so a timer
 * still pending never keeps a dropped policy alive.
 */
interface Freshness {
  /** Ticks left that may skip the clock; 0 once the head slice may have ended. */
  ticks: number;
  /** Whether a timer is set for the end of a head slice (cleared when it fires). */
  armed: boolean;
}

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
 *
 * Given a clock, {@link tick} advances to the clock's time. On any clock but `systemClock` it
 * reads the clock every time, as `advance(clock.now())` would, so virtual time is exact and
 * no timer is ever set. On `systemClock` it reads the clock only when the head slice may have
 * ended: an unref'd timer set for the end of the head slice marks it (one platform timer per
 * slice of traffic, none while idle), and at least every {@link TICKS_PER_READ} ticks the clock
 * is read anyway. A tick between a slice's end and the read that notices it counts in the slice
 * before: late by the timer's lateness (about a millisecond on a live event loop), or by at most
 * 31 ticks when promise jobs alone keep the event loop from running the timer.
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
  /** Whether {@link tick} skips clock reads while the head slice is current (on `systemClock`). */
  readonly skipsReads: boolean;
  readonly #clock: Clock | undefined;
  /** On `systemClock` only: whether {@link tick} may skip the clock. */
  readonly #fresh: Freshness | undefined;
  readonly #expire: (() => void) | undefined;

  /** `clock`: the clock {@link tick} reads (without one, only {@link advance} moves time). */
  constructor(window: number, buckets: number, fields: number, clock?: Clock) {
    this.window = window;
    this.buckets = buckets;
    this.fields = fields;
    this.#width = window / buckets;
    this.#slots = new Float64Array(buckets * fields);
    this.#totals = new Float64Array(fields);
    this.#clock = clock;
    this.skipsReads = clock === systemClock;
    if (clock === systemClock) {
      const fresh: Freshness = { ticks: 0, armed: false };
      this.#fresh = fresh;
      this.#expire = () => {
        fresh.ticks = 0;
        fresh.armed = false;
      };
    }
  }

  /**
   * Advances to the time of the clock given at construction (see the class comment for when
   * that clock is read). Call it, or {@link advance}, before {@link add}.
   */
  tick(): void {
    const fresh = this.#fresh;
    if (fresh !== undefined && --fresh.ticks > 0) return;
    this.#read();
  }

  #read(): void {
    const now = (this.#clock as Clock).now();
    this.advance(now);
    const fresh = this.#fresh;
    if (fresh === undefined) return;
    fresh.ticks = TICKS_PER_READ;
    if (!fresh.armed) {
      // A timer that fires early (Node may fire ~1 ms before performance.now() reaches its due
      // time) only costs a read that finds the same slice and sets the timer again.
      fresh.armed = true;
      const end = (this.#head + 1) * this.#width;
      systemClock.setTimer(end - now, this.#expire as () => void, { unref: true });
    }
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
    if (this.#fresh !== undefined) this.#fresh.ticks = 0;
  }
}
