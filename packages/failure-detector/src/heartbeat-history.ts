import { checkNumber } from '@faultline/core';

/**
 * The largest window a history accepts: 10× the 1000 intervals of Akka's and Cassandra's
 * detectors. At one heartbeat a second that is close to three hours of history, longer than any
 * network keeps one behaviour, and at most 80 KB per peer.
 */
export const MAX_SAMPLE_SIZE = 10_000;

/** Storage allocated for a new history: enough for the two seed intervals and a few more. */
const INITIAL_CAPACITY = 16;

/** Read-only view of a {@link HeartbeatHistory}, as the detectors expose it. */
export interface HeartbeatStatistics {
  /** The window size: the history keeps the last `maxSampleSize` intervals. */
  readonly maxSampleSize: number;
  /** How many intervals are retained (at most `maxSampleSize`). */
  readonly size: number;
  /** Mean of the retained intervals (ms); `NaN` when empty. */
  readonly mean: number;
  /** Population variance of the retained intervals (ms²); `NaN` when empty. */
  readonly variance: number;
  /** Population standard deviation (ms); `NaN` when empty. */
  readonly stdDeviation: number;
  /** The retained intervals, oldest first (a copy). */
  values(): number[];
}

/**
 * The last `maxSampleSize` heartbeat inter-arrival times with their mean and population variance,
 * as Akka's `HeartbeatHistory`, in O(1) amortized time per {@link add} and O(1) per query.
 *
 * Why not plain running sums: Akka keeps `Σx` and `Σx²` and computes `Σx²/n - mean²`. In floating
 * point (our intervals are fractional ms), adding and subtracting millions of values makes those
 * sums drift, and the subtraction cancels catastrophically when the spread is small next to the
 * mean (intervals of 1000 ± 1 ms need Σx² to 12 significant digits). So:
 * - the sums are of `x - shift`, where `shift` is close to the mean, which removes the
 *   cancellation (the "shifted data" algorithm: Chan, Golub & LeVeque, "Algorithms for computing
 *   the sample variance: analysis and recommendations", 1983);
 * - both sums are compensated (Neumaier's improved Kahan summation, 1974), so adding and later
 *   subtracting a large outlier leaves an error of order ε², not ε, times its square;
 * - every `maxSampleSize` adds the sums are recomputed exactly by a two-pass over the window with
 *   `shift` reset to the exact mean, and earlier when the mean has moved more than 1000 standard
 *   deviations away from `shift` (a change of regime), so rounding error never accumulates over
 *   more than one window of updates. A pass costs O(maxSampleSize) and happens at most once per
 *   maxSampleSize adds in steady state.
 *
 * Storage grows with the samples held (doubling, up to `maxSampleSize`), so a peer that has sent
 * one heartbeat costs a few hundred bytes whatever the window: a registry of 100 000 peers with
 * the default window of 1000 would otherwise hold 800 MB before learning anything.
 */
export class HeartbeatHistory implements HeartbeatStatistics {
  readonly maxSampleSize: number;
  #samples: Float64Array;
  #size = 0;
  /** Index of the next write (the oldest sample once the window is full). */
  #next = 0;
  #shift = 0;
  /** Σ(x - shift) and Σ(x - shift)² over the retained samples, each with its compensation. */
  #sum = 0;
  #sumError = 0;
  #sumSquares = 0;
  #sumSquaresError = 0;
  #addsSinceExact = 0;

  /**
   * @param maxSampleSize an integer in [1, {@link MAX_SAMPLE_SIZE}]: how many of the most recent
   * intervals to keep.
   */
  constructor(maxSampleSize: number) {
    this.maxSampleSize = checkNumber(
      'HeartbeatHistory',
      'maxSampleSize',
      maxSampleSize,
      {
        min: 1,
        max: MAX_SAMPLE_SIZE,
        integer: true,
      },
      false,
    );
    this.#samples = new Float64Array(Math.min(maxSampleSize, INITIAL_CAPACITY));
  }

  /** Intervals of storage allocated now: grows with {@link size} up to `maxSampleSize`. */
  get capacity(): number {
    return this.#samples.length;
  }

