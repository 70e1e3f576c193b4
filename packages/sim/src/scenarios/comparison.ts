/**
 * A comparison of named policies on one modelled service: what `faultline-sim run <file>` and
 * `faultline-sim compare` simulate, and what built-in scenarios such as `metastable` are made of.
 * Browser-safe: files are read and validated in `file/` (Node), this module only builds and runs.
 */
import {
  adaptiveThrottle,
  circuitBreaker,
  consecutiveFailures,
  failureRate,
} from '@faultline/breaker';
import { bulkhead, type Policy, pipeline } from '@faultline/core';
import {
  type Backoff,
  concurrencyBudget,
  constant,
  decorrelatedJitterV2,
  exponential,
  fromDelays,
  linear,
  quotaBudget,
  type RetryBudget,
  ratioBudget,
  retry,
  tokenBucketBudget,
} from '@faultline/retry';
import { adaptiveTimeout, timeout } from '@faultline/timeout';
import {
  bimodal,
  constant as constantDistribution,
  type Distribution,
  empirical,
  exponential as exponentialDistribution,
  lognormal,
  normal,
  uniform,
} from '../distribution.js';
import { timeToRecover } from '../metrics.js';
import type { NetworkOptions } from '../network.js';
import { list, num, pct, quantileText, relative, secondsText } from '../report/format.js';
import { barChart, recoveryChart, smallMultiples } from '../report/svg.js';
import type { Incident } from '../server.js';
import { defineScenario, type ScenarioDefinition, type Table } from './definition.js';
import type { ScenarioPlan } from './options.js';
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

// ---------------------------------------------------------------------------------------------
// The declarative spec (the shape of a scenario file; see file/schema.ts for every field)
// ---------------------------------------------------------------------------------------------

/** A distribution as a file declares it; a number is a constant. */
export type DistributionSpec =
  | number
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly kind: 'exponential'; readonly mean: number }
  | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number }
  | {
      readonly kind: 'bimodal';
      readonly fast: DistributionSpec;
      readonly slow: DistributionSpec;
      readonly p: number;
    }
  | { readonly kind: 'empirical'; readonly values: readonly number[]; readonly source?: string }
  | {
      readonly kind: 'observed';
      readonly file: string;
      readonly column?: string;
      readonly unit?: 'ms' | 's' | 'us';
    };

/** A backoff as a file declares it; a number is `constant(ms)`. */
export type BackoffSpec =
  | number
  | { readonly kind: 'constant'; readonly ms: number }
  | {
      readonly kind: 'exponential';
      readonly initial?: number;
      readonly factor?: number;
      readonly max?: number;
      readonly jitter?: 'none' | 'full' | 'equal' | 'decorrelated';
    }
  | {
      readonly kind: 'linear';
      readonly initial: number;
      readonly step?: number;
      readonly max?: number;
    }
  | { readonly kind: 'delays'; readonly delays: readonly number[] }
  | { readonly kind: 'decorrelatedJitterV2'; readonly median?: number; readonly max?: number };

export type BudgetSpec =
  | { readonly kind: 'tokenBucket'; readonly maxTokens: number; readonly tokenRatio: number }
  | {
      readonly kind: 'ratio';
      readonly ratio?: number;
      readonly minRetriesPerSecond?: number;
      readonly ttl?: number;
    }
  | {
      readonly kind: 'quota';
      readonly capacity?: number;
      readonly cost?: number;
      readonly throttlingCost?: number;
      readonly refund?: number;
    }
  | { readonly kind: 'concurrency'; readonly ratio?: number; readonly min?: number };

export type TimeoutSpec =
  | number
  | {
      readonly kind: 'fixed';
      readonly ms: number;
      readonly strategy?: 'aggressive' | 'cooperative';
    }
  | {
      readonly kind: 'adaptive';
      readonly quantile?: number;
      readonly multiplier?: number;
      readonly min?: number;
      readonly max?: number;
      readonly initial?: number;
      readonly minSamples?: number;
      readonly window?: number;
      readonly estimator?: 'quantile' | 'rtt';
    };

