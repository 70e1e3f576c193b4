import { type Context, ExecutionContext, type Policy, seededRandom } from '@faultline/core';
import { hedge, learnedDelay } from '@faultline/hedge';
import { ratioBudget } from '@faultline/retry';
import { bimodal, lognormal, uniform } from '../distribution.js';
import type { SimClock, SimulationRun } from '../engine.js';
import { percentile } from '../metrics.js';
import { barChart, lineChart } from '../report/svg.js';
import { defineScenario, type Table } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { round, runSeed } from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

/**
 * The tail-latency model, after Dean and Barroso ("The Tail at Scale", CACM 2013): a request
 * reads from `leaves` servers and completes when all have answered. A leaf answers from a fast
 * log-normal with probability 1 − `slowProbability` and from a slow uniform otherwise,
 * independently per attempt: about 10 % of requests touch a slow leaf without hedging
 * (1 − 0.999¹⁰⁰), about 0.01 % with one hedge.
 */
export const tailLatencyModel = {
  leaves: 100,
  fast: { median: 5, sigma: 0.5 },
  slow: { min: 200, max: 2000 },
  slowProbability: 0.001,
  /** Requests per run, arriving as a Poisson process at `rate` per second. */
  requests: 20_000,
  rate: 1000,
  /** Requests before this are a warm-up (the learned delay has no samples yet): not counted. */
  warmup: 1000,
} as const;

/** The policies compared. */
export const tailLatencyPolicies = [
  'none',
  'hedge-10ms',
  'hedge-p95',
  'hedge-p95-budget',
  'hedge-2',
] as const;
export type TailLatencyPolicy = (typeof tailLatencyPolicies)[number];

/**
 * Builds a leaf client's policy: shared by every leaf call of the run, as a client's policy is.
 * Returns the policy and a reader of the hedge delay in force (for the report).
 */
function policyFor(
  name: TailLatencyPolicy,
  clock: SimClock,
): { policy: Policy | undefined; delay: () => number | undefined } {
  switch (name) {
    case 'none':
      return { policy: undefined, delay: () => undefined };
    case 'hedge-10ms':
      return { policy: hedge({ delay: 10, clock }), delay: () => 10 };
    case 'hedge-p95':
    case 'hedge-p95-budget':
    case 'hedge-2': {
      const delay = learnedDelay({ maxExtraLoad: 0.05, clock });
      const budget =
        name === 'hedge-p95-budget'
          ? { budget: ratioBudget({ ratio: 0.05, minRetriesPerSecond: 0, clock }) }
          : {};
      const maxHedgedAttempts = name === 'hedge-2' ? 2 : 1;
      return {
        policy: hedge({ delay, maxHedgedAttempts, clock, ...budget }),
        delay: () => delay.current(),
      };
    }
  }
}

/** The context of an unwrapped leaf call (`none`): nothing can cancel it. */
const noContext = { attempt: 1 } as Context;

/** What one run of one policy measured. */
export interface TailLatencyRun {
  /** Latencies of the counted requests, ms. */
  readonly latencies: Float64Array;
  /** Leaf attempts the counted requests sent (first attempts and hedges). */
  readonly leafRequests: number;
  /** The hedge delay in force at the end (ms), when there is one. */
  readonly delay: number | undefined;
}

/**
 * One run: `requests` fan-out requests through one leaf policy. Each leaf attempt draws its
 * latency from the model and answers after it on the simulator's clock; an attempt cancelled by
 * the hedge (it lost) stops its timer, as a cancelled RPC frees its server.
 */
