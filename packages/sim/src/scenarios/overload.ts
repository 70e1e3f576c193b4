import { bulkhead, type Policy, pipeline, seededRandom } from '@faultline/core';
import {
  aimd,
  type ConcurrencyLimitPolicy,
  concurrencyLimit,
  gradient2,
  type LimitAlgorithm,
  vegas,
} from '@faultline/limits';
import { timeout } from '@faultline/timeout';
import { type Distribution, exponential, normal } from '../distribution.js';
import type { SimClock, SimulationRun } from '../engine.js';
import { openLoop } from '../load.js';
import { Network, type Respond } from '../network.js';
import { lineChart } from '../report/svg.js';
import { Server, ServerError } from '../server.js';
import { defineScenario } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { mean, round, runSeed } from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

/**
 * The overload model: open-loop clients at 800 requests/s on a server of 1000
 * requests/s (10 workers, service time 5 ms + Exp(5 ms)); from 20 s to 40 s a brownout doubles
 * every service time (capacity 500 requests/s). 1 s attempt timeout, no retries; the server
 * serves requests whose callers gave up, from an unbounded FIFO queue.
 */
export const overloadModel = {
  rate: 800,
  workers: 10,
  serviceFloor: 5,
  serviceExpMean: 5,
  brownout: { start: 20_000, duration: 20_000, factor: 2 },
  until: 60_000,
  attemptTimeout: 1_000,
  /** Measurement periods (by request start): the first 5 s are the limits' warm-up. */
  before: [5_000, 20_000],
  during: [20_000, 40_000],
  /**
   * The fixed bulkhead, sized for full capacity by Little's law: 1000 requests/s × a 20 ms round
   * trip (the 12 ms mean with no queue, plus room for a short one) = 20 in flight.
   */
  bulkheadLimit: 20,
} as const;

/** Service time: a 5 ms floor plus an exponential tail of mean 5 ms (mean 10 ms). */
const serviceTime: Distribution = (() => {
  const tail = exponential(overloadModel.serviceExpMean);
  return {
    sample: (random) => overloadModel.serviceFloor + tail.sample(random),
    mean: overloadModel.serviceFloor + overloadModel.serviceExpMean,
    label: `${overloadModel.serviceFloor} + exponential(${overloadModel.serviceExpMean})`,
  };
})();

/** Where a configuration limits concurrency, and with what. */
interface OverloadVariant {
  readonly name: string;
  /** What it is, for the report. */
  readonly description: string;
  readonly side: 'none' | 'client' | 'server';
  /** Builds the limit (a fresh one per run: algorithms hold state). */
  readonly limit?: (clock: SimClock, random: () => number) => LimitAlgorithm | 'bulkhead';
}

/**
 * The tuned parameters (chosen with the sweep described in the README; every other value is
 * Netflix's default). Gradient2 gets a long memory (`longWindow` 60 000 samples, over a minute
 * at this load) so that its long-term RTT stays the healthy baseline through a 20 s brownout, a
 * tolerance of 2× (the brownout alone doubles service times), half the growth step and a lower
 * floor; Vegas gets wider queue thresholds (the service-time noise alone makes it estimate a
 * queue of ≈ 40 % of the limit) and smoothing.
 */
export const tunedParameters = {
  gradient2: { min: 8, queueSize: 2, longWindow: 60_000, rttTolerance: 2 },
  vegas: { max: 200, smoothing: 0.2, alpha: 5, beta: 10 },
  server: { min: 8, queueSize: 2, longWindow: 60_000, rttTolerance: 2.2 },
} as const;

export const overloadVariants: readonly OverloadVariant[] = [
  { name: 'none', description: 'no limit: every request goes to the server', side: 'none' },
  {
    name: 'bulkhead-fixed',
    description: `bulkhead of ${overloadModel.bulkheadLimit} (sized for full capacity)`,
    side: 'client',
    limit: () => 'bulkhead',
  },
  {
    name: 'aimd',
    description: 'AIMD, Netflix defaults (client)',
    side: 'client',
    limit: () => aimd(),
  },
  {
    name: 'vegas',
    description: 'Vegas, Netflix defaults (client)',
    side: 'client',
    limit: (_clock, random) => vegas({ random }),
  },
  {
    name: 'gradient2',
    description: 'Gradient2, Netflix defaults (client)',
    side: 'client',
    limit: () => gradient2(),
  },
  {
    name: 'vegas-tuned',
    description: 'Vegas, tuned (client)',
    side: 'client',
    limit: (_clock, random) => vegas({ ...tunedParameters.vegas, random }),
  },
  {
    name: 'gradient2-tuned',
    description: 'Gradient2, tuned (client)',
    side: 'client',
    limit: () => gradient2(tunedParameters.gradient2),
  },
  {
    name: 'gradient2-server',
    description: 'Gradient2, tuned, shedding at the server (503)',
    side: 'server',
    limit: () => gradient2(tunedParameters.server),
  },
];

