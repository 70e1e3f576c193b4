import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, optionalClock, optionalNumber } from '@faultline/core';

/** Options of {@link QuantileEstimator}. */
export interface QuantileEstimatorOptions {
  /** Length of the sliding window in ms. Default 60 000. */
  readonly window?: number;
  /** Number of slices the window is cut into; one slice expires at a time. Default 10. */
  readonly slices?: number;
  /** Relative error bound of every quantile, in (0, 0.1]. Default 0.01 (1 %). */
  readonly relativeAccuracy?: number;
  /** Clock that ages the window. Default `systemClock`. */
  readonly clock?: Clock;
}

const OWNER = 'QuantileEstimator';
/** Smallest and largest values tracked with the relative-error bound, in ms (1 µs … ~2.8 h). */
const MIN_TRACKED = 1e-3;
const MAX_TRACKED = 1e7;

/**
 * Latency quantiles over a sliding time window, with bounded memory and bounded relative error.
 *
 * Each value lands in a logarithmic bucket `ceil(log_gamma(v))` with
 * `gamma = (1 + a) / (1 - a)`, and a bucket reports `2·gamma^i / (gamma + 1)`, which is within a
 * relative error `a` of every value in it: the DDSketch mapping (Masson, Rim & Lee, "DDSketch: a
 * fast and fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019). Buckets
 * are counted per time slice plus a running total, so `observe` is O(1), `quantile` scans only
 * the occupied range of the total, and a slice expires by subtracting its occupied range. Slices
 * expire by time, also across idle gaps: after a silence longer than the window, nothing is left.
 *
 * Values below 1 µs count as 1 µs and values above 1e7 ms as 1e7 ms. Memory is fixed at
 * construction: `(slices + 1) · buckets` 32-bit counters (≈ 1 150 buckets at 1 %, so ≈ 50 KB for
 * the defaults), whatever the traffic.
 */
export class QuantileEstimator {
  readonly window: number;
  readonly slices: number;
  readonly relativeAccuracy: number;
  readonly clock: Clock;
  readonly #sliceLength: number;
  readonly #multiplier: number;
  readonly #offset: number;
  readonly #gamma: number;
  readonly #buckets: number;
  /** Per-slice counts, slice-major: `counts[ring * buckets + index]`. */
  readonly #counts: Uint32Array;
  readonly #lows: Int32Array;
  readonly #highs: Int32Array;
  readonly #sliceCounts: Float64Array;
  readonly #total: Float64Array;
  #low: number;
  #high: number;
  #count = 0;
  #slice: number;
  #version = 0;

  constructor(options?: QuantileEstimatorOptions) {
    const opts = checkOptions<QuantileEstimatorOptions>(OWNER, options);
    this.window = optionalNumber(OWNER, 'window', opts.window, 60_000, {
      min: 0,
      minExclusive: true,
    });
    this.slices = optionalNumber(OWNER, 'slices', opts.slices, 10, {
      min: 1,
      max: 1000,
      integer: true,
    });
    this.relativeAccuracy = optionalNumber(OWNER, 'relativeAccuracy', opts.relativeAccuracy, 0.01, {
      min: 1e-4,
      max: 0.1,
    });
    this.clock = optionalClock(OWNER, 'clock', opts.clock);
    this.#sliceLength = this.window / this.slices;
    const a = this.relativeAccuracy;
    this.#gamma = (1 + a) / (1 - a);
    this.#multiplier = 1 / Math.log(this.#gamma);
    this.#offset = Math.ceil(Math.log(MIN_TRACKED) * this.#multiplier);
    this.#buckets = Math.ceil(Math.log(MAX_TRACKED) * this.#multiplier) - this.#offset + 1;
    this.#counts = new Uint32Array(this.slices * this.#buckets);
    this.#lows = new Int32Array(this.slices).fill(this.#buckets);
    this.#highs = new Int32Array(this.slices).fill(-1);
    this.#sliceCounts = new Float64Array(this.slices);
    this.#total = new Float64Array(this.#buckets);
    this.#low = this.#buckets;
    this.#high = -1;
    this.#slice = Math.floor(this.clock.now() / this.#sliceLength);
  }

  /** Samples currently in the window. */
  get count(): number {
    this.#age(this.clock.now());
    return this.#count;
  }

  /**
   * Changes whenever the content of the window changes (a sample in, a slice out). Lets a caller
   * cache a quantile instead of recomputing it.
   */
  get version(): number {
    this.#age(this.clock.now());
    return this.#version;
  }