function tailLatencyRun(name: TailLatencyPolicy, seed: number, requests: number) {
  const m = tailLatencyModel;
  const leafLatency = bimodal(
    lognormal(m.fast),
    uniform(m.slow.min, m.slow.max),
    m.slowProbability,
  );
  const run: SimulationRun<TailLatencyRun> = {
    setup(clock) {
      // Separate streams, so that every policy sees the same arrivals.
      const arrivals = seededRandom(runSeed(seed, 1));
      const leaves = seededRandom(runSeed(seed, 2));
      const { policy, delay } = policyFor(name, clock);
      const total = m.warmup + requests;
      const latencies = new Float64Array(requests);
      let counted = 0;
      let leafRequests = 0;
      let started = 0;
      // One leaf attempt: answers after its latency unless its hedge cancels it first.
      const leaf = (ctx: Context, counting: boolean): Promise<void> => {
        if (counting) leafRequests++;
        const ms = leafLatency.sample(leaves);
        return new Promise<void>((resolve) => {
          const cancel = clock.setTimer(ms, resolve);
          // Told of a cancellation without creating an AbortSignal per leaf call (millions per
          // run): faultline contexts offer onAbort to code that knows them.
          if (ctx instanceof ExecutionContext) ctx.onAbort(cancel);
        });
      };
      const request = (index: number): void => {
        const counting = index >= m.warmup;
        const start = clock.now();
        const calls: Array<Promise<void>> = new Array(m.leaves);
        for (let i = 0; i < m.leaves; i++) {
          calls[i] =
            policy === undefined
              ? leaf(noContext, counting)
              : policy.execute((ctx) => leaf(ctx, counting));
        }
        void Promise.all(calls).then(() => {
          if (counting) latencies[counted++] = clock.now() - start;
        });
      };
      const gap = (): number => (-1000 / m.rate) * Math.log(1 - arrivals());
      const arrive = (): void => {
        request(started++);
        if (started < total) clock.setTimer(gap(), arrive);
      };
      clock.setTimer(gap(), arrive);
      return {
        result: () => ({
          latencies: latencies.subarray(0, counted).sort(),
          leafRequests,
          delay: delay(),
        }),
      };
    },
  };
  return run;
}

/**
 * One policy's results (latencies in ms over every counted request of every run).
 * @inline
 */
export interface TailLatencyResult {
  readonly policy: TailLatencyPolicy;
  readonly requests: number;
  readonly leafRequests: number;
  /** Extra leaf requests per leaf call: leafRequests / (requests × leaves) − 1. */
  readonly extraLoad: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  /** The hedge delay in force at the end of the runs (mean), ms; null without a hedge. */
  readonly delay: number | null;
}

export interface TailLatencyReport {
  readonly scenario: 'tail-latency';
  readonly seed: number;
  readonly runs: number;
  readonly model: {
    readonly leaves: number;
    readonly fast: string;
    readonly slow: string;
    readonly slowProbability: number;
    readonly requests: number;
    readonly rate: number;
  };
  readonly results: readonly TailLatencyResult[];
}

/** Options of the `tail-latency` scenario. */
export interface TailLatencyOptions extends ScenarioOptions {
  /** Counted requests per run per policy. Default 20 000 (for a stable p99.9). */
  readonly requests?: number;
  /** The policies to compare. Default all of {@link tailLatencyPolicies}. */
  readonly policies?: readonly TailLatencyPolicy[];
}

/**
 * `tail-latency`: fan-out requests over 100 leaves, each leaf slow one time in a thousand;
 * no hedge, a fixed 10 ms hedge, a hedge at the learned p95 (Finagle's `maxExtraLoad` 0.05),
 * the same capped by a 5 % ratio budget, and two hedges at the p95. Reports latency quantiles
 * and the extra load hedging costs.
 */