// Per-period counters of one run (by request start time).
interface PeriodCounts {
  offered: number;
  successes: number;
  timeouts: number;
  rejected: number;
  failures: number;
  latencies: number[];
}

function period(): PeriodCounts {
  return { offered: 0, successes: 0, timeouts: 0, rejected: 0, failures: 0, latencies: [] };
}

/** One run's outcome: per-period totals and a per-second series. */
export interface OverloadRunResult {
  readonly before: PeriodSummary;
  readonly during: PeriodSummary;
  readonly after: PeriodSummary;
  /** Per second (by request start): successes, p99 of their latency, rejected, timeouts, mean limit. */
  readonly series: ReadonlyArray<{
    t: number;
    goodput: number;
    p99: number;
    rejected: number;
    timeouts: number;
    limit: number;
  }>;
}

interface PeriodSummary {
  readonly offered: number;
  readonly successes: number;
  readonly timeouts: number;
  readonly rejected: number;
  readonly failures: number;
  readonly seconds: number;
  readonly p99: number;
}

function p99(latencies: number[]): number {
  if (latencies.length === 0) return Number.NaN;
  latencies.sort((a, b) => a - b);
  return latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)]!;
}

function summarize(counts: PeriodCounts, seconds: number): PeriodSummary {
  return {
    offered: counts.offered,
    successes: counts.successes,
    timeouts: counts.timeouts,
    rejected: counts.rejected,
    failures: counts.failures,
    seconds,
    p99: p99(counts.latencies),
  };
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'TIMEOUT';
}

function isRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'CONCURRENCY_LIMITED' ||
    code === 'BULKHEAD_FULL' ||
    (error instanceof ServerError && error.message === shed.message)
  );
}

// The server-side limit's answer: a 503 sent at once (shared: no stack per rejection).
const shed = new ServerError(503, 'shed by the server concurrency limit');

/** One simulated run of `variant`. */
export function overloadRun(
  variant: OverloadVariant,
  seed: number,
): SimulationRun<OverloadRunResult> {
  const m = overloadModel;
  return {
    setup(clock) {
      const random = seededRandom(seed);
      const server = new Server(clock, random, {
        concurrency: m.workers,
        queueLimit: Number.POSITIVE_INFINITY,
        serviceTime,
        incidents: [{ kind: 'brownout', ...m.brownout }],
      });
      const network = new Network(clock, random, { latency: normal(1, 0.2) });
      const built = variant.limit?.(clock, random);
      let limiter: ConcurrencyLimitPolicy | undefined;
      let readLimit: () => number = () => Number.NaN;
      const attemptTimeout = timeout(m.attemptTimeout, { clock });
      let policy: Policy = attemptTimeout;
      let handle: (respond: Respond<unknown>) => void = (respond) => server.handle(respond);
      if (built === 'bulkhead') {
        policy = pipeline(bulkhead({ limit: m.bulkheadLimit, clock }), attemptTimeout);
        readLimit = () => m.bulkheadLimit;
      } else if (built !== undefined) {
        limiter = concurrencyLimit({ limit: built, clock });
        const active = limiter;
        readLimit = () => active.limit;
        if (variant.side === 'client') {
          // The attempt timeout inside the limit: a timeout is a drop, the RTT includes it.
          policy = pipeline(active, attemptTimeout);
        } else {
          // At the server: admitted requests hold a permit while queued and served; the RTT
          // sample is the server's residence time. Over the limit: 503 at once.
          handle = (respond) => {
            const permit = active.tryAcquire();
            if (permit === undefined) {
              respond(shed);
              return;
            }
            server.handle((error, value) => {
              if (error === undefined) permit.success();
              else permit.failure();
              respond(error, value);
            });
          };
        }
      }
      const periods = { before: period(), during: period(), after: period() };
      const seconds = Math.ceil(m.until / 1000);
      const buckets = Array.from({ length: seconds }, () => ({
        successes: 0,
        rejected: 0,
        timeouts: 0,
        latencies: [] as number[],
        limitSum: 0,
        limitSamples: 0,
      }));
      const periodOf = (t: number): PeriodCounts | undefined =>
        t >= m.during[1]
          ? periods.after
          : t >= m.during[0]
            ? periods.during
            : t >= m.before[0]
              ? periods.before
              : undefined;
      const attempt = (): Promise<unknown> => network.call(handle);
      const request = (): Promise<unknown> => {
        const started = clock.now();
        const counts = periodOf(started);
        const bucket = buckets[Math.floor(started / 1000)]!;
        if (counts !== undefined) counts.offered++;
        return policy.execute(attempt).then(
          () => {
            const latency = clock.now() - started;
            bucket.successes++;
            bucket.latencies.push(latency);
            if (counts === undefined) return;
            counts.successes++;
            counts.latencies.push(latency);
          },
          (error: unknown) => {
            if (isTimeout(error)) {
              bucket.timeouts++;
              if (counts !== undefined) counts.timeouts++;
            } else if (isRejection(error)) {
              bucket.rejected++;
              if (counts !== undefined) counts.rejected++;
            } else if (counts !== undefined) {
              counts.failures++;
            }
          },
        );
      };
      openLoop(clock, random, { rate: m.rate, until: m.until }, request);
      // The limit, sampled every 100 ms.
      const sample = (): void => {
        const bucket = buckets[Math.floor(clock.now() / 1000)];
        if (bucket !== undefined) {
          bucket.limitSum += readLimit();
          bucket.limitSamples++;
        }
        if (clock.now() + 100 < m.until) clock.setTimer(100, sample);
      };
      clock.setTimer(50, sample);
      // Wait for the backlog to settle: requests time out 1 s after the last arrival.
      return {
        until: m.until + m.attemptTimeout + 10,
        result: () => ({
          before: summarize(periods.before, (m.before[1] - m.before[0]) / 1000),
          during: summarize(periods.during, (m.during[1] - m.during[0]) / 1000),
          after: summarize(periods.after, (m.until - m.during[1]) / 1000),
          series: buckets.map((b, i) => ({
            t: i * 1000,
            goodput: b.successes,
            p99: p99(b.latencies),
            rejected: b.rejected,
            timeouts: b.timeouts,
            limit: b.limitSamples > 0 ? b.limitSum / b.limitSamples : Number.NaN,
          })),
        }),
      };
    },
  };
}