/** The policies a declarative spec can name, each mapping 1:1 to its factory's options. */
export interface PolicySteps {
  readonly bulkhead?: {
    readonly limit: number;
    readonly queue?: number;
    readonly queueTimeout?: number;
  };
  readonly retry?: {
    readonly maxAttempts?: number;
    readonly backoff?: BackoffSpec;
    readonly budget?: BudgetSpec;
    readonly maxRetryAfter?: number;
  };
  readonly circuitBreaker?: {
    readonly trip:
      | { readonly kind: 'consecutiveFailures'; readonly n?: number }
      | {
          readonly kind: 'failureRate';
          readonly threshold?: number;
          readonly minimumThroughput?: number;
          readonly window?: number;
          readonly buckets?: number;
        };
    readonly breakDuration?: BackoffSpec;
    readonly halfOpen?: { readonly probes?: number };
  };
  readonly adaptiveThrottle?: {
    readonly k?: number;
    readonly window?: number;
    readonly buckets?: number;
    readonly minimumRequests?: number;
  };
  readonly timeout?: TimeoutSpec;
}

/** A declarative policy: steps composed in the canonical order, or an explicit pipeline. */
export type PolicySpec = PolicySteps | ReadonlyArray<PolicySteps>;

/** A policy written as code (JS/TS scenario files): any `Policy`, built per run. */
export type PolicyFactory = (env: PolicyEnvironment) => Policy;

/** Traffic as a file declares it. */
export type TrafficSpec =
  | {
      readonly kind: 'open';
      readonly rate: number | ReadonlyArray<{ readonly at: number; readonly rate: number }>;
    }
  | { readonly kind: 'closed'; readonly clients: number; readonly think?: DistributionSpec };

/**
 * A comparison scenario: the content of a scenario file. JS/TS files may give a policy as a
 * function of the run's `{ clock, random }` (pass both to every policy you build).
 */
export interface ComparisonSpec {
  readonly name?: string;
  readonly description?: string;
  /** Length of each run, ms of simulated time. */
  readonly duration: number;
  readonly seed?: number;
  readonly runs?: number;
  /** Metrics bucket, ms. Default 1000. */
  readonly bucket?: number;
  readonly traffic: TrafficSpec;
  readonly downstream: {
    readonly latency: DistributionSpec;
    readonly concurrency?: number;
    readonly queueLimit?: number;
    readonly failureRate?: number;
    readonly incidents?: readonly Incident[];
  };
  readonly network?: { readonly latency?: DistributionSpec; readonly drop?: number };
  readonly policies: Readonly<Record<string, PolicySpec | PolicyFactory>>;
}

/** Declares a scenario in a JS/TS file with type checking: `export default defineComparison({…})`. */
export function defineComparison(spec: ComparisonSpec): ComparisonSpec {
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Building models and policies from a spec
// ---------------------------------------------------------------------------------------------

/** Rethrows a factory's error (a `TypeError`/`RangeError` naming its option) with the field. */
export class SpecError extends Error {
  override name = 'SpecError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

function at<T>(field: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof SpecError) throw error;
    throw new SpecError(field, error instanceof Error ? error.message : String(error));
  }
}

/** Builds the distribution a spec declares (`observed` must have been read into `empirical`). */
export function distributionOf(spec: DistributionSpec, field: string): Distribution {
  return at(field, () => {
    if (typeof spec === 'number') return constantDistribution(spec);
    switch (spec.kind) {
      case 'constant':
        return constantDistribution(spec.value);
      case 'uniform':
        return uniform(spec.min, spec.max);
      case 'normal':
        return normal(spec.mean, spec.sd);
      case 'exponential':
        return exponentialDistribution(spec.mean);
      case 'lognormal':
        return lognormal({ median: spec.median, sigma: spec.sigma });
      case 'bimodal':
        return bimodal(
          distributionOf(spec.fast, `${field}.fast`),
          distributionOf(spec.slow, `${field}.slow`),
          spec.p,
        );
      case 'empirical': {
        const d = empirical(spec.values);
        return spec.source === undefined
          ? d
          : {
              ...d,
              label: `observed in ${spec.source} (${spec.values.length} values, mean ${d.mean.toFixed(1)} ms)`,
            };
      }
      case 'observed':
        throw new Error(
          `the latencies of ${spec.file} were not read (scenario files with "observed" run from the CLI or loadScenarioFile)`,
        );
    }
  });
}

function backoffOf(spec: BackoffSpec, field: string): Backoff {
  return at(field, () => {
    if (typeof spec === 'number') return constant(spec);
    switch (spec.kind) {
      case 'constant':
        return constant(spec.ms);
      case 'exponential': {
        const { kind: _, ...options } = spec;
        return exponential(options);
      }
      case 'linear': {
        const { kind: _, ...options } = spec;
        return linear(options);
      }
      case 'delays':
        return fromDelays(spec.delays);
      case 'decorrelatedJitterV2': {
        const { kind: _, ...options } = spec;
        return decorrelatedJitterV2(options);
      }
    }
  });
}

