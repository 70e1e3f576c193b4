import { type CircuitBreaker, circuitBreaker, failureRate } from '@faultline/breaker';
import { seededRandom } from '@faultline/core';
import { PhiAccrualDetector } from '@faultline/failure-detector';
import { constant, retry } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { exponential, normal } from '../distribution.js';
import type { SimulationRun } from '../engine.js';
import { openLoop } from '../load.js';
import { Metrics, type RunMetrics } from '../metrics.js';
import { Network } from '../network.js';
import { list, num, pct } from '../report/format.js';
import { barChart, lineChart } from '../report/svg.js';
import { Server } from '../server.js';
import { defineScenario } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { mean, round, roundedMeanBuckets, runSeed } from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

/** The gray-failure model: 4 backends behind a client-side balancer; one turns slow. */
export const grayFailureModel = {
  backends: 4,
  concurrency: 5,
  serviceTimeMean: 10,
  rate: 1000,
  /** Backend 0 serves 20× slower from 10 s on: alive, answering health checks, useless. */
  gray: { start: 10_000, factor: 20 },
  until: 30_000,
  attemptTimeout: 100,
  maxAttempts: 2,
} as const;

/**
 * How `gray-failure` clients pick a backend.
 * @inline
 */
export type GrayStrategy = 'none' | 'breaker' | 'phi detector';
const strategies: readonly GrayStrategy[] = ['none', 'breaker', 'phi detector'];

function grayRun(strategy: GrayStrategy, seed: number): SimulationRun<RunMetrics> {
  const m = grayFailureModel;
  return {
    setup(clock) {
      const random = seededRandom(seed);
      const metrics = new Metrics();
      const network = new Network(clock, random, { latency: normal(1, 0.2) });
      const servers = Array.from(
        { length: m.backends },
        (_, i) =>
          new Server(clock, random, {
            concurrency: m.concurrency,
            queueLimit: 100,
            serviceTime: exponential(m.serviceTimeMean),
            incidents:
              i === 0
                ? [
                    {
                      kind: 'brownout',
                      start: m.gray.start,
                      duration: Number.POSITIVE_INFINITY,
                      factor: m.gray.factor,
                    },
                  ]
                : [],
            onReceive: () => metrics.serverReceive(clock.now()),
          }),
      );
      const breakers: CircuitBreaker[] = servers.map(() =>
        circuitBreaker({
          trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 2_000 }),
          breakDuration: 2_000,
          clock,
          random,
        }),
      );
      // Passive heartbeats: every timely answer from a backend is a sign of life. Tuned to the traffic
      // (~4 ms between answers per backend) instead of Akka's 1 s cluster heartbeats; a
      // suspected backend gets no traffic, hence no heartbeats, and stays out (gray failures last).
      const detectors = servers.map(
        () =>
          new PhiAccrualDetector({
            threshold: 3,
            maxSampleSize: 200,
            minStdDeviation: 2,
            acceptableHeartbeatPause: 10,
            firstHeartbeatEstimate: 5,
            clock,
          }),
      );
      const attemptTimeout = timeout(m.attemptTimeout, { clock });
      let next = 0;
      const usable = (i: number): boolean => {
        if (strategy === 'breaker') return breakers[i]!.state !== 'open';
        if (strategy === 'phi detector') return detectors[i]!.isAvailable();
        return true;
      };
      const pick = (): number => {
        // Round robin over the backends the strategy considers healthy (all, if none is).
        for (let k = 0; k < m.backends; k++) {
          const i = (next + k) % m.backends;
          if (usable(i)) {
            next = i + 1;
            return i;
          }
        }
        return next++ % m.backends;
      };
      const callBackend = (i: number): Promise<unknown> => {
        metrics.attempt(clock.now());
        const server = servers[i]!;
        const sent = clock.now();
        return network
          .call((respond) => server.handle(respond))
          .then((value) => {
            // Only a useful answer is a sign of life: one that came back before the caller's
            // timeout. A gray backend still answers, just too late to matter.
            if (clock.now() - sent < m.attemptTimeout) detectors[i]!.heartbeat();
            return value;
          });
      };
      const attempt = (): Promise<unknown> => {
        const i = pick();
        const inner = (): Promise<unknown> => callBackend(i);
        return strategy === 'breaker'
          ? breakers[i]!.execute(() => attemptTimeout.execute(inner))
          : attemptTimeout.execute(inner);
      };
      const policy = retry({ maxAttempts: m.maxAttempts, backoff: constant(0), clock, random });
      openLoop(
        clock,
        random,
        { rate: m.rate, until: m.until },
        () => policy.execute(attempt),
        metrics,
      );
      return { until: m.until, result: () => metrics.summary(m.until) };
    },
  };
}

/**
 * Results of one configuration of `gray-failure` (means over runs).
 * @inline
 */
export interface GrayFailureResult {
  readonly strategy: GrayStrategy;
  readonly successRate: number | null;
  /** Success rate and p99 while backend 0 is slow (after the first 5 s of it). */
  readonly successDuring: number | null;
  readonly p99During: number | null;
  readonly amplification: number | null;
  readonly buckets: ReadonlyArray<{ t: number; goodput: number | null; p99: number | null }>;
}