/** A policy's figures in the `overload` report (means over runs). */
export interface OverloadResult {
  readonly policy: string;
  readonly description: string;
  /** Successful responses per second during the brownout (requests started in it). */
  readonly goodputDuring: number | null;
  /** Shares of the requests offered during the brownout that timed out / were rejected. */
  readonly timeoutsDuring: number | null;
  readonly rejectedDuring: number | null;
  /** p99 latency of successful requests before (5–20 s) and during the brownout, ms. */
  readonly p99Before: number | null;
  readonly p99During: number | null;
  /** p99During / p99Before (2× is the physical floor: every service time doubles). */
  readonly p99Ratio: number | null;
  /** Share of the requests offered before the brownout that were rejected. */
  readonly rejectedBefore: number | null;
  readonly goodputBefore: number | null;
  /** From the end of the brownout until goodput is back within 5 % of before, ms (null: never). */
  readonly timeToRecover: number | null;
  /** Mean concurrency limit before and during the brownout (null without one). */
  readonly limitBefore: number | null;
  readonly limitDuring: number | null;
  readonly series: ReadonlyArray<{
    t: number;
    goodput: number | null;
    p99: number | null;
    limit: number | null;
    rejected: number | null;
    timeouts: number | null;
  }>;
}

export interface OverloadReport {
  readonly scenario: 'overload';
  readonly seed: number;
  readonly runs: number;
  readonly model: {
    readonly rate: number;
    readonly capacity: number;
    readonly brownout: { readonly start: number; readonly end: number; readonly factor: number };
    readonly tuned: typeof tunedParameters;
  };
  readonly results: readonly OverloadResult[];
}

function timeToRecover(series: OverloadRunResult['series']): number {
  const m = overloadModel;
  const baseline = mean(
    series.filter((b) => b.t >= m.before[0] && b.t < m.before[1]).map((b) => b.goodput),
  );
  const end = m.during[1];
  for (const bucket of series) {
    if (bucket.t < end) continue;
    if (bucket.goodput >= 0.95 * baseline) return bucket.t - end;
  }
  return Number.NaN;
}

/**
 * `overload`: no limit, a fixed bulkhead and the adaptive concurrency limits (client side and
 * shedding at the server) through a brownout that halves the server's capacity.
 */