function budgetOf(spec: BudgetSpec, env: PolicyEnvironment, field: string): RetryBudget {
  return at(field, () => {
    switch (spec.kind) {
      case 'tokenBucket': {
        const { kind: _, ...options } = spec;
        return tokenBucketBudget(options);
      }
      case 'ratio': {
        const { kind: _, ...options } = spec;
        return ratioBudget({ ...options, clock: env.clock });
      }
      case 'quota': {
        const { kind: _, ...options } = spec;
        return quotaBudget(options);
      }
      case 'concurrency': {
        const { kind: _, ...options } = spec;
        return concurrencyBudget(options);
      }
    }
  });
}

function timeoutOf(spec: TimeoutSpec, env: PolicyEnvironment, field: string): Policy {
  return at(field, () => {
    const { clock } = env;
    if (typeof spec === 'number') return timeout(spec, { clock });
    if (spec.kind === 'fixed') {
      return timeout(spec.ms, { clock, ...(spec.strategy ? { strategy: spec.strategy } : {}) });
    }
    const { kind: _, ...options } = spec;
    return timeout(adaptiveTimeout({ ...options, clock }), { clock });
  });
}

type StepName = keyof PolicySteps;
/** The canonical order of an object spec, outermost first. */
export const POLICY_ORDER: readonly StepName[] = [
  'bulkhead',
  'retry',
  'circuitBreaker',
  'adaptiveThrottle',
  'timeout',
];

function stepOf(name: StepName, spec: PolicySteps, env: PolicyEnvironment, field: string): Policy {
  const { clock, random } = env;
  switch (name) {
    case 'bulkhead':
      return at(field, () => bulkhead({ ...spec.bulkhead!, clock }));
    case 'retry': {
      const r = spec.retry!;
      const backoff =
        r.backoff === undefined ? undefined : backoffOf(r.backoff, `${field}.backoff`);
      const budget =
        r.budget === undefined ? undefined : budgetOf(r.budget, env, `${field}.budget`);
      return at(field, () =>
        retry({
          clock,
          random,
          ...(r.maxAttempts === undefined ? {} : { maxAttempts: r.maxAttempts }),
          ...(r.maxRetryAfter === undefined ? {} : { maxRetryAfter: r.maxRetryAfter }),
          ...(backoff === undefined ? {} : { backoff }),
          ...(budget === undefined ? {} : { budget }),
        }),
      );
    }
    case 'circuitBreaker': {
      const b = spec.circuitBreaker!;
      const trip = at(`${field}.trip`, () => {
        if (b.trip.kind === 'consecutiveFailures') return consecutiveFailures(b.trip.n);
        const { kind: _, ...options } = b.trip;
        return failureRate(options);
      });
      const breakDuration =
        b.breakDuration === undefined
          ? undefined
          : typeof b.breakDuration === 'number'
            ? b.breakDuration
            : backoffOf(b.breakDuration, `${field}.breakDuration`);
      return at(field, () =>
        circuitBreaker({
          trip,
          clock,
          random,
          ...(breakDuration === undefined ? {} : { breakDuration }),
          ...(b.halfOpen === undefined ? {} : { halfOpen: b.halfOpen }),
        }),
      );
    }
    case 'adaptiveThrottle':
      return at(field, () => adaptiveThrottle({ ...spec.adaptiveThrottle!, clock, random }));
    case 'timeout':
      return timeoutOf(spec.timeout!, env, field);
  }
}

/** Builds a declarative policy for one run (budgets and breakers are per run: runs share nothing). */
export function policyOf(spec: PolicySpec, env: PolicyEnvironment, field: string): Policy {
  const steps: Policy[] = [];
  if (Array.isArray(spec)) {
    (spec as readonly PolicySteps[]).forEach((step, i) => {
      for (const name of Object.keys(step) as StepName[]) {
        steps.push(stepOf(name, step, env, `${field}[${i}].${name}`));
      }
    });
  } else {
    const object = spec as PolicySteps;
    for (const name of POLICY_ORDER) {
      if (object[name] !== undefined) steps.push(stepOf(name, object, env, `${field}.${name}`));
    }
  }
  return pipeline(...steps);
}