export function planTailLatency(
  options: TailLatencyOptions = {},
): ScenarioPlan<TailLatencyRun, TailLatencyReport> {
  const { seed, runs } = scenarioDefaults('planTailLatency', options, 1);
  const requests = options.requests ?? tailLatencyModel.requests;
  const policies = options.policies ?? tailLatencyPolicies;
  const specs = variantRuns(policies, runs, (name, run) =>
    tailLatencyRun(name, runSeed(seed, run), requests),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const m = tailLatencyModel;
      const results = policies.map((policy, p): TailLatencyResult => {
        const mine = variantOutcomes(outcomes, p, runs);
        const all = new Float64Array(mine.reduce((n, run) => n + run.latencies.length, 0));
        let offset = 0;
        let leafRequests = 0;
        for (const run of mine) {
          all.set(run.latencies, offset);
          offset += run.latencies.length;
          leafRequests += run.leafRequests;
        }
        all.sort();
        const delays = mine.map((run) => run.delay).filter((d) => d !== undefined);
        return {
          policy,
          requests: all.length,
          leafRequests,
          extraLoad: round(leafRequests / (all.length * m.leaves) - 1, 4),
          p50: round(percentile(all, 0.5), 1),
          p90: round(percentile(all, 0.9), 1),
          p99: round(percentile(all, 0.99), 1),
          p999: round(percentile(all, 0.999), 1),
          delay:
            delays.length === 0
              ? null
              : round(delays.reduce((a, b) => a + b, 0) / delays.length, 2),
        };
      });
      return {
        scenario: 'tail-latency',
        seed,
        runs,
        model: {
          leaves: m.leaves,
          fast: `lognormal(median ${m.fast.median} ms, sigma ${m.fast.sigma})`,
          slow: `uniform(${m.slow.min}, ${m.slow.max}) ms`,
          slowProbability: m.slowProbability,
          requests,
          rate: m.rate,
        },
        results,
      };
    },
  };
}

/** Runs {@link planTailLatency} in this thread. */
export function runTailLatency(options: TailLatencyOptions = {}): Promise<TailLatencyReport> {
  return runPlan(planTailLatency(options), options.simulate);
}

