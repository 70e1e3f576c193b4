import { checkNumber, checkOptions, formatValue, type Random } from '@faultline/core';

/**
 * A distribution of non-negative durations (ms) or sizes. `sample(random)` draws one value using
 * only `random`, so a run is reproducible from its seed. Distributions hold no state between
 * draws: one instance can be shared by runs that execute side by side or in other threads.
 */
export interface Distribution {
  sample(random: Random): number;
  /**
   * Optional: a sampler for one run, drawing from `random` like `sample` but free to keep state
   * between its draws (the distribution itself stays stateless and shareable). The simulator's
   * `Network` builds one per network, so a distribution can reuse work across draws, as `normal`
   * and `lognormal` reuse Box-Muller's second deviate. Without it, draws are `sample(random)`.
   */
  sampler?(random: Random): () => number;
  /** The distribution's mean (used to size load, e.g. utilisation = rate · mean service time). */
  readonly mean: number;
  /** A short description for reports, e.g. `normal(10, 2)`. */
  readonly label: string;
}

const finite = { min: 0 } as const;

/** Always `value`. */
export function constant(value: number): Distribution {
  checkNumber('constant', 'value', value, finite, false);
  return { sample: () => value, mean: value, label: `constant(${value})` };
}

/** Uniform on [min, max). */
export function uniform(min: number, max: number): Distribution {
  checkNumber('uniform', 'min', min, finite, false);
  checkNumber('uniform', 'max', max, { min }, false);
  const width = max - min;
  return {
    sample: (random) => min + random() * width,
    mean: (min + max) / 2,
    label: `uniform(${min}, ${max})`,
  };
}

/** A standard normal deviate by Box-Muller, drawing two uniforms (no cached spare: stateless). */
export function standardNormal(random: Random): number {
  let u = random();
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A stream of standard normal deviates drawn from `random`, for one run: Box-Muller yields two
 * independent deviates per two uniforms, and this returns the second (the sine) on the next call
 * instead of discarding it, as java.util.Random.nextGaussian and Python's random.gauss do. Half
 * the uniforms, logarithms and square roots of {@link standardNormal} per deviate. The state is
 * the stream's own: build one per run (see {@link Distribution.sampler}), never share it.
 */
export function standardNormalSampler(random: Random): () => number {
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    let u = random();
    while (u === 0) u = random();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    hasSpare = true;
    return r * Math.cos(theta);
  };
}

/**
 * The absolute value of Normal(mean, sd): Brooker's network hop model (|N(10, 2)| ms in the AWS
 * backoff simulator, aws-samples/aws-arch-backoff-simulator, which draws it from Mersenne Twister
 * with Python's `random.normalvariate`, a ratio-of-uniforms method: the same distribution, other
 * draws, whichever method is used here). `sample` draws by {@link standardNormal}; `sampler`, what
 * a `Network` uses, by {@link standardNormalSampler}, caching Box-Muller's second deviate for the
 * run's next draw. What is kept is the same result for the same seed (within a version) and the
 * published conclusions, not one particular sequence of draws. `mean` is the mean of the
 * underlying normal (the folded mean differs only when `sd` is large relative to `mean`).
 */
export function normal(mean: number, sd: number): Distribution {
  checkNumber('normal', 'mean', mean, finite, false);
  checkNumber('normal', 'sd', sd, finite, false);
  return {
    sample: (random) => Math.abs(mean + sd * standardNormal(random)),
    sampler: (random) => {
      const next = standardNormalSampler(random);
      return () => Math.abs(mean + sd * next());
    },
    mean,
    label: `normal(${mean}, ${sd})`,
  };
}

/** Exponential with the given mean (memoryless: Poisson inter-arrival times, M/M/c service). */
export function exponential(mean: number): Distribution {
  checkNumber('exponential', 'mean', mean, { min: 0, minExclusive: true }, false);
  return {
    // 1 - random() is in (0, 1], so the logarithm is finite.
    sample: (random) => -mean * Math.log(1 - random()),
    mean,
    label: `exponential(${mean})`,
  };
}

/**
 * Log-normal given its median and the standard deviation `sigma` of the underlying normal: the
 * classic shape of service latency (a long right tail). Mean = median · e^(sigma²/2). Like
 * {@link normal}, its `sampler` (per run) caches Box-Muller's second deviate; `sample` does not.
 */