export function planOverload(
  options: ScenarioOptions & { readonly policies?: readonly string[] } = {},
): ScenarioPlan<OverloadRunResult, OverloadReport> {
  const { seed, runs } = scenarioDefaults('planOverload', options, 2);
  const variants =
    options.policies === undefined
      ? overloadVariants
      : overloadVariants.filter((variant) => options.policies!.includes(variant.name));
  const specs = variantRuns(variants, runs, (variant, run, v) =>
    overloadRun(variant, runSeed(seed, v, run)),
  );
  const m = overloadModel;
  return {
    specs,
    aggregate: (outcomes) => {
      const results = variants.map((variant, v): OverloadResult => {
        const mine = variantOutcomes(outcomes, v, runs);
        const share = (
          pick: (r: OverloadRunResult) => number,
          of: (r: OverloadRunResult) => number,
        ) => mean(mine.map((r) => (of(r) > 0 ? pick(r) / of(r) : Number.NaN)));
        const p99Before = mean(mine.map((r) => r.before.p99));
        const p99During = mean(mine.map((r) => r.during.p99));
        const limitIn = (from: number, to: number) =>
          mean(
            mine.flatMap((r) =>
              r.series.filter((b) => b.t >= from && b.t < to).map((b) => b.limit),
            ),
          );
        const recover = mine.map((r) => timeToRecover(r.series));
        return {
          policy: variant.name,
          description: variant.description,
          goodputDuring: round(mean(mine.map((r) => r.during.successes / r.during.seconds)), 1),
          timeoutsDuring: round(
            share(
              (r) => r.during.timeouts,
              (r) => r.during.offered,
            ),
            4,
          ),
          rejectedDuring: round(
            share(
              (r) => r.during.rejected,
              (r) => r.during.offered,
            ),
            4,
          ),
          p99Before: round(p99Before, 1),
          p99During: round(p99During, 1),
          p99Ratio: round(p99During / p99Before, 2),
          rejectedBefore: round(
            share(
              (r) => r.before.rejected,
              (r) => r.before.offered,
            ),
            4,
          ),
          goodputBefore: round(mean(mine.map((r) => r.before.successes / r.before.seconds)), 1),
          timeToRecover: recover.some(Number.isNaN) ? null : round(mean(recover), 0),
          limitBefore: variant.side === 'none' ? null : round(limitIn(m.before[0], m.before[1]), 1),
          limitDuring: variant.side === 'none' ? null : round(limitIn(m.during[0], m.during[1]), 1),
          series: mine[0]!.series.map((bucket, i) => ({
            t: bucket.t,
            goodput: round(mean(mine.map((r) => r.series[i]!.goodput)), 1),
            p99: round(mean(mine.map((r) => r.series[i]!.p99)), 1),
            limit:
              variant.side === 'none' ? null : round(mean(mine.map((r) => r.series[i]!.limit)), 1),
            rejected: round(mean(mine.map((r) => r.series[i]!.rejected)), 1),
            timeouts: round(mean(mine.map((r) => r.series[i]!.timeouts)), 1),
          })),
        };
      });
      return {
        scenario: 'overload',
        seed,
        runs,
        model: {
          rate: m.rate,
          capacity: (m.workers * 1000) / serviceTime.mean,
          brownout: {
            start: m.brownout.start,
            end: m.brownout.start + m.brownout.duration,
            factor: m.brownout.factor,
          },
          tuned: tunedParameters,
        },
        results,
      };
    },
  };
}

/** Runs {@link planOverload} in this thread. */
export function runOverload(
  options: ScenarioOptions & { readonly policies?: readonly string[] } = {},
): Promise<OverloadReport> {
  return runPlan(planOverload(options), options.simulate);
}

/** The report as a table (one row per policy). */
export function overloadTable(report: OverloadReport): {
  title: string;
  columns: string[];
  rows: string[][];
} {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
  const num = (v: number | null, digits = 0) => (v === null ? '–' : v.toFixed(digits));
  return {
    title: 'overload: a 20 s brownout halves capacity (500 of 800 requests/s can be served)',
    columns: [
      'policy',
      'goodput during /s',
      'timeouts during',
      'rejected during',
      'p99 before ms',
      'p99 during ms',
      'p99 ×',
      'rejected before',
      'limit before → during',
      'recover ms',
    ],
    rows: report.results.map((r) => [
      r.policy,
      num(r.goodputDuring, 1),
      pct(r.timeoutsDuring),
      pct(r.rejectedDuring),
      num(r.p99Before, 1),
      num(r.p99During, 1),
      num(r.p99Ratio, 2),
      pct(r.rejectedBefore),
      r.limitBefore === null ? '–' : `${r.limitBefore} → ${r.limitDuring}`,
      r.timeToRecover === null ? 'not in run' : num(r.timeToRecover),
    ]),
  };
}

