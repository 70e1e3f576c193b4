import { adaptiveThrottle, circuitBreaker, failureRate } from '@faultline/breaker';
import { type Policy, pipeline } from '@faultline/core';
import {
  concurrencyBudget,
  exponential,
  quotaBudget,
  type RetryBudget,
  ratioBudget,
  retry,
  tokenBucketBudget,
} from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { exponential as exponentialDistribution, normal } from '../distribution.js';
import { timeToRecover } from '../metrics.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import {
  mean,
  meanBuckets,
  type PolicyEnvironment,
  round,
  runSeed,
  type ServiceRunResult,
  serviceRun,
} from './service.js';

/** The retry-storm model: a server at 80 % utilisation, a 10 s outage answering 503s. */
export const retryStormModel = {
  /** 10 workers × 10 ms mean service time = 1000 requests/s of capacity. */
  concurrency: 10,
  serviceTimeMean: 10,
  queueLimit: 200,
  /** Open-loop arrivals: 80 % of capacity. */
  rate: 800,
  outage: { start: 20_000, duration: 10_000 },
  until: 45_000,
  /** Per-attempt timeout, ms. */
  attemptTimeout: 1_000,
  maxAttempts: 3,
} as const;

/** One client configuration compared by the scenario. */
export interface StormVariant {
  readonly name: string;
  /** The extra load the configuration is documented to allow (amplification ≈ 1 + this). */
  readonly allowance: number | null;
  readonly policy: (env: PolicyEnvironment) => Policy;
}

const backoff = exponential({ initial: 50, max: 1_000, jitter: 'full' });

function withRetries(env: PolicyEnvironment, budget?: RetryBudget): Policy {
  const { clock, random } = env;
  return pipeline(
    retry({
      maxAttempts: retryStormModel.maxAttempts,
      backoff,
      clock,
      random,
      ...(budget === undefined ? {} : { budget }),
    }),
    timeout(retryStormModel.attemptTimeout, { clock }),
  );
}

/** The configurations, in report order. */
export const retryStormVariants: readonly StormVariant[] = [
  {
    name: 'no retries',
    allowance: 0,
    policy: ({ clock }) => timeout(retryStormModel.attemptTimeout, { clock }),
  },
  { name: '3 attempts', allowance: 2, policy: (env) => withRetries(env) },
  {
    // gRPC throttling: retries stop once the bucket is half empty; each success earns 0.1.
    name: '3 attempts + token bucket',
    allowance: 0.1,
    policy: (env) => withRetries(env, tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 })),
  },
  {
    // Finagle: retries ≤ 20 % of calls + 10/s.
    name: '3 attempts + ratio budget',
    allowance: 0.2 + 10 / retryStormModel.rate,
    policy: (env) =>
      withRetries(env, ratioBudget({ ratio: 0.2, minRetriesPerSecond: 10, clock: env.clock })),
  },
  {
    // AWS SDK quota: 500 units, 14 per retry, refilled only by successes.
    name: '3 attempts + quota budget',
    allowance: 0,
    policy: (env) => withRetries(env, quotaBudget()),
  },
  {
    // Envoy: retries in flight ≤ max(3, 20 % of calls in flight).
    name: '3 attempts + concurrency budget',
    allowance: 0.2,
    policy: (env) => withRetries(env, concurrencyBudget({ ratio: 0.2, min: 3 })),
  },
  {
    name: '3 attempts + breaker',
    allowance: null,
    policy: (env) =>
      pipeline(
        withRetries(env),
        circuitBreaker({
          trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 5_000 }),
          breakDuration: 1_000,
          clock: env.clock,
          random: env.random,
        }),
      ),
  },
  {
    // Per attempt, inside the retry (its local rejections are not retried). After a total
    // outage it lets through ~1/(requests + 1) of the attempts and the accepted share at most
    // doubles per window (SRE book, "Handling Overload"), so it recovers over several windows.
    name: '3 attempts + adaptive throttle',
    allowance: null,
    policy: (env) =>
      pipeline(
        retry({
          maxAttempts: retryStormModel.maxAttempts,
          backoff,
          clock: env.clock,
          random: env.random,
        }),
        adaptiveThrottle({
          k: 2,
          window: 10_000,
          buckets: 10,
          clock: env.clock,
          random: env.random,
        }),
        timeout(retryStormModel.attemptTimeout, { clock: env.clock }),
      ),
  },
];

/**
 * Options for {@link planRetryStorm}.
 * @inline
 */
export interface RetryStormOptions extends ScenarioOptions {
  readonly variants?: readonly StormVariant[];
  /** Server workers (default 10); the arrival rate scales with it to keep 80 % utilisation. */
  readonly concurrency?: number;
}

/**
 * Results of one configuration (means over runs).
 * @inline
 */
export interface StormResult {
  readonly name: string;
  readonly allowance: number | null;
  /** Attempts per offered request during the outage. */
  readonly amplification: number | null;
  /** Attempts the server received per second during the outage, and before it. */
  readonly serverLoadOutage: number | null;
  readonly serverLoadBefore: number | null;
  /** Successful requests per second before the outage. */
  readonly goodputBefore: number | null;
  /** From the end of the outage until goodput is back within 5 % of before, ms (null: never). */
  readonly timeToRecover: number | null;
  /** Runs that recovered before the end of the run. */
  readonly recovered: number;
  readonly successRate: number | null;
  readonly p99: number | null;
  readonly buckets: ReadonlyArray<{
    t: number;
    offered: number | null;
    attempts: number | null;
    serverLoad: number | null;
    goodput: number | null;
  }>;
}