export interface GrayFailureReport {
  readonly scenario: 'gray-failure';
  readonly seed: number;
  readonly runs: number;
  readonly results: readonly GrayFailureResult[];
}

/**
 * `gray-failure`: one of four backends turns 20× slower but stays up. A balancer that cannot tell
 * keeps sending it a quarter of the traffic, which times out; a per-backend breaker or a phi
 * accrual detector fed by the answers takes it out of rotation.
 */
export function planGrayFailure(
  options: ScenarioOptions = {},
): ScenarioPlan<RunMetrics, GrayFailureReport> {
  const { seed, runs } = scenarioDefaults('planGrayFailure', options, 2);
  const specs = variantRuns(strategies, runs, (strategy, run) =>
    grayRun(strategy, runSeed(seed, run)),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const m = grayFailureModel;
      const from = m.gray.start + 5_000;
      const results = strategies.map((strategy, s): GrayFailureResult => {
        const mine = variantOutcomes(outcomes, s, runs);
        const during = mine.map((run) => {
          let ok = 0;
          let all = 0;
          let attempts = 0;
          let offered = 0;
          for (const b of run.buckets) {
            if (b.t < from) continue;
            ok += b.successes;
            all += b.successes + b.failures;
            attempts += b.attempts;
            offered += b.offered;
          }
          return { success: all > 0 ? ok / all : Number.NaN, amplification: attempts / offered };
        });
        return {
          strategy,
          successRate: round(mean(mine.map((run) => run.successRate)), 4),
          successDuring: round(mean(during.map((d) => d.success)), 4),
          p99During: round(mean(mine.map((run) => run.p99))),
          amplification: round(mean(during.map((d) => d.amplification))),
          buckets: roundedMeanBuckets(mine, ['goodput', 'p99'] as const),
        };
      });
      return { scenario: 'gray-failure', seed, runs, results };
    },
  };
}

/** Runs {@link planGrayFailure} in this thread. */
export function runGrayFailure(options: ScenarioOptions = {}): Promise<GrayFailureReport> {
  return runPlan(planGrayFailure(options), options.simulate);
}

/** What each strategy is, for people (the JSON keeps the short keys). */
export const grayFailureLabels: Readonly<Record<GrayStrategy, string>> = {
  none: 'no detection (blind round robin)',
  breaker: 'skip if breaker open',
  'phi detector': 'skip if phi detector suspects',
};

/** `faultline-sim gray-failure`: see {@link planGrayFailure}. */
export const grayFailureScenario = defineScenario({
  name: 'gray-failure',
  title: 'Gray failure: one slow backend of four',
  description:
    'A client balances 1000 requests/s over four backends; from 10 s one serves 20× slower but stays up. Per-attempt timeout 100 ms, 2 attempts. Blind round robin versus skipping backends whose breaker is open or whose phi-accrual detector (fed by timely answers) suspects them.',
  defaultRuns: 2,
  plan: (options) => planGrayFailure(options),
  conclusions(report) {
    const by = (s: GrayStrategy) => report.results.find((r) => r.strategy === s);
    const blind = by('none');
    const out: string[] = [];
    if (blind !== undefined) {
      out.push(
        `Balancing blindly, ${pct(1 - (blind.successDuring ?? 1))} of requests failed while backend 0 was slow (it still answers, too late), and every failed attempt was retried elsewhere (${num(blind.amplification, 2)} attempts per request).`,
      );
    }
    const detectors = report.results.filter((r) => r.strategy !== 'none');
    if (detectors.length > 0) {
      out.push(
        `Taking the slow backend out of rotation kept ${list(detectors.map((r) => `${pct(r.successDuring)} (${grayFailureLabels[r.strategy]})`))} of requests successful, with a lower p99 (${list(detectors.map((r) => `${num(r.p99During, 0)} ms`))} against ${num(blind?.p99During, 0)} ms).`,
      );
    }
    return out;
  },
  table(report) {
    return {
      title: 'gray-failure: one backend of four 20× slower from 10 s',
      columns: [
        'detection',
        'success (whole run)',
        'success while gray',
        'amplification',
        'p99 (ms)',
      ],
      rows: report.results.map((r) => [
        grayFailureLabels[r.strategy],
        pct(r.successRate),
        pct(r.successDuring),
        num(r.amplification, 3),
        num(r.p99During, 0),
      ]),
    };
  },
  charts(report) {
    return [
      lineChart({
        title: 'Goodput while one backend is slow',
        xLabel: 'time (s)',
        yLabel: 'successful requests/s',
        series: report.results.map((r) => ({
          name: grayFailureLabels[r.strategy],
          points: r.buckets.map((b) => [b.t / 1000, b.goodput] as const),
        })),
        band: {
          from: grayFailureModel.gray.start / 1000,
          to: report.results[0]?.buckets.length ?? 30,
          label: 'backend 0 slow',
        },
      }),
      barChart({
        title: 'Success rate while the backend is slow',
        yLabel: 'success (%)',
        bars: report.results.map((r) => ({
          label: grayFailureLabels[r.strategy],
          value: r.successDuring === null ? null : r.successDuring * 100,
          note: r.successDuring === null ? 'n/a' : pct(r.successDuring),
        })),
      }),
    ];
  },
});