/** Measured conclusions, computed from the report's numbers. */
export function overloadConclusions(report: OverloadReport): string[] {
  const by = (name: string) => report.results.find((r) => r.policy === name);
  const lines: string[] = [];
  const none = by('none');
  if (none !== undefined) {
    lines.push(
      `Without a limit the server queues what it cannot serve: ${none.goodputDuring}/s of goodput and ${((none.timeoutsDuring ?? 0) * 100).toFixed(1)} % timeouts during the brownout (only the first ~1.7 s, while the queue builds from empty, succeed), and the backlog is ${none.timeToRecover === null ? 'not drained by the end of the run' : `drained ${none.timeToRecover} ms after it`}.`,
    );
  }
  const adaptive = report.results.filter(
    (r) => r.policy.endsWith('-tuned') || r.policy.endsWith('-server'),
  );
  const best = [...adaptive].sort((a, b) => (a.p99Ratio ?? Infinity) - (b.p99Ratio ?? Infinity))[0];
  if (best !== undefined) {
    lines.push(
      `Best adaptive limit (${best.policy}): ${best.goodputDuring}/s of goodput (${(((best.goodputDuring ?? 0) / 500) * 100).toFixed(0)} % of the 500/s the server can serve), ${((best.timeoutsDuring ?? 0) * 100).toFixed(1)} % timeouts, p99 ${best.p99Ratio}× the p99 before (2× is the floor: every service time doubles), ${((best.rejectedBefore ?? 0) * 100).toFixed(1)} % rejected before; its limit went from ${best.limitBefore} to ${best.limitDuring}.`,
    );
  }
  const defaults = ['aimd', 'vegas', 'gradient2'].map(by).filter((r) => r !== undefined);
  if (defaults.length > 0) {
    lines.push(
      `At Netflix's defaults: ${defaults.map((r) => `${r.policy} ${r.goodputDuring}/s, p99 ${r.p99Ratio}×, ${((r.rejectedBefore ?? 0) * 100).toFixed(1)} % rejected before`).join('; ')}.`,
    );
  }
  return lines;
}

/** Charts: the limit over time, goodput and p99 per second, the brownout shaded. */
export function overloadCharts(report: OverloadReport, chart = lineChart): string[] {
  const band = {
    from: report.model.brownout.start / 1000,
    to: report.model.brownout.end / 1000,
    label: 'brownout',
  };
  const series = (
    pick: (b: OverloadResult['series'][number]) => number | null,
    filter: (r: OverloadResult) => boolean,
  ) =>
    report.results.filter(filter).map((r) => ({
      name: r.policy,
      points: r.series.map((b) => [b.t / 1000 + 0.5, pick(b)] as [number, number | null]),
    }));
  return [
    chart({
      title: 'Concurrency limit over time',
      xLabel: 'time (s)',
      yLabel: 'limit (calls in flight)',
      // Every policy ('none' has no points), so that the colours match the other charts.
      series: series(
        (b) => b.limit,
        () => true,
      ),
      band,
      logY: true,
    }),
    chart({
      title: 'Goodput (successful responses per second, by request start)',
      xLabel: 'time (s)',
      yLabel: 'responses/s',
      series: series(
        (b) => b.goodput,
        () => true,
      ),
      band,
    }),
    chart({
      title: 'p99 latency of successful requests',
      xLabel: 'time (s)',
      yLabel: 'ms',
      series: series(
        (b) => b.p99,
        () => true,
      ),
      band,
      logY: true,
    }),
  ];
}

/** The `overload` scenario (`faultline-sim overload`). */
export const overloadScenario = defineScenario({
  name: 'overload',
  title: 'Overload: a brownout halves capacity (rate vs fixed vs adaptive concurrency limits)',
  description:
    'Open-loop clients (800 requests/s) call a server of 1000 requests/s (10 workers, 5 ms + Exp(5 ms) service) that serves from an unbounded queue, requests whose callers gave up included; from 20 s to 40 s a brownout doubles every service time (500 requests/s). 1 s timeout, no retries. No limit, a fixed bulkhead of 20, AIMD / Vegas / Gradient2 at Netflix defaults and tuned, on the client and shedding at the server. p99 during / before has a floor of 2× (every service time doubles).',
  defaultRuns: 2,
  plan: ({ seed, runs }) => planOverload({ seed, runs }),
  conclusions: overloadConclusions,
  table: overloadTable,
  charts: (report) => overloadCharts(report),
  notes: () => [
    'The limit chart is logarithmic; "none" has no limit (no line). Goodput and p99 are per second by request start.',
  ],
});
