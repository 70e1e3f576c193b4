import { checkNumber, checkOptions, optionalNumber } from '@faultline/core';

/** Totals of one time bucket (or of a whole run, without `t`). */
export interface Totals {
  /** Logical requests the clients started. */
  readonly offered: number;
  /** Attempts the clients sent (first tries and retries). */
  readonly attempts: number;
  /** Attempts the server received: its load. */
  readonly serverLoad: number;
  /** Requests that ended in success / in failure. */
  readonly successes: number;
  readonly failures: number;
  /** Successful requests per second. */
  readonly goodput: number;
  /** Attempts per offered request. */
  readonly amplification: number;
  /** Latency of successful requests (first attempt to answer, retries included), ms. */
  readonly p50: number;
  readonly p99: number;
  /**
   * The 99.9th percentile, or `NaN` when fewer than {@link P999_MIN_SAMPLES} requests succeeded:
   * below that the nearest rank is simply the maximum, and a bare number would pass for a p99.9.
   */
  readonly p999: number;
  /** Successful requests behind the latency quantiles. */
  readonly samples: number;
}

/** Fewest samples for which a p99.9 is reported (1 000: at least one sample beyond it). */
export const P999_MIN_SAMPLES = 1000;

/** One time bucket of a run. */
export interface Bucket extends Totals {
  /** Start of the bucket, ms of simulated time. */
  readonly t: number;
}

/** What a run reports: totals over `[from, to)`, per bucket, and time to recover. */
export interface RunMetrics extends Totals {
  readonly successRate: number;
  readonly buckets: readonly Bucket[];
  /** Bucket width, ms. */
  readonly bucket: number;
}

class Counts {
  offered = 0;
  attempts = 0;
  serverLoad = 0;
  successes = 0;
  failures = 0;
  latencies: number[] = [];
}

/** Nearest-rank percentile of an ascending array (`NaN` when empty). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function totals(counts: Counts, seconds: number): Totals {
  const sorted = Float64Array.from(counts.latencies).sort();
  return {
    offered: counts.offered,
    attempts: counts.attempts,
    serverLoad: counts.serverLoad,
    successes: counts.successes,
    failures: counts.failures,
    goodput: seconds > 0 ? counts.successes / seconds : 0,
    amplification: counts.offered > 0 ? counts.attempts / counts.offered : 0,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: sorted.length >= P999_MIN_SAMPLES ? percentile(sorted, 0.999) : Number.NaN,
    samples: sorted.length,
  };
}

/** Options for {@link Metrics}. */
export interface MetricsOptions {
  /** Bucket width, ms. Default 1000. */
  readonly bucket?: number;
}

/**
 * Counts what happens in a run per time bucket: requests offered, attempts sent, attempts the
 * server received, successes and failures, and success latencies. Requests are counted in the
 * bucket where they start (offered) or end (successes, failures, latency); attempts where they
 * are sent or received.
 */
export class Metrics {
  readonly bucket: number;
  readonly #buckets: Counts[] = [];

  constructor(options?: MetricsOptions) {
    const opts = checkOptions<MetricsOptions>('Metrics', options);
    this.bucket = optionalNumber('Metrics', 'bucket', opts.bucket, 1000, {
      min: 0,
      minExclusive: true,
    });
  }

  #at(time: number): Counts {
    const index = Math.floor(time / this.bucket);
    const buckets = this.#buckets;
    while (buckets.length <= index) buckets.push(new Counts());
    return buckets[index]!;
  }

  /** A logical request started at `time`. */
  offer(time: number): void {
    this.#at(time).offered++;
  }

  /** The client sent an attempt (first try or retry) at `time`. */
  attempt(time: number): void {
    this.#at(time).attempts++;
  }

  /** The server received an attempt at `time` (its load). */
  serverReceive(time: number): void {
    this.#at(time).serverLoad++;
  }

  /** A request started at `started` ended at `ended`, in success or not. */
  complete(started: number, ended: number, ok: boolean): void {
    const counts = this.#at(ended);
    if (ok) {
      counts.successes++;
      counts.latencies.push(ended - started);
    } else {
      counts.failures++;
    }
  }

  /** Totals over the buckets in `[from, to)` (ms; rounded down to bucket starts). */
  window(from: number, to: number): Totals {
    const all = new Counts();
    const first = Math.max(0, Math.floor(from / this.bucket));
    const last = Math.min(this.#buckets.length, Math.ceil(to / this.bucket));
    for (let i = first; i < last; i++) {
      const counts = this.#buckets[i]!;
      all.offered += counts.offered;
      all.attempts += counts.attempts;
      all.serverLoad += counts.serverLoad;
      all.successes += counts.successes;
      all.failures += counts.failures;
      for (const latency of counts.latencies) all.latencies.push(latency);
    }
    return totals(all, (Math.max(0, last - first) * this.bucket) / 1000);
  }

  /** The run's report over `[0, until)`. */
  summary(until: number): RunMetrics {
    checkNumber('Metrics.summary', 'until', until, { min: 0 }, false);
    const count = Math.ceil(until / this.bucket);
    while (this.#buckets.length < count) this.#buckets.push(new Counts());
    const buckets: Bucket[] = [];
    for (let i = 0; i < count; i++) {
      buckets.push({ t: i * this.bucket, ...totals(this.#buckets[i]!, this.bucket / 1000) });
    }
    const all = this.window(0, until);
    const ended = all.successes + all.failures;
    return {
      ...all,
      successRate: ended > 0 ? all.successes / ended : 0,
      buckets,
      bucket: this.bucket,
    };
  }
}

/**
 * Time to recover from an incident that ended at `end` (ms): from `end` to the start of the first
 * bucket at or after it whose goodput is back within `tolerance` (default 5 %) of the mean
 * goodput over the `baseline` window before the incident. `null` if it never recovers in the run.
 */
export function timeToRecover(
  buckets: readonly Bucket[],
  incident: { readonly start: number; readonly end: number },
  options: { readonly baseline?: number; readonly tolerance?: number } = {},
): number | null {
  const baselineWindow = options.baseline ?? 10_000;
  const tolerance = options.tolerance ?? 0.05;
  let sum = 0;
  let n = 0;
  for (const bucket of buckets) {
    if (bucket.t >= incident.start - baselineWindow && bucket.t < incident.start) {
      sum += bucket.goodput;
      n++;
    }
  }
  if (n === 0) return null;
  const before = sum / n;
  for (const bucket of buckets) {
    if (bucket.t < incident.end) continue;
    if (Math.abs(bucket.goodput - before) <= tolerance * before) {
      return Math.max(0, bucket.t - incident.end);
    }
  }
  return null;
}