  /** Records a latency `ms` (≥ 0) at the current time. */
  observe(ms: number): void {
    if (!(ms >= 0)) checkNumber(OWNER, 'ms', ms, { min: 0, allowInfinity: true }, false);
    this.#age(this.clock.now());
    let index: number;
    if (ms <= MIN_TRACKED) index = 0;
    else {
      index = Math.ceil(Math.log(ms) * this.#multiplier) - this.#offset;
      if (index >= this.#buckets) index = this.#buckets - 1;
      else if (index < 0) index = 0;
    }
    const ring = this.#ring(this.#slice);
    this.#counts[ring * this.#buckets + index]!++;
    if (index < this.#lows[ring]!) this.#lows[ring] = index;
    if (index > this.#highs[ring]!) this.#highs[ring] = index;
    this.#sliceCounts[ring]!++;
    this.#total[index]!++;
    if (index < this.#low) this.#low = index;
    if (index > this.#high) this.#high = index;
    this.#count++;
    this.#version++;
  }

  /**
   * The `q`-quantile of the window (`q` in [0, 1]) within the relative accuracy; `NaN` when the
   * window holds fewer than `minCount` (default 1) samples. Uses the lower rank `q·(count − 1)`,
   * like DDSketch.
   */
  quantile(q: number, minCount = 1): number {
    if (!(q >= 0 && q <= 1)) checkNumber(OWNER, 'q', q, { min: 0, max: 1 }, false);
    this.#age(this.clock.now());
    const count = this.#count;
    if (count === 0 || count < minCount) return Number.NaN;
    const rank = q * (count - 1);
    const total = this.#total;
    let index: number;
    if (q >= 0.5) {
      // High quantiles (the case that matters for timeouts): walk down from the top.
      let above = 0;
      index = this.#high;
      for (; index > this.#low; index--) {
        above += total[index]!;
        if (count - above <= rank) break;
      }
    } else {
      let below = 0;
      index = this.#low;
      for (; index < this.#high; index++) {
        below += total[index]!;
        if (below > rank) break;
      }
    }
    return this.#value(index);
  }

  /** Forgets every sample. */
  clear(): void {
    for (let ring = 0; ring < this.slices; ring++) this.#clearSlice(ring);
    this.#low = this.#buckets;
    this.#high = -1;
    this.#version++;
  }

  #value(index: number): number {
    // DDSketch: the bucket (gamma^(i-1), gamma^i] is represented by 2·gamma^i / (gamma + 1).
    return (2 * this.#gamma ** (index + this.#offset)) / (this.#gamma + 1);
  }

  /** Expires the slices that left the window by time `now`. */
  #age(now: number): void {
    const slice = Math.floor(now / this.#sliceLength);
    if (slice <= this.#slice) return;
    const steps = slice - this.#slice > this.slices ? this.slices : slice - this.#slice;
    let expired = false;
    for (let step = 1; step <= steps; step++) {
      const ring = this.#ring(this.#slice + step);
      if (this.#sliceCounts[ring]! > 0) {
        this.#clearSlice(ring);
        expired = true;
      }
    }
    this.#slice = slice;
    if (expired) {
      this.#version++;
      let low = this.#buckets;
      let high = -1;
      for (let ring = 0; ring < this.slices; ring++) {
        if (this.#sliceCounts[ring] === 0) continue;
        if (this.#lows[ring]! < low) low = this.#lows[ring]!;
        if (this.#highs[ring]! > high) high = this.#highs[ring]!;
      }
      this.#low = low;
      this.#high = high;
    }
  }

  /** The ring position of a slice number; slice numbers are negative on a clock that reads < 0. */
  #ring(slice: number): number {
    const ring = slice % this.slices;
    return ring < 0 ? ring + this.slices : ring;
  }

  #clearSlice(ring: number): void {
    const counts = this.#counts;
    const total = this.#total;
    const base = ring * this.#buckets;
    const high = this.#highs[ring]!;
    for (let index = this.#lows[ring]!; index <= high; index++) {
      total[index]! -= counts[base + index]!;
      counts[base + index] = 0;
    }
    this.#count -= this.#sliceCounts[ring]!;
    this.#sliceCounts[ring] = 0;
    this.#lows[ring] = this.#buckets;
    this.#highs[ring] = -1;
  }
}