const fmt = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
const pct = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)} %`;

/** The summary table of a `tail-latency` report. */
export function tailLatencyTable(report: TailLatencyReport): Table {
  const none = report.results.find((r) => r.policy === 'none');
  return {
    title: `tail-latency: ${report.model.leaves} leaves per request, a leaf slow with p = ${report.model.slowProbability} (${report.results[0]?.requests ?? 0} requests per policy)`,
    columns: [
      'policy',
      'delay (ms)',
      'extra load',
      'p50 (ms)',
      'p99 (ms)',
      'p99.9 (ms)',
      'p99.9 cut',
      'leaf requests',
    ],
    rows: report.results.map((r) => [
      r.policy,
      r.delay === null ? '—' : fmt(r.delay, 1),
      pct(r.extraLoad),
      fmt(r.p50),
      fmt(r.p99),
      fmt(r.p999),
      none?.p999 && r.p999 ? `${fmt(none.p999 / r.p999, 1)}×` : '—',
      String(r.leafRequests),
    ]),
  };
}

/** The measured conclusions of a `tail-latency` report, in plain sentences. */
export function tailLatencyConclusions(report: TailLatencyReport): string[] {
  const by = new Map(report.results.map((r) => [r.policy, r]));
  const none = by.get('none');
  const p95 = by.get('hedge-p95');
  const fixed = by.get('hedge-10ms');
  const budget = by.get('hedge-p95-budget');
  const two = by.get('hedge-2');
  const out: string[] = [];
  const cut = (r: TailLatencyResult): string =>
    none?.p999 && r.p999 ? `${fmt(none.p999 / r.p999, 0)}×` : '—';
  if (none !== undefined) {
    const slowShare = 1 - (1 - report.model.slowProbability) ** report.model.leaves;
    out.push(
      `Without hedging about ${pct(slowShare, 0)} of requests wait for a slow leaf: p99 ${fmt(none.p99, 0)} ms, p99.9 ${fmt(none.p999, 0)} ms.`,
    );
  }
  if (p95 !== undefined) {
    out.push(
      `Hedging at the learned p95 (${fmt(p95.delay, 1)} ms) cut the p99.9 to ${fmt(p95.p999)} ms (${cut(p95)}) for ${pct(p95.extraLoad)} more leaf requests.`,
    );
  }
  if (fixed !== undefined && p95 !== undefined) {
    out.push(
      `A fixed 10 ms hedge cut it about as far (${fmt(fixed.p999)} ms) but cost ${pct(fixed.extraLoad)}: below the p95 it hedges leaves that would have answered in time.`,
    );
  }
  if (budget !== undefined && p95 !== undefined && budget.p999 !== null && p95.p999 !== null) {
    out.push(
      budget.p999 > 2 * p95.p999
        ? `A 5 % budget held the extra load at ${pct(budget.extraLoad)}, but set at exactly the rate the p95 hedge asks for it denied some hedges, and the slow leaves they were for came back: p99.9 ${fmt(budget.p999, 0)} ms. Give the budget headroom over maxExtraLoad (it is there for latency shifts and overload).`
        : `A 5 % budget held the extra load at ${pct(budget.extraLoad)} with the same tail (p99.9 ${fmt(budget.p999)} ms).`,
    );
  }
  if (two !== undefined) {
    out.push(
      `A second hedge changed little (p99.9 ${fmt(two.p999)} ms, ${pct(two.extraLoad)} extra): after one hedge a request meets a slow leaf twice about once in ten thousand.`,
    );
  }
  return out;
}

/** The charts of a `tail-latency` report: the latency tail per policy, and the extra load. */
export function tailLatencyCharts(report: TailLatencyReport): string[] {
  // Quantiles on a "nines" axis (−log10(1 − q): p90 = 1, p99 = 2, p99.9 = 3), latency on a log axis.
  const levels = [
    [0.5, 'p50'],
    [0.9, 'p90'],
    [0.99, 'p99'],
    [0.999, 'p999'],
  ] as const;
  return [
    lineChart({
      title: 'Request latency by quantile (log scale)',
      xLabel: 'quantile, in nines: 1 = p90, 2 = p99, 3 = p99.9',
      yLabel: 'latency (ms)',
      logY: true,
      series: report.results.map((r) => ({
        name: r.policy,
        points: levels.map(([q, key]) => [-Math.log10(1 - q), r[key]] as const),
        ...(r.policy === 'none' ? { dashed: true } : {}),
      })),
    }),
    barChart({
      title: 'Extra load: leaf requests per leaf call − 1 (dashed: maxExtraLoad 5 %)',
      yLabel: 'extra load (%)',
      reference: { value: 5, label: '' },
      bars: report.results.map((r) => ({
        label: r.policy,
        value: r.extraLoad === null ? null : +(r.extraLoad * 100).toFixed(2),
      })),
    }),
  ];
}

/** `faultline-sim tail-latency`: see {@link planTailLatency}. */
export const tailLatencyScenario = defineScenario({
  name: 'tail-latency',
  title: 'Tail latency: hedged requests (The Tail at Scale)',
  description:
    'Each request reads from 100 leaves and completes when all have answered (Dean and Barroso, CACM 2013). A leaf answers from lognormal(median 5 ms, sigma 0.5), or one time in a thousand from uniform(200, 2000) ms, independently per attempt; 20 000 requests per policy at 1 000/s. No hedge, a hedge after a fixed 10 ms, a hedge at the learned p95 (learnedDelay, maxExtraLoad 0.05), the same with a 5 % ratio budget, and two hedges at the p95. Extra load = leaf requests / (requests × leaves) − 1.',
  defaultRuns: 1,
  plan: ({ seed, runs }) => planTailLatency({ seed, runs }),
  conclusions: tailLatencyConclusions,
  table: tailLatencyTable,
  charts: tailLatencyCharts,
  notes: () => [
    'Latency is drawn against the quantile in "nines" (−log10(1 − q): p90 at 1, p99 at 2, p99.9 at 3) on a log scale, so the tail gets the room it deserves; p99.9 is the 20th slowest of 20 000 requests.',
  ],
});
