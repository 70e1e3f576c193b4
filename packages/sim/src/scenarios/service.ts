import { type Policy, type Random, seededRandom } from '@faultline/core';
import type { SimClock, SimulationRun } from '../engine.js';
import { closedLoop, openLoop } from '../load.js';
import { Metrics, type RunMetrics } from '../metrics.js';
import { Network, type NetworkOptions } from '../network.js';
import { Server, type ServerOptions } from '../server.js';

/** Client load of a service scenario. */
export type LoadModel =
  | {
      readonly kind: 'open';
      /** Requests per second, or steps: the rate from `at` (ms) until the next step. */
      readonly rate: number | ReadonlyArray<{ readonly at: number; readonly rate: number }>;
    }
  | {
      readonly kind: 'closed';
      readonly clients: number;
      readonly think?: import('../distribution.js').Distribution;
    };

/** What a client policy is built from: the run's clock and seeded randomness. */
export interface PolicyEnvironment {
  readonly clock: SimClock;
  readonly random: Random;
}

/** A run of one client population calling one server through one policy. */
export interface ServiceRunOptions {
  readonly seed: number;
  /** Length of the run, ms. */
  readonly until: number;
  /** Metrics bucket, ms. Default 1000. */
  readonly bucket?: number;
  readonly server: Omit<ServerOptions, 'onReceive'>;
  readonly network?: NetworkOptions;
  readonly load: LoadModel;
  /** Builds the client's policy (shared by all its requests, as in production). */
  readonly policy: (env: PolicyEnvironment) => Policy;
  /** Extra per-run observations (e.g. an adaptive timeout's value per bucket). */
  readonly observe?: (env: PolicyEnvironment & { readonly policy: Policy }) => () => unknown;
}

/** A service run's result: its metrics, and whatever `observe` returned. */
export interface ServiceRunResult {
  readonly metrics: RunMetrics;
  readonly observed?: unknown;
}

/**
 * One run: clients (open or closed loop) send requests through `policy` over a network to a
 * server; metrics count offered requests, attempts, server load and outcomes per bucket.
 */
export function serviceRun(options: ServiceRunOptions): SimulationRun<ServiceRunResult> {
  return {
    setup(clock) {
      const random = seededRandom(options.seed);
      const metrics = new Metrics({ bucket: options.bucket ?? 1000 });
      const server = new Server(clock, random, {
        ...options.server,
        onReceive: () => metrics.serverReceive(clock.now()),
      });
      const network = new Network(clock, random, options.network);
      const env = { clock, random };
      const policy = options.policy(env);
      const observe = options.observe?.({ ...env, policy });
      const handle = (respond: Parameters<Server['handle']>[0]): void => server.handle(respond);
      const attempt = (): Promise<unknown> => {
        metrics.attempt(clock.now());
        return network.call(handle);
      };
      const request = (): Promise<unknown> => policy.execute(attempt);
      const load = options.load;
      if (load.kind === 'open') {
        // A Poisson process is memoryless, so a piecewise-constant rate is one open loop per step.
        const steps = typeof load.rate === 'number' ? [{ at: 0, rate: load.rate }] : load.rate;
        steps.forEach((step, i) => {
          const until = Math.min(options.until, steps[i + 1]?.at ?? options.until);
          if (step.rate > 0 && until > step.at) {
            openLoop(clock, random, { rate: step.rate, start: step.at, until }, request, metrics);
          }
        });
      } else {
        closedLoop(
          clock,
          random,
          {
            clients: load.clients,
            until: options.until,
            ...(load.think ? { think: load.think } : {}),
          },
          request,
          metrics,
        );
      }
      return {
        until: options.until,
        result: () => {
          const result: ServiceRunResult = { metrics: metrics.summary(options.until) };
          return observe === undefined ? result : { ...result, observed: observe() };
        },
      };
    },
  };
}

/** Mean of numbers, ignoring NaN; NaN when none. */
export function mean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    sum += value;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** Per-bucket means over runs of the given bucket fields. */
export function meanBuckets<K extends keyof RunMetrics['buckets'][number]>(
  runs: readonly RunMetrics[],
  keys: readonly K[],
): Array<{ t: number } & Record<K, number>> {
  const first = runs[0];
  if (first === undefined) return [];
  return first.buckets.map((bucket, i) => {
    const row = { t: bucket.t } as { t: number } & Record<K, number>;
    for (const key of keys) {
      (row as Record<K, number>)[key] = mean(runs.map((run) => run.buckets[i]![key] as number));
    }
    return row;
  });
}

/** The traffic series a service scenario reports per bucket. */
export const TRAFFIC_SERIES = ['offered', 'attempts', 'serverLoad', 'goodput'] as const;

/**
 * One bucket of the {@link TRAFFIC_SERIES}: means over runs, per second (`null`: not finite).
 * @inline
 */
export type TrafficBucket = { t: number } & Record<(typeof TRAFFIC_SERIES)[number], number | null>;

/** {@link meanBuckets} for a report: every mean {@link round}ed, one row per bucket. */
export function roundedMeanBuckets<K extends keyof RunMetrics['buckets'][number]>(
  runs: readonly RunMetrics[],
  keys: readonly K[],
): Array<{ t: number } & Record<K, number | null>> {
  return meanBuckets(runs, keys).map((bucket) => {
    const row = { t: bucket.t } as { t: number } & Record<K, number | null>;
    for (const key of keys) (row as Record<K, number | null>)[key] = round(bucket[key]);
    return row;
  });
}

/** Derives a run's seed from the scenario seed and the run's coordinates (stable, unrelated). */
export function runSeed(seed: number, ...coordinates: number[]): number {
  let h = seed >>> 0;
  for (const c of coordinates) h = (Math.imul(h ^ c, 0x9e3779b1) + 0x7f4a7c15) >>> 0;
  return h;
}

/** Rounds for reports, keeping JSON short and stable (`null` for NaN/Infinity). */
export function round(value: number, digits = 3): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