  get size(): number {
    return this.#size;
  }

  get mean(): number {
    return this.#size === 0 ? Number.NaN : this.#shift + (this.#sum + this.#sumError) / this.#size;
  }

  get variance(): number {
    const n = this.#size;
    if (n === 0) return Number.NaN;
    const m = (this.#sum + this.#sumError) / n;
    const v = (this.#sumSquares + this.#sumSquaresError) / n - m * m;
    return v > 0 ? v : 0;
  }

  get stdDeviation(): number {
    return Math.sqrt(this.variance);
  }

  /**
   * Appends an interval (ms, a finite number >= 0), dropping the oldest one when the window is
   * full.
   */
  add(interval: number): void {
    if (!(interval >= 0 && interval < Number.POSITIVE_INFINITY) || typeof interval !== 'number') {
      checkNumber('HeartbeatHistory.add', 'interval', interval, { min: 0 }, false);
    }
    let samples = this.#samples;
    const max = this.maxSampleSize;
    if (this.#size === max) {
      const dropped = samples[this.#next]! - this.#shift;
      this.#accumulate(-dropped, -dropped * dropped);
    } else {
      if (this.#size === 0) this.#shift = interval;
      // Not full: the samples sit in [0, size) in order (the ring wraps only once full).
      if (this.#size === samples.length) samples = this.#grow();
      this.#size++;
    }
    samples[this.#next] = interval;
    this.#next = this.#next + 1 === max ? 0 : this.#next + 1;
    const added = interval - this.#shift;
    this.#accumulate(added, added * added);
    if (++this.#addsSinceExact >= max) {
      this.#recompute();
    } else {
      // Regime change: once the mean is far from the shift, Σ(x-shift)²/n - mean² cancels.
      const n = this.#size;
      const m = (this.#sum + this.#sumError) / n;
      if (m * m > 1e6 * ((this.#sumSquares + this.#sumSquaresError) / n - m * m)) {
        this.#recompute();
      }
    }
  }

  /** Neumaier summation of `d` into the first sum and `d2` into the second. */
  #accumulate(d: number, d2: number): void {
    let s = this.#sum;
    let t = s + d;
    this.#sumError += Math.abs(s) >= Math.abs(d) ? s - t + d : d - t + s;
    this.#sum = t;
    s = this.#sumSquares;
    t = s + d2;
    this.#sumSquaresError += Math.abs(s) >= Math.abs(d2) ? s - t + d2 : d2 - t + s;
    this.#sumSquares = t;
  }

  /** Doubles the storage (up to `maxSampleSize`), keeping the samples. */
  #grow(): Float64Array {
    const grown = new Float64Array(Math.min(this.#samples.length * 2, this.maxSampleSize));
    grown.set(this.#samples);
    this.#samples = grown;
    return grown;
  }

  /** Forgets every interval (and gives back the storage). */
  clear(): void {
    this.#samples = new Float64Array(Math.min(this.maxSampleSize, INITIAL_CAPACITY));
    this.#size = 0;
    this.#next = 0;
    this.#shift = 0;
    this.#sum = 0;
    this.#sumError = 0;
    this.#sumSquares = 0;
    this.#sumSquaresError = 0;
    this.#addsSinceExact = 0;
  }

  values(): number[] {
    const n = this.#size;
    const out = new Array<number>(n);
    const start = n === this.maxSampleSize ? this.#next : 0;
    for (let i = 0; i < n; i++) out[i] = this.#samples[(start + i) % this.maxSampleSize]!;
    return out;
  }

  /** Exact two-pass recomputation: shift := mean, then the sums of the shifted values. */
  #recompute(): void {
    this.#addsSinceExact = 0;
    const samples = this.#samples;
    const n = this.#size;
    let total = 0;
    for (let i = 0; i < n; i++) total += samples[i]!;
    const shift = total / n;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const d = samples[i]! - shift;
      sum += d;
      sumSquares += d * d;
    }
    this.#shift = shift;
    this.#sum = sum;
    this.#sumError = 0;
    this.#sumSquares = sumSquares;
    this.#sumSquaresError = 0;
  }
}
