import { type Policy, pipeline } from '@faultline/core';
import { constant, retry } from '@faultline/retry';
import { adaptiveTimeout, timeout } from '@faultline/timeout';
import { lognormal, normal } from '../distribution.js';
import { timeToRecover } from '../metrics.js';
import { list, num, pct, secondsText } from '../report/format.js';
import { lineChart } from '../report/svg.js';
import { defineScenario } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { windowTotals } from './retry-storm.js';
import {
  mean,
  type PolicyEnvironment,
  round,
  roundedMeanBuckets,
  runSeed,
  type ServiceRunResult,
  serviceRun,
} from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

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
    /** Requests per second offered (open loop). */
    readonly rate: number;
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
  const specs = variantRuns(variants, runs, (variant, run) => {
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
  });
  return {
    specs,
    aggregate: (outcomes) => {
      const results = variants.map((variant, v): LatencyShiftResult => {
        const mine = variantOutcomes(outcomes, v, runs);
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
          buckets: roundedMeanBuckets(metrics, ['goodput', 'p99'] as const).map((b, i) => ({
            ...b,
            timeout: round(mean(timeouts.map((series) => series[i] ?? Number.NaN))),
          })),
        };
      });
      return {
        scenario: 'latency-shift',
        seed,
        runs,
        model: { shift: { start, end, factor: m.shift.factor }, rate: m.rate },
        results,
      };
    },
  };
}

/** Runs {@link planLatencyShift} in this thread. */
export function runLatencyShift(options: ScenarioOptions = {}): Promise<LatencyShiftReport> {
  return runPlan(planLatencyShift(options), options.simulate);
}

function latencyShiftConclusions(report: LatencyShiftReport): string[] {
  const { start, end, factor } = report.model.shift;
  const parts = report.results.map(
    (r) =>
      `${r.name} ${pct(r.successDuring)}` +
      (r.amplificationDuring !== null && r.amplificationDuring > 1.05
        ? ` (at ${num(r.amplificationDuring, 2)} attempts per request)`
        : ''),
  );
  const out = [
    `While latency was ${factor}× higher (${start / 1000}–${end / 1000} s), the share of requests that succeeded was: ${list(parts)}.`,
  ];
  const adaptive = report.results.find((r) => r.name.startsWith('adaptive'));
  const loose = report.results.find((r) => r.name === 'fixed 2000 ms');
  if (adaptive !== undefined) {
    const after = adaptive.buckets.filter((b) => b.t >= end + 10_000).map((b) => b.timeout ?? 0);
    const before = adaptive.buckets.filter((b) => b.t < start).map((b) => b.timeout ?? 0);
    out.push(
      `The adaptive timeout followed the shift (goodput back within 5 % of before ${secondsText(adaptive.timeToAdapt)} after it began) and came back down afterwards (${num(Math.max(...before), 0)} ms before, ${num(Math.min(...after), 0)}–${num(Math.max(...after), 0)} ms from ${(end + 10_000) / 1000} s)` +
        (loose !== undefined
          ? `, while the fixed 2000 ms timeout survives the shift only by waiting up to 2 s on every attempt, at all times.`
          : '.'),
    );
  }
  return out;
}

function latencyShiftNotes(report: LatencyShiftReport): string[] {
  const { start, end } = report.model.shift;
  const notes: string[] = [];
  const adaptive = report.results.find((r) => r.name.startsWith('adaptive'));
  if (adaptive !== undefined) {
    const peak = adaptive.buckets
      .filter((b) => b.t >= start && b.t < start + 3_000)
      .reduce((a, b) => ((b.timeout ?? 0) > (a.timeout ?? 0) ? b : a), adaptive.buckets[0]!);
    const settled = adaptive.buckets.find((b) => b.t === start + 3_000)?.timeout;
    notes.push(
      `The spike of the adaptive timeout at ${peak.t / 1000} s (${num(peak.timeout, 0)} ms, then ${num(settled ?? null, 0)} ms a few seconds later): when latency jumps, attempts time out at the old, short timeout, and a timed-out attempt only says "longer than this", so each one doubles the timeout (up to its maximum) until answers at the new latency arrive; from then on it is 1.5 × the p99.9 of recent answers again.`,
    );
  }
  const rate = report.model.rate;
  const spike = report.results
    .map((r) => ({ r, bucket: r.buckets.find((b) => b.t === end) }))
    .filter(({ bucket }) => bucket !== undefined && (bucket.goodput ?? 0) > rate * 1.2);
  if (spike.length > 0) {
    notes.push(
      `The goodput spike at ${end / 1000} s (${list(spike.map(({ r, bucket }) => `${r.name} ${num(bucket!.goodput, 0)}/s`))}, against ${rate} requests/s offered): when latency drops back, the requests still in flight from the slow period (up to ${report.model.shift.factor}× the normal latency old) complete together with the new, fast ones, so one second counts more completions than arrivals. The dip at ${start / 1000} s is the mirror image: completions are delayed while the first slow answers are on their way.`,
    );
  }
  return notes;
}

/** `faultline-sim latency-shift`: see {@link planLatencyShift}. */
export const latencyShiftScenario = defineScenario({
  name: 'latency-shift',
  title: 'Latency shift: fixed versus adaptive timeouts',
  description:
    'Server latency (log-normal, median 50 ms) jumps 10× from 20 s to 40 s. Two attempts per request, each under a fixed (200 ms, 2000 ms) or adaptive timeout.',
  defaultRuns: 2,
  plan: (options) => planLatencyShift(options),
  conclusions: latencyShiftConclusions,
  notes: latencyShiftNotes,
  table(report) {
    return {
      title: `latency-shift: latency ×${report.model.shift.factor} from ${report.model.shift.start / 1000} s to ${report.model.shift.end / 1000} s`,
      columns: [
        'timeout',
        'success before',
        'during',
        'after',
        'amplification during',
        'time to adapt',
        'p99 (ms)',
      ],
      rows: report.results.map((r) => [
        r.name,
        pct(r.successBefore),
        pct(r.successDuring),
        pct(r.successAfter),
        num(r.amplificationDuring, 3),
        secondsText(r.timeToAdapt),
        num(r.p99, 0),
      ]),
    };
  },
  charts(report) {
    const band = {
      from: report.model.shift.start / 1000,
      to: report.model.shift.end / 1000,
      label: `latency ×${report.model.shift.factor}`,
    };
    return [
      lineChart({
        title: 'Goodput through the latency shift',
        xLabel: 'time (s)',
        yLabel: 'successful requests/s',
        series: report.results.map((r) => ({
          name: r.name,
          points: r.buckets.map((b) => [b.t / 1000, b.goodput] as const),
        })),
        band,
      }),
      lineChart({
        title: 'Timeout in force',
        xLabel: 'time (s)',
        yLabel: 'timeout (ms, log scale)',
        logY: true,
        series: report.results.map((r) => ({
          name: r.name,
          points: r.buckets.map((b) => [b.t / 1000 + 0.5, b.timeout] as const),
        })),
        band,
      }),
    ];
  },
});