export interface RetryStormReport {
  readonly scenario: 'retry-storm';
  readonly seed: number;
  readonly runs: number;
  readonly model: {
    readonly capacity: number;
    readonly rate: number;
    readonly outage: { readonly start: number; readonly end: number };
    readonly until: number;
    readonly maxAttempts: number;
  };
  readonly results: readonly StormResult[];
}

/**
 * `retry-storm`: a server at 80 % utilisation answers 503 for 10 s. Plain retries multiply the
 * load it receives during the outage; budgets cap the extra load at their allowance; a breaker and
 * an adaptive throttle shed it at the client. Reports amplification during the outage and time to
 * recover after it.
 */
export function planRetryStorm(
  options: RetryStormOptions = {},
): ScenarioPlan<ServiceRunResult, RetryStormReport> {
  const { seed, runs } = scenarioDefaults('planRetryStorm', options, 3);
  const variants = options.variants ?? retryStormVariants;
  // Tests shrink the fleet (same 80 % utilisation, fewer events); reports use the defaults.
  const m = {
    ...retryStormModel,
    ...(options.concurrency === undefined
      ? {}
      : {
          concurrency: options.concurrency,
          rate: (retryStormModel.rate * options.concurrency) / retryStormModel.concurrency,
        }),
  };
  const start = m.outage.start;
  const end = m.outage.start + m.outage.duration;
  const specs = variants.flatMap((variant) =>
    Array.from({ length: runs }, (_, run) =>
      serviceRun({
        // The same seed for every variant of run r: the same arrivals and service times until
        // the policies make the runs diverge (common random numbers).
        seed: runSeed(seed, run),
        until: m.until,
        server: {
          concurrency: m.concurrency,
          queueLimit: m.queueLimit,
          serviceTime: exponentialDistribution(m.serviceTimeMean),
          incidents: [{ kind: 'outage', start, duration: m.outage.duration, mode: 'errors' }],
        },
        network: { latency: normal(1, 0.2) },
        load: { kind: 'open', rate: m.rate },
        policy: variant.policy,
      }),
    ),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const results = variants.map((variant, v): StormResult => {
        const mine = outcomes.slice(v * runs, (v + 1) * runs).map((o) => o.metrics);
        // Only full buckets inside the outage: [start, end).
        const duringOutage = mine.map((metrics) => windowTotals(metrics.buckets, start, end));
        const before = mine.map((metrics) => windowTotals(metrics.buckets, start - 10_000, start));
        const recoveries = mine.map((metrics) => timeToRecover(metrics.buckets, { start, end }));
        const recovered = recoveries.filter((r): r is number => r !== null);
        return {
          name: variant.name,
          allowance: variant.allowance,
          amplification: round(mean(duringOutage.map((w) => w.attempts / w.offered))),
          serverLoadOutage: round(mean(duringOutage.map((w) => w.serverLoad / w.seconds))),
          serverLoadBefore: round(mean(before.map((w) => w.serverLoad / w.seconds))),
          goodputBefore: round(mean(before.map((w) => w.successes / w.seconds))),
          timeToRecover: recovered.length === runs ? round(mean(recovered)) : null,
          recovered: recovered.length,
          successRate: round(mean(mine.map((metrics) => metrics.successRate)), 4),
          p99: round(mean(mine.map((metrics) => metrics.p99))),
          buckets: meanBuckets(mine, ['offered', 'attempts', 'serverLoad', 'goodput'] as const).map(
            (b) => ({
              t: b.t,
              offered: round(b.offered),
              attempts: round(b.attempts),
              serverLoad: round(b.serverLoad),
              goodput: round(b.goodput),
            }),
          ),
        };
      });
      return {
        scenario: 'retry-storm',
        seed,
        runs,
        model: {
          capacity: (m.concurrency * 1000) / m.serviceTimeMean,
          rate: m.rate,
          outage: { start, end },
          until: m.until,
          maxAttempts: m.maxAttempts,
        },
        results,
      };
    },
  };
}

/** Runs {@link planRetryStorm} in this thread. */
export function runRetryStorm(options: RetryStormOptions = {}): Promise<RetryStormReport> {
  return runPlan(planRetryStorm(options), options.simulate);
}

/** Sums of bucket counts over [from, to). */
export function windowTotals(
  buckets: ReadonlyArray<{
    t: number;
    offered: number;
    attempts: number;
    serverLoad: number;
    successes: number;
  }>,
  from: number,
  to: number,
): { offered: number; attempts: number; serverLoad: number; successes: number; seconds: number } {
  let offered = 0;
  let attempts = 0;
  let serverLoad = 0;
  let successes = 0;
  let width = 0;
  for (const bucket of buckets) {
    if (bucket.t < from || bucket.t >= to) continue;
    offered += bucket.offered;
    attempts += bucket.attempts;
    serverLoad += bucket.serverLoad;
    successes += bucket.successes;
    width++;
  }
  const bucketMs = buckets.length > 1 ? buckets[1]!.t - buckets[0]!.t : 1000;
  return { offered, attempts, serverLoad, successes, seconds: (width * bucketMs) / 1000 };
}