function policyField(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `policies.${name}` : `policies[${JSON.stringify(name)}]`;
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/** A period when the service is disturbed: an incident, or traffic above its first rate. */
export interface Disturbance {
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

/** Results of one policy (means over the runs). */
export interface ComparisonResult {
  readonly policy: string;
  /** Requests offered per run. */
  readonly requests: number | null;
  readonly successRate: number | null;
  /** Successful requests per second over the whole run. */
  readonly goodput: number | null;
  /** Latency of successful requests, ms. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** `null` when a run had fewer than 1 000 successful requests (see `latencySamples`). */
  readonly p999: number | null;
  /** Successful requests per run behind the quantiles (the smallest over the runs). */
  readonly latencySamples: number;
  /** Attempts per request over the whole run. */
  readonly amplification: number | null;
  /** Attempts per request while disturbed (`null` when nothing disturbs the run). */
  readonly amplificationDisturbed: number | null;
  /** Highest load the downstream received in one bucket, requests/s. */
  readonly peakLoad: number | null;
  /** From the end of the last disturbance until goodput is back within 5 % of before, ms; `null`: not in every run (or nothing to recover from). */
  readonly timeToRecover: number | null;
  /** Runs that recovered. */
  readonly recovered: number;
  /** Goodput over the last 20 s of the run (the last quarter, if shorter), requests/s. */
  readonly goodputAfter: number | null;
  readonly buckets: ReadonlyArray<TrafficBucket>;
}

/** The report of a comparison scenario (`--json`). */
export interface ComparisonReport {
  readonly scenario: string;
  readonly seed: number;
  readonly runs: number;
  readonly model: {
    readonly duration: number;
    readonly traffic: string;
    readonly downstream: string;
    readonly disturbances: readonly Disturbance[];
    /** When recovery is measured from, ms (`null`: nothing to recover from). */
    readonly recoveryFrom: number | null;
    readonly afterWindow: { readonly start: number; readonly end: number };
  };
  readonly results: readonly ComparisonResult[];
  /** The plain-language verdict, one sentence per criterion and one per policy. */
  readonly verdict: readonly string[];
}

/** A distribution's label with its unit (an observed one already says "ms"). */
function withUnit(label: string): string {
  return label.startsWith('observed') ? label : `${label} ms`;
}

function rateOf(traffic: TrafficSpec): string {
  if (traffic.kind === 'closed') {
    return `closed loop, ${traffic.clients} clients${traffic.think === undefined ? '' : `, think ${distributionOf(traffic.think, 'traffic.think').label} ms`}`;
  }
  if (typeof traffic.rate === 'number') return `open loop, ${traffic.rate} requests/s`;
  return `open loop, ${traffic.rate.map((s) => `${s.rate}/s from ${s.at / 1000} s`).join(', ')}`;
}

/** The disturbances of a spec: incidents, and open-loop steps above the first rate. */
export function disturbancesOf(spec: ComparisonSpec): Disturbance[] {
  const out: Disturbance[] = [];
  for (const incident of spec.downstream.incidents ?? []) {
    out.push({
      label:
        incident.kind === 'outage'
          ? `outage${incident.mode === 'black-hole' ? ' (no answers)' : ' (503s)'}`
          : incident.kind,
      start: incident.start,
      end: Math.min(spec.duration, incident.start + incident.duration),
    });
  }
  const traffic = spec.traffic;
  if (traffic.kind === 'open' && typeof traffic.rate !== 'number') {
    const steps = traffic.rate;
    const base = steps[0]!.rate;
    steps.forEach((step, i) => {
      if (step.rate > base) {
        out.push({
          label: `load ×${num(step.rate / base, 1)}`,
          start: step.at,
          end: Math.min(spec.duration, steps[i + 1]?.at ?? spec.duration),
        });
      }
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The verdict: who wins on what, by how much, and a line per policy. */
function verdictOf(report: Omit<ComparisonReport, 'verdict'>, bucket: number): string[] {
  const results = report.results;
  if (results.length === 0) return [];
  const out: string[] = [];
  type Key = 'goodput' | 'p99' | 'amp' | 'recovery';
  const value = (r: ComparisonResult, key: Key): number | null => {
    switch (key) {
      case 'goodput':
        return r.goodput;
      case 'p99':
        return r.p99;
      case 'amp':
        return r.amplificationDisturbed ?? r.amplification;
      case 'recovery':
        return r.timeToRecover ?? Number.POSITIVE_INFINITY;
    }
  };
  const better = (key: Key) => (a: number, b: number) => (key === 'goodput' ? b - a : a - b);
  const ranked = (key: Key) =>
    results
      .filter((r) => value(r, key) !== null && !Number.isNaN(value(r, key)!))
      .sort((a, b) => better(key)(value(a, key)!, value(b, key)!));
  const ranks = new Map<ComparisonResult, Partial<Record<Key, number>>>();
  const single = results.length === 1;
  const headline = (
    key: Key,
    text: (best: ComparisonResult, worst: ComparisonResult) => string,
  ) => {
    const order = ranked(key);
    order.forEach((r, i) => {
      ranks.set(r, { ...ranks.get(r), [key]: i + 1 });
    });
    if (order.length === 0 || single) return;
    out.push(text(order[0]!, order[order.length - 1]!));
  };
  // Differences this small are within run-to-run noise: called a tie, not a win.
  const level = (key: Key, best: ComparisonResult, worst: ComparisonResult): boolean => {
    const a = value(best, key)!;
    const b = value(worst, key)!;
    if (key === 'amp') return Math.abs(a - b) < 0.05;
    return (
      Math.abs(a - b) <= (key === 'goodput' ? 0.02 : 0.05) * Math.max(Math.abs(a), Math.abs(b))
    );
  };
  headline('goodput', (best, worst) =>
    level('goodput', best, worst)
      ? `Goodput: level, ${num(worst.goodput, 1)}–${num(best.goodput, 1)} successful requests/s for every policy (within 2 %).`
      : `Goodput: ${best.policy} wins with ${num(best.goodput, 1)} successful requests/s (${pct(best.successRate)} of requests), ${relative(best.goodput!, worst.goodput!)} than ${worst.policy} (${num(worst.goodput, 1)}/s).`,
  );
  headline('p99', (best, worst) =>
    level('p99', best, worst)
      ? `Tail latency: level, p99 ${num(best.p99, 0)}–${num(worst.p99, 0)} ms for every policy (within 5 %).`
      : `Tail latency: ${best.policy} has the lowest p99, ${num(best.p99, 0)} ms, ${relative(best.p99!, worst.p99!, 'more', 'less')} than ${worst.policy} (${num(worst.p99, 0)} ms).`,
  );
  const disturbed = report.model.disturbances.length > 0;
  headline('amp', (best, worst) =>
    level('amp', best, worst)
      ? `Amplification${disturbed ? ' while disturbed' : ''}: level, ${num(value(best, 'amp'), 2)}–${num(value(worst, 'amp'), 2)} attempts per request.`
      : `Amplification${disturbed ? ' while disturbed' : ''}: ${best.policy} sends the fewest attempts per request (${num(value(best, 'amp'), 2)}), ${worst.policy} the most (${num(value(worst, 'amp'), 2)}${value(best, 'amp')! > 0 ? `, ${relative(value(worst, 'amp')!, value(best, 'amp')!)}` : ''}).`,
  );
  if (report.model.recoveryFrom !== null) {
    const order = ranked('recovery');
    order.forEach((r, i) => {
      ranks.set(r, { ...ranks.get(r), recovery: i + 1 });
    });
    const recovered = order.filter((r) => r.timeToRecover !== null);
    const never = order.filter((r) => r.timeToRecover === null);
    if (!single) {
      out.push(
        recovered.length === 0
          ? `Recovery: no policy brought goodput back within 5 % of before by the end of the run.`
          : never.length === 0 &&
              recovered[recovered.length - 1]!.timeToRecover! - recovered[0]!.timeToRecover! <=
                2 * bucket
            ? `Recovery: level, every policy back within ${secondsText(recovered[recovered.length - 1]!.timeToRecover)} of the last disturbance (measured in ${bucket / 1000} s buckets).`
            : `Recovery: ${recovered[0]!.policy} recovers first, ${secondsText(recovered[0]!.timeToRecover)} after the last disturbance ended` +
              (recovered.length > 1
                ? `; ${list(recovered.slice(1).map((r) => `${r.policy} after ${secondsText(r.timeToRecover)}`))}`
                : '') +
              (never.length > 0
                ? `; ${list(never.map((r) => r.policy))} never did within the run`
                : '') +
              '.',
      );
    }
  }
  // The trade-off a reader is usually after: near-best goodput for the least extra load.
  const byGoodput = ranked('goodput');
  const winner = byGoodput[0];
  if (winner !== undefined && !single) {
    const near = byGoodput.filter((r) => r.goodput! >= 0.98 * winner.goodput!);
    const frugal = near.reduce((a, b) => (value(b, 'amp')! < value(a, 'amp')! ? b : a));
    if (frugal !== winner && value(frugal, 'amp')! < value(winner, 'amp')! - 0.05) {
      out.push(
        `Trade-off: ${frugal.policy} keeps ${pct(frugal.goodput! / winner.goodput!)} of the best goodput at ${num(value(frugal, 'amp'), 2)} attempts per request${disturbed ? ' while disturbed' : ''}, against ${num(value(winner, 'amp'), 2)} for ${winner.policy}.`,
      );
    }
  }
  const ordinal = (rank: number | undefined): string =>
    rank === undefined
      ? ''
      : rank === 1
        ? ' (best)'
        : rank === results.length
          ? ' (worst)'
          : ` (${rank} of ${results.length})`;
  for (const r of results) {
    const rank = ranks.get(r) ?? {};
    const parts = [
      `goodput ${num(r.goodput, 1)}/s${single ? '' : ordinal(rank.goodput)}`,
      `p99 ${num(r.p99, 0)} ms${single ? '' : ordinal(rank.p99)}`,
      `${num(value(r, 'amp'), 2)} attempts per request${disturbed ? ' while disturbed' : ''}${single ? '' : ordinal(rank.amp)}`,
    ];
    if (report.model.recoveryFrom !== null) {
      parts.push(
        r.timeToRecover === null
          ? `did not recover in every run (${r.recovered}/${report.runs})`
          : `recovered in ${secondsText(r.timeToRecover)}${single ? '' : ordinal(rank.recovery)}`,
      );
    }
    out.push(`${r.policy}: ${parts.join('; ')}.`);
  }
  return out;
}

/** Plans the runs of a comparison and how to aggregate them into its report. */
export function planComparison(
  spec: ComparisonSpec,
  options: { readonly seed: number; readonly runs: number },
): ScenarioPlan<ServiceRunResult, ComparisonReport> {
  const { seed, runs } = options;
  const name = spec.name ?? 'scenario';
  const latency = distributionOf(spec.downstream.latency, 'downstream.latency');
  const networkLatency =
    spec.network?.latency === undefined
      ? undefined
      : distributionOf(spec.network.latency, 'network.latency');
  const think =
    spec.traffic.kind === 'closed' && spec.traffic.think !== undefined
      ? distributionOf(spec.traffic.think, 'traffic.think')
      : undefined;
  const network: NetworkOptions = {
    ...(networkLatency === undefined ? {} : { latency: networkLatency }),
    ...(spec.network?.drop === undefined ? {} : { drop: spec.network.drop }),
  };
  const names = Object.keys(spec.policies);
  const builders = names.map((policyName) => {
    const policy = spec.policies[policyName]!;
    const field = policyField(policyName);
    return typeof policy === 'function'
      ? (env: PolicyEnvironment) => at(field, () => policy(env))
      : (env: PolicyEnvironment) => policyOf(policy, env, field);
  });
  const duration = spec.duration;
  const specs = variantRuns(builders, runs, (build, run) =>
    serviceRun({
      // Common random numbers: run r of every policy sees the same arrivals and service times
      // until the policies make the runs diverge.
      seed: runSeed(seed, run),
      until: duration,
      ...(spec.bucket === undefined ? {} : { bucket: spec.bucket }),
      server: {
        concurrency: spec.downstream.concurrency ?? Number.POSITIVE_INFINITY,
        ...(spec.downstream.queueLimit === undefined
          ? {}
          : { queueLimit: spec.downstream.queueLimit }),
        serviceTime: latency,
        ...(spec.downstream.failureRate === undefined
          ? {}
          : { failureProbability: spec.downstream.failureRate }),
        incidents: spec.downstream.incidents ?? [],
      },
      network,
      load:
        spec.traffic.kind === 'open'
          ? { kind: 'open', rate: spec.traffic.rate }
          : { kind: 'closed', clients: spec.traffic.clients, ...(think ? { think } : {}) },
      policy: build,
    }),
  );
  const disturbances = disturbancesOf(spec);
  const first = disturbances[0];
  const recoveryFrom =
    first === undefined || first.start < 1_000 ? null : Math.max(...disturbances.map((d) => d.end));
  const recovery =
    recoveryFrom === null || recoveryFrom >= duration
      ? null
      : { start: first!.start, end: recoveryFrom };
  const afterLength = Math.min(20_000, duration / 4);
  const afterWindow = { start: duration - afterLength, end: duration };
  return {
    specs,
    aggregate(outcomes) {
      const results = names.map((policy, p): ComparisonResult => {
        const mine = variantOutcomes(outcomes, p, runs).map((o) => o.metrics);
        const window = (
          from: number,
          to: number,
          pick: (b: (typeof mine)[number]['buckets'][number]) => number,
        ) =>
          mine.map((m) => {
            let sum = 0;
            let n = 0;
            for (const b of m.buckets) {
              if (b.t < from || b.t >= to) continue;
              sum += pick(b);
              n++;
            }
            return { sum, n };
          });
        const attempts = window(first?.start ?? 0, recoveryFrom ?? 0, (b) => b.attempts);
        const offered = window(first?.start ?? 0, recoveryFrom ?? 0, (b) => b.offered);
        const after = window(afterWindow.start, afterWindow.end, (b) => b.goodput);
        const recoveries =
          recovery === null ? [] : mine.map((m) => timeToRecover(m.buckets, recovery));
        const recovered = recoveries.filter((r): r is number => r !== null);
        const samples = Math.min(...mine.map((m) => m.samples));
        return {
          policy,
          requests: round(mean(mine.map((m) => m.offered)), 1),
          successRate: round(mean(mine.map((m) => m.successRate)), 4),
          goodput: round(mean(mine.map((m) => m.successes / (duration / 1000)))),
          p50: round(mean(mine.map((m) => m.p50))),
          p99: round(mean(mine.map((m) => m.p99))),
          p999: mine.every((m) => !Number.isNaN(m.p999))
            ? round(mean(mine.map((m) => m.p999)))
            : null,
          latencySamples: samples,
          amplification: round(mean(mine.map((m) => m.attempts / m.offered))),
          amplificationDisturbed:
            first === undefined
              ? null
              : round(mean(attempts.map((a, i) => a.sum / offered[i]!.sum))),
          peakLoad: round(
            mean(
              mine.map((m) => Math.max(...m.buckets.map((b) => b.serverLoad / (m.bucket / 1000)))),
            ),
          ),
          timeToRecover:
            recovery !== null && recovered.length === runs ? round(mean(recovered)) : null,
          recovered: recovered.length,
          goodputAfter: round(mean(after.map((a) => (a.n > 0 ? a.sum / a.n : Number.NaN)))),
          buckets: roundedMeanBuckets(mine, TRAFFIC_SERIES),
        };
      });
      const base = {
        scenario: name,
        seed,
        runs,
        model: {
          duration,
          traffic: rateOf(spec.traffic),
          downstream: `latency ${withUnit(latency.label)}, ${spec.downstream.concurrency === undefined ? 'unlimited concurrency' : `concurrency ${spec.downstream.concurrency}, queue ${spec.downstream.queueLimit ?? 1000}`}${spec.downstream.failureRate ? `, failure rate ${spec.downstream.failureRate}` : ''}`,
          disturbances,
          recoveryFrom: recovery === null ? null : recoveryFrom,
          afterWindow,
        },
        results,
      };
      return { ...base, verdict: verdictOf(base, spec.bucket ?? 1000) };
    },
  };
}

/** How a comparison's amplification column is named (what window it covers). */
export interface AmplificationWording {
  /** The column and chart heading suffix, e.g. "while disturbed". */
  readonly window?: string;
}

/** The summary table of a comparison. */
export function comparisonTable(
  report: ComparisonReport,
  wording: AmplificationWording = {},
): Table {
  const recovery = report.model.recoveryFrom !== null;
  const disturbed = report.model.disturbances.length > 0;
  const window = wording.window ?? (disturbed ? 'while disturbed' : undefined);
  return {
    title: `${report.scenario}: ${report.model.traffic}; ${report.model.downstream} (${report.runs} run${report.runs === 1 ? '' : 's'}, seed ${report.seed})`,
    columns: [
      'policy',
      'success',
      'goodput (req/s)',
      'p50 (ms)',
      'p99 (ms)',
      'p99.9',
      window === undefined ? 'attempts/request' : `attempts/request (${window})`,
      'peak load (req/s)',
      ...(recovery ? ['time to recover'] : []),
      'goodput at end (req/s)',
    ],
    rows: report.results.map((r) => [
      r.policy,
      pct(r.successRate),
      num(r.goodput, 1),
      num(r.p50, 0),
      num(r.p99, 0),
      // A p99.9 always carries its sample count; below 1 000 samples there is none to give.
      r.p999 === null ? `— (n = ${r.latencySamples})` : quantileText(r.p999, r.latencySamples),
      num(r.amplificationDisturbed ?? r.amplification, 2),
      num(r.peakLoad, 0),
      ...(recovery
        ? [
            r.timeToRecover === null
              ? `never (${r.recovered}/${report.runs} runs)`
              : secondsText(r.timeToRecover),
          ]
        : []),
      num(r.goodputAfter, 1),
    ]),
  };
}

/** Charts of a comparison: goodput and load per policy over time, amplification, recovery. */
export function comparisonCharts(
  report: ComparisonReport,
  wording: AmplificationWording = {},
): string[] {
  const ds = report.model.disturbances;
  const window = wording.window ?? (ds.length > 0 ? 'while disturbed' : undefined);
  const band =
    ds.length === 0
      ? undefined
      : {
          from: Math.min(...ds.map((d) => d.start)) / 1000,
          to: Math.max(...ds.map((d) => d.end)) / 1000,
          label: list([...new Set(ds.map((d) => d.label))]),
        };
  const over = (key: 'goodput' | 'serverLoad') =>
    report.results.map((r) => ({
      name: r.policy,
      points: r.buckets.map((b) => [b.t / 1000, b[key]] as const),
    }));
  const charts = [
    smallMultiples({
      title: 'Goodput: successful requests per second, per policy',
      xLabel: 'time (s)',
      yLabel: 'requests/s',
      series: over('goodput'),
      ...(band === undefined ? {} : { band }),
    }),
    smallMultiples({
      title: 'Load: attempts the downstream receives per second, per policy',
      xLabel: 'time (s)',
      yLabel: 'requests/s',
      series: over('serverLoad'),
      ...(band === undefined ? {} : { band }),
    }),
    barChart({
      title: `Attempts per request${window === undefined ? '' : ` ${window}`}`,
      yLabel: 'attempts / request',
      bars: report.results.map((r) => ({
        label: r.policy,
        value: r.amplificationDisturbed ?? r.amplification,
      })),
      reference: { value: 1, label: 'no retries = 1' },
    }),
  ];
  if (report.model.recoveryFrom !== null) {
    charts.push(
      recoveryChart(
        'Time to recover after the last disturbance',
        report.results.map((r) => ({ label: r.policy, timeToRecover: r.timeToRecover })),
        'never (within the run)',
      ),
    );
  }
  return charts;
}

/** The conclusions a comparison's report section opens with: its verdict per criterion. */
export function comparisonConclusions(report: ComparisonReport): string[] {
  const perPolicy = new Set(report.results.map((r) => `${r.policy}:`));
  const criteria = report.verdict.filter((line) => ![...perPolicy].some((p) => line.startsWith(p)));
  return criteria.length > 0 ? criteria : [...report.verdict];
}

/** A scenario definition for a comparison spec (a scenario file, or `compare`'s defaults). */
export function comparisonScenario(
  spec: ComparisonSpec,
  defaults: { readonly runs?: number } = {},
): ScenarioDefinition<ComparisonReport> {
  const name = spec.name ?? 'scenario';
  return defineScenario({
    name,
    title: spec.name ?? 'Your scenario',
    description:
      spec.description ??
      `${rateOf(spec.traffic)}; downstream latency ${withUnit(distributionOf(spec.downstream.latency, 'downstream.latency').label)}; policies ${list(Object.keys(spec.policies))}.`,
    defaultRuns: spec.runs ?? defaults.runs ?? 3,
    plan: (options) => planComparison(spec, options),
    conclusions: comparisonConclusions,
    notes: (report) => [
      ...report.verdict.filter((line) =>
        report.results.some((r) => line.startsWith(`${r.policy}:`)),
      ),
      'Goodput and load are means over the runs per second of simulated time; each panel shows one policy in colour and the others in grey behind it. Time to recover runs from the end of the last disturbance until goodput is back within 5 % of the 10 s before the first one.',
    ],
    table: comparisonTable,
    charts: comparisonCharts,
  });
}
