import { circuitBreaker, failureRate } from '@faultline/breaker';
import { type Policy, pipeline } from '@faultline/core';
import { concurrencyBudget, quotaBudget, ratioBudget, tokenBucketBudget } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { exponential as exponentialDistribution, normal } from '../distribution.js';
import { timeToRecover } from '../metrics.js';
import { list, num, pct, secondsText } from '../report/format.js';
import { barChart, recoveryChart, smallMultiples } from '../report/svg.js';
import { defineScenario } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { retryClient } from './retry-client.js';
import {
  mean,
  type PolicyEnvironment,
  round,
  roundedMeanBuckets,
  runSeed,
  type ServiceRunResult,
  serviceRun,
  TRAFFIC_SERIES,
  type TrafficBucket,
} from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

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

/** The configurations, in report order. */
export const retryStormVariants: readonly StormVariant[] = [
  {
    name: 'no retries',
    allowance: 0,
    policy: ({ clock }) => timeout(retryStormModel.attemptTimeout, { clock }),
  },
  { name: '3 attempts', allowance: 2, policy: (env) => retryClient(env, retryStormModel) },
  {
    // gRPC throttling: retries stop once the bucket is half empty; each success earns 0.1.
    name: '3 attempts + token bucket',
    allowance: 0.1,
    policy: (env) =>
      retryClient(env, retryStormModel, {
        budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }),
      }),
  },
  {
    // Finagle: retries ≤ 20 % of calls + 10/s.
    name: '3 attempts + ratio budget',
    allowance: 0.2 + 10 / retryStormModel.rate,
    policy: (env) =>
      retryClient(env, retryStormModel, {
        budget: ratioBudget({ ratio: 0.2, minRetriesPerSecond: 10, clock: env.clock }),
      }),
  },
  {
    // AWS SDK quota: 500 units, 14 per retry, refilled only by successes.
    name: '3 attempts + quota budget',
    allowance: 0,
    policy: (env) => retryClient(env, retryStormModel, { budget: quotaBudget() }),
  },
  {
    // Envoy: retries in flight ≤ max(3, 20 % of calls in flight).
    name: '3 attempts + concurrency budget',
    allowance: 0.2,
    policy: (env) =>
      retryClient(env, retryStormModel, { budget: concurrencyBudget({ ratio: 0.2, min: 3 }) }),
  },
  {
    name: '3 attempts + breaker',
    allowance: null,
    policy: (env) =>
      pipeline(
        retryClient(env, retryStormModel),
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
    policy: (env) => retryClient(env, retryStormModel, { throttle: true }),
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
  readonly buckets: ReadonlyArray<TrafficBucket>;
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
  const specs = variantRuns(variants, runs, (variant, run) =>
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
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const results = variants.map((variant, v): StormResult => {
        const mine = variantOutcomes(outcomes, v, runs).map((o) => o.metrics);
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
          buckets: roundedMeanBuckets(mine, TRAFFIC_SERIES),
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

/** Seconds after the outage ends until the policy's goodput first reaches half of before. */
function darkAfterOutage(report: RetryStormReport, result: StormResult): number | null {
  const end = report.model.outage.end;
  const before = result.goodputBefore ?? 0;
  for (const b of result.buckets) {
    if (b.t < end) continue;
    if ((b.goodput ?? 0) >= before / 2) return (b.t - end) / 1000;
  }
  return null;
}

function retryStormConclusions(report: RetryStormReport): string[] {
  const out: string[] = [];
  const by = (name: string) => report.results.find((r) => r.name === name);
  const plain = by('3 attempts');
  const budgets = report.results.filter(
    (r) => r.name.includes('budget') || r.name.includes('bucket'),
  );
  if (plain !== undefined) {
    out.push(
      `Plain retries multiplied the load on the failing server by ${num(plain.amplification, 2)} during the outage (${num(plain.serverLoadBefore, 0)} → ${num(plain.serverLoadOutage, 0)} attempts/s reached it)` +
        (budgets.length > 0
          ? `; with a retry budget it stayed near 1 (${list(budgets.map((b) => `${b.name.replace('3 attempts + ', '')} ${num(b.amplification, 2)}`))}).`
          : '.'),
    );
  }
  const shedders = report.results.filter((r) => r.allowance === null);
  if (shedders.length > 0) {
    out.push(
      `The breaker and the adaptive throttle shed load at the client instead: ${list(shedders.map((r) => `${r.name.replace('3 attempts + ', '')} ${num(r.amplification, 2)} attempts per request`))}.`,
    );
  }
  const recovered = report.results.filter((r) => r.timeToRecover !== null);
  const never = report.results.filter((r) => r.timeToRecover === null);
  if (recovered.length > 0) {
    const fastest = Math.min(...recovered.map((r) => r.timeToRecover!));
    const slowest = recovered.reduce((a, b) => (b.timeToRecover! > a.timeToRecover! ? b : a));
    out.push(
      `After the outage, ${recovered.length} of ${report.results.length} configurations recovered within ${secondsText(slowest.timeToRecover)} (fastest ${secondsText(fastest)}; slowest: ${slowest.name})` +
        (never.length > 0
          ? `; ${list(never.map((r) => r.name))} did not recover in every run (${list(never.map((r) => `${r.recovered}/${report.runs}`))}).`
          : '.'),
    );
  }
  return out;
}

function retryStormNotes(report: RetryStormReport): string[] {
  const notes: string[] = [];
  const throttle = report.results.find((r) => r.name.includes('adaptive throttle'));
  if (throttle !== undefined) {
    const dark = darkAfterOutage(report, throttle);
    notes.push(
      `Why the adaptive throttle's goodput stays near zero after the outage ended (${dark === null ? 'it never reached half of its earlier goodput within the run' : `it took ${num(dark, 0)} s to reach half of its earlier goodput`}): during a total outage the throttle saw no accepted request at all, so it rejects a new attempt locally with probability ≈ requests / (requests + 1), and its own rejections keep counting as requests. Only the few attempts it lets through can show the server is back; each success raises the accepted count, which can at most double the share let through per window (10 s here), so it climbs back over several windows (Google SRE book, "Handling Overload"). The breaker, by contrast, probes after a fixed break and closes at the first successful probes.`,
    );
  }
  notes.push(
    'Server load counts every attempt that reached the server, including retries whose callers had already given up; goodput counts requests that succeeded. Each panel shows one configuration in colour and the others in grey behind it, on the same scale.',
  );
  return notes;
}

/** `faultline-sim retry-storm`: see {@link planRetryStorm}. */
export const retryStormScenario = defineScenario({
  name: 'retry-storm',
  title: 'Retry storm: a 10 s outage at 80 % utilisation',
  description:
    'Open-loop clients (800 requests/s) call a server with 1000 requests/s of capacity that answers 503 for 10 s. Amplification = attempts per offered request during the outage; time to recover = from the end of the outage until goodput is back within 5 % of before.',
  defaultRuns: 3,
  plan: (options) => planRetryStorm(options),
  conclusions: retryStormConclusions,
  notes: retryStormNotes,
  table(report) {
    return {
      title: `retry-storm: ${report.model.rate} req/s on ${report.model.capacity} req/s capacity, outage ${report.model.outage.start / 1000}–${report.model.outage.end / 1000} s (${report.runs} runs)`,
      columns: [
        'policy',
        'allowance',
        'amplification',
        'server load (req/s) before → outage',
        'time to recover',
        'success',
      ],
      rows: report.results.map((r) => [
        r.name,
        r.allowance === null ? '—' : `1 + ${num(r.allowance, 3)}`,
        num(r.amplification, 3),
        `${num(r.serverLoadBefore, 0)} → ${num(r.serverLoadOutage, 0)}`,
        r.timeToRecover === null
          ? `never (${r.recovered}/${report.runs} runs)`
          : secondsText(r.timeToRecover),
        pct(r.successRate),
      ]),
    };
  },
  charts(report) {
    const band = {
      from: report.model.outage.start / 1000,
      to: report.model.outage.end / 1000,
      label: 'outage (503s)',
    };
    const over = (key: 'serverLoad' | 'goodput') =>
      report.results.map((r) => ({
        name: r.name,
        points: r.buckets.map((b) => [b.t / 1000, b[key]] as const),
      }));
    return [
      smallMultiples({
        title: 'Server load: attempts the server receives, per configuration',
        xLabel: 'time (s)',
        yLabel: 'requests/s',
        series: over('serverLoad'),
        band,
      }),
      smallMultiples({
        title: 'Goodput: successful requests, per configuration',
        xLabel: 'time (s)',
        yLabel: 'requests/s',
        series: over('goodput'),
        band,
      }),
      barChart({
        title: 'Amplification during the outage (attempts per request)',
        yLabel: 'attempts / request',
        bars: report.results.map((r) => ({ label: r.name, value: r.amplification })),
        reference: { value: 1, label: 'no retries = 1' },
      }),
      recoveryChart(
        'Time to recover after the outage',
        report.results.map((r) => ({ label: r.name, timeToRecover: r.timeToRecover })),
        'not within run',
      ),
    ];
  },
});
