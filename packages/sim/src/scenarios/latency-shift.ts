import { type Policy, pipeline } from '@faultline/core';
import { constant, retry } from '@faultline/retry';
import { adaptiveTimeout, timeout } from '@faultline/timeout';
import { lognormal, normal } from '../distribution.js';
import { timeToRecover } from '../metrics.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { windowTotals } from './retry-storm.js';
import {
  mean,
  meanBuckets,
  type PolicyEnvironment,
  round,
  runSeed,
  type ServiceRunResult,
  serviceRun,
} from './service.js';

/** The latency-shift model: latency jumps 10× for 20 s, then comes back. */
export const latencyShiftModel = {
  /** Service time: log-normal, median 50 ms (p99.9 ≈ 130 ms). */
  median: 50,
  sigma: 0.3,
  shift: { start: 20_000, duration: 20_000, factor: 10 },
  rate: 100,
  until: 60_000,
  maxAttempts: 2,
} as const;

interface ShiftVariant {
  readonly name: string;
  readonly policy: (env: PolicyEnvironment) => { policy: Policy; current: () => number };
}

function withTimeout(env: PolicyEnvironment, inner: Policy): Policy {
  return pipeline(
    retry({
      maxAttempts: latencyShiftModel.maxAttempts,
      backoff: constant(0),
      clock: env.clock,
      random: env.random,
    }),
    inner,
  );
}

const variants: readonly ShiftVariant[] = [
  {
    name: 'fixed 200 ms',
    policy: (env) => ({
      policy: withTimeout(env, timeout(200, { clock: env.clock })),
      current: () => 200,
    }),
  },
  {
    name: 'fixed 2000 ms',
    policy: (env) => ({
      policy: withTimeout(env, timeout(2000, { clock: env.clock })),
      current: () => 2000,
    }),
  },
  {
    name: 'adaptive (p99.9 × 1.5)',
    policy: (env) => {
      const adaptive = adaptiveTimeout({ clock: env.clock, window: 10_000 });
      return {
        policy: withTimeout(env, timeout(adaptive, { clock: env.clock })),
        current: () => adaptive.current(),
      };
    },
  },
];

/**
 * Results of one configuration of `latency-shift` (means over runs).
 * @inline
 */
export interface LatencyShiftResult {
  readonly name: string;
  /** Share of requests that succeeded before / during / after the shift. */
  readonly successBefore: number | null;
  readonly successDuring: number | null;
  readonly successAfter: number | null;
  readonly amplificationDuring: number | null;
  /** From the start of the shift until goodput is back within 5 % of before, ms. */
  readonly timeToAdapt: number | null;
  readonly p99: number | null;
  readonly buckets: ReadonlyArray<{
    t: number;
    goodput: number | null;
    p99: number | null;
    timeout: number | null;
  }>;
}

export interface LatencyShiftReport {
  readonly scenario: 'latency-shift';
  readonly seed: number;
  readonly runs: number;
  readonly model: {
    readonly shift: { readonly start: number; readonly end: number; readonly factor: number };
  };
  readonly results: readonly LatencyShiftResult[];
}

/**
 * `latency-shift`: fixed versus adaptive timeouts when the server's latency jumps 10× and comes
 * back. A tight fixed timeout fails everything during the shift; a loose one waits too long at
 * all times; the adaptive timeout (censored samples double it) follows the latency both ways.
 */
export function planLatencyShift(
  options: ScenarioOptions = {},
): ScenarioPlan<ServiceRunResult, LatencyShiftReport> {
  const { seed, runs } = scenarioDefaults('planLatencyShift', options, 2);
  const m = latencyShiftModel;
  const start = m.shift.start;
  const end = m.shift.start + m.shift.duration;
  const specs = variants.flatMap((variant) =>
    Array.from({ length: runs }, (_, run) => {
      let current: () => number = () => Number.NaN;
      return serviceRun({
        seed: runSeed(seed, run),
        until: m.until,
        server: {
          concurrency: Number.POSITIVE_INFINITY,
          serviceTime: lognormal({ median: m.median, sigma: m.sigma }),
          incidents: [
            { kind: 'brownout', start, duration: m.shift.duration, factor: m.shift.factor },
          ],
        },
        network: { latency: normal(1, 0.2) },
        load: { kind: 'open', rate: m.rate },
        policy: (env) => {
          const built = variant.policy(env);
          current = built.current;
          return built.policy;
        },
        observe: ({ clock }) => {
          // Samples the timeout in force at the middle of every bucket.
          const samples: number[] = [];
          const sample = (): void => {
            samples.push(current());
            if (clock.now() + 1000 < m.until) clock.setTimer(1000, sample);
          };
          clock.setTimer(500, sample);
          return () => samples;
        },
      });
    }),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const results = variants.map((variant, v): LatencyShiftResult => {
        const mine = outcomes.slice(v * runs, (v + 1) * runs);
        const metrics = mine.map((o) => o.metrics);
        const share = (from: number, to: number): number =>
          mean(
            metrics.map((run) => {
              let ok = 0;
              let all = 0;
              for (const b of run.buckets) {
                if (b.t < from || b.t >= to) continue;
                ok += b.successes;
                all += b.successes + b.failures;
              }
              return all > 0 ? ok / all : Number.NaN;
            }),
          );
        const during = metrics.map((run) => windowTotals(run.buckets, start, end));
        const adapt = metrics.map((run) => timeToRecover(run.buckets, { start, end: start }));
        const timeouts = mine.map((o) => o.observed as number[]);
        return {
          name: variant.name,
          successBefore: round(share(0, start), 4),
          successDuring: round(share(start, end), 4),
          successAfter: round(share(end, m.until), 4),
          amplificationDuring: round(mean(during.map((w) => w.attempts / w.offered))),
          timeToAdapt: adapt.every((a) => a !== null) ? round(mean(adapt as number[])) : null,
          p99: round(mean(metrics.map((run) => run.p99))),
          buckets: meanBuckets(metrics, ['goodput', 'p99'] as const).map((b, i) => ({
            t: b.t,
            goodput: round(b.goodput),
            p99: round(b.p99),
            timeout: round(mean(timeouts.map((series) => series[i] ?? Number.NaN))),
          })),
        };
      });
      return {
        scenario: 'latency-shift',
        seed,
        runs,
        model: { shift: { start, end, factor: m.shift.factor } },
        results,
      };
    },
  };
}

/** Runs {@link planLatencyShift} in this thread. */
export function runLatencyShift(options: ScenarioOptions = {}): Promise<LatencyShiftReport> {
  return runPlan(planLatencyShift(options), options.simulate);
}