export function lognormal(options: { median: number; sigma: number }): Distribution {
  const opts = checkOptions<{ median: number; sigma: number }>('lognormal', options);
  const median = checkNumber('lognormal', 'median', opts.median, { min: 0, minExclusive: true });
  const sigma = checkNumber('lognormal', 'sigma', opts.sigma, finite);
  const mu = Math.log(median);
  return {
    sample: (random) => Math.exp(mu + sigma * standardNormal(random)),
    sampler: (random) => {
      const next = standardNormalSampler(random);
      return () => Math.exp(mu + sigma * next());
    },
    mean: median * Math.exp((sigma * sigma) / 2),
    label: `lognormal(median ${median}, sigma ${sigma})`,
  };
}

/**
 * A mixture: `slow` with probability `p`, otherwise `fast` (a cache miss, a GC pause, one bad
 * disk: the bimodal latency that fixed timeouts handle badly).
 */
export function bimodal(fast: Distribution, slow: Distribution, p: number): Distribution {
  checkDistribution('bimodal', 'fast', fast, false);
  checkDistribution('bimodal', 'slow', slow, false);
  checkNumber('bimodal', 'p', p, { min: 0, max: 1 }, false);
  return {
    sample: (random) => (random() < p ? slow.sample(random) : fast.sample(random)),
    mean: (1 - p) * fast.mean + p * slow.mean,
    label: `bimodal(${fast.label}, ${slow.label}, ${p})`,
  };
}

/**
 * The empirical distribution of measured `values`: inverse-CDF sampling with linear
 * interpolation between the sorted values (so draws fill the gaps between measurements).
 */
export function empirical(values: readonly number[]): Distribution {
  if (!Array.isArray(values) || values.length === 0) {
    throw new TypeError(
      `empirical: argument "values" must be a non-empty array of numbers, received ${formatValue(values)}`,
    );
  }
  for (const value of values) checkNumber('empirical', 'values[]', value, finite, false);
  const sorted = Float64Array.from(values).sort();
  const last = sorted.length - 1;
  let sum = 0;
  for (const value of sorted) sum += value;
  // The mean of the interpolated distribution: the trapezoid rule over the sorted values.
  const mean = last === 0 ? sorted[0]! : (sum - (sorted[0]! + sorted[last]!) / 2) / last;
  return {
    sample: (random) => {
      const position = random() * last;
      const low = Math.floor(position);
      const high = low < last ? low + 1 : low;
      return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
    },
    mean,
    label: `empirical(${sorted.length} values)`,
  };
}

/**
 * A sampler of `distribution` for one run: its own {@link Distribution.sampler} when it has one,
 * else `() => distribution.sample(random)`.
 */
export function samplerOf(distribution: Distribution, random: Random): () => number {
  const sampler = distribution.sampler;
  return typeof sampler === 'function'
    ? sampler.call(distribution, random)
    : () => distribution.sample(random);
}

/**
 * Throws unless `value` looks like a {@link Distribution}. `isOption: false` names `option` as a
 * positional argument (`bimodal(fast, slow, p)`).
 */
export function checkDistribution(
  owner: string,
  option: string,
  value: unknown,
  isOption = true,
): Distribution {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<Distribution>).sample !== 'function'
  ) {
    throw new TypeError(
      `${owner}: ${isOption ? 'option' : 'argument'} "${option}" must be a Distribution (an object with sample(random)), received ${formatValue(value)}`,
    );
  }
  // samplerOf falls back to sample() without a sampler: one that is there but not a function is
  // a mistake to name, not a silent fallback.
  const sampler = (value as Partial<Distribution>).sampler;
  if (sampler !== undefined && typeof sampler !== 'function') {
    throw new TypeError(
      `${owner}: ${isOption ? 'option' : 'argument'} "${option}" has a sampler that is not a function (sampler(random) must return a draw function), received ${formatValue(sampler)}`,
    );
  }
  return value as Distribution;
}

/**
 * Every distribution under one name: `distributions.exponential(10)`. Prefer it to the bare
 * `constant` and `exponential` exports, which share their names with `@faultline/retry`'s
 * backoffs (one file importing both needs an alias).
 */
export const distributions = {
  constant,
  uniform,
  normal,
  exponential,
  lognormal,
  bimodal,
  empirical,
} as const;
