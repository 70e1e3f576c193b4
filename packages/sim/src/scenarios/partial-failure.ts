import { type Policy, pipeline } from '@faultline/core';
import { constant, retry, tokenBucketBudget } from '@faultline/retry';
import { constant as constantDistribution } from '../distribution.js';
import { num, pct } from '../report/format.js';
import { lineChart, type Series } from '../report/svg.js';
import { defineScenario } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import {
  type PolicyEnvironment,
  round,
  runSeed,
  type ServiceRunResult,
  serviceRun,
} from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

/** The partial-failure model: independent failures with probability x, ample capacity. */
export const partialFailureModel = {
  probabilities: [0.1, 0.3, 0.5, 0.7, 0.9, 0.99],
  attempts: 3,
  rate: 200,
  until: 20_000,
} as const;

/**
 * Results of one configuration of `partial-failure` (means over runs).
 * @inline
 */
export interface PartialFailureResult {
  readonly x: number;
  readonly policy: 'retry' | 'retry + token bucket';
  readonly attempts: number;
  /** Requests that succeeded, and the prediction 1 − x^attempts. */
  readonly successRate: number | null;
  readonly expectedSuccessRate: number;
  /** Attempts per request, and the prediction (1 − x^attempts) / (1 − x). */
  readonly load: number | null;
  readonly expectedLoad: number;
  /** Requests behind the means (for sampling error: sd = sqrt(p(1 − p) / requests)). */
  readonly requests: number;
}

export interface PartialFailureReport {
  readonly scenario: 'partial-failure';
  readonly seed: number;
  readonly runs: number;
  readonly results: readonly PartialFailureResult[];
}

function policyFor(kind: PartialFailureResult['policy'], env: PolicyEnvironment): Policy {
  const budget =
    kind === 'retry' ? {} : { budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }) };
  return pipeline(
    retry({
      maxAttempts: partialFailureModel.attempts,
      backoff: constant(10),
      clock: env.clock,
      random: env.random,
      ...budget,
    }),
  );
}

/**
 * `partial-failure`: each attempt fails independently with probability x. With n attempts a
 * request succeeds with probability 1 − x^n and costs (1 − x^n)/(1 − x) attempts on average; as
 * x → 1 plain retries multiply load by n while a token bucket holds it near 1.
 */
export function planPartialFailure(
  options: ScenarioOptions & { readonly probabilities?: readonly number[] } = {},
): ScenarioPlan<ServiceRunResult, PartialFailureReport> {
  const { seed, runs } = scenarioDefaults('planPartialFailure', options, 2);
  const probabilities = options.probabilities ?? partialFailureModel.probabilities;
  const kinds = ['retry', 'retry + token bucket'] as const;
  const m = partialFailureModel;
  const grid = probabilities.flatMap((x, i) => kinds.map((kind) => ({ x, i, kind })));
  const specs = variantRuns(grid, runs, ({ x, i, kind }, run) =>
    serviceRun({
      seed: runSeed(seed, i, run),
      until: m.until,
      server: {
        concurrency: Number.POSITIVE_INFINITY,
        serviceTime: constantDistribution(5),
        failureProbability: x,
      },
      network: { latency: constantDistribution(1) },
      load: { kind: 'open', rate: m.rate },
      policy: (env) => policyFor(kind, env),
    }),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const results = grid.map(({ x, kind }, g): PartialFailureResult => {
        const mine = variantOutcomes(outcomes, g, runs).map((o) => o.metrics);
        let successes = 0;
        let ended = 0;
        let attempts = 0;
        let offered = 0;
        for (const metrics of mine) {
          successes += metrics.successes;
          ended += metrics.successes + metrics.failures;
          attempts += metrics.attempts;
          offered += metrics.offered;
        }
        const n = m.attempts;
        return {
          x,
          policy: kind,
          attempts: n,
          successRate: round(ended > 0 ? successes / ended : Number.NaN, 4),
          expectedSuccessRate: round(1 - x ** n, 4)!,
          load: round(offered > 0 ? attempts / offered : Number.NaN, 4),
          expectedLoad: round((1 - x ** n) / (1 - x), 4)!,
          requests: ended,
        };
      });
      return { scenario: 'partial-failure', seed, runs, results };
    },
  };
}

/** Runs {@link planPartialFailure} in this thread. */
export function runPartialFailure(
  options: ScenarioOptions & { readonly probabilities?: readonly number[] } = {},
): Promise<PartialFailureReport> {
  return runPlan(planPartialFailure(options), options.simulate);
}

/** `faultline-sim partial-failure`: see {@link planPartialFailure}. */
export const partialFailureScenario = defineScenario({
  name: 'partial-failure',
  title: 'Partial failure: independent failures with probability x',
  description:
    'Each attempt fails independently with probability x; 3 attempts. Success should be 1 − x³ and load (1 − x³)/(1 − x) attempts per request; a token bucket caps the load near 1 as x → 1.',
  defaultRuns: 2,
  plan: (options) => planPartialFailure(options),
  conclusions(report) {
    const plain = report.results.filter((r) => r.policy === 'retry');
    const out: string[] = [];
    if (plain.length > 0) {
      let worst = 0;
      for (const r of plain) {
        // Deviation in standard errors of the measured share: sd = sqrt(p(1 − p)/n).
        const p = r.expectedSuccessRate;
        const sd = Math.sqrt((p * (1 - p)) / Math.max(1, r.requests));
        if (sd > 0) worst = Math.max(worst, Math.abs((r.successRate ?? 0) - p) / sd);
      }
      const loadGap = Math.max(...plain.map((r) => Math.abs((r.load ?? 0) - r.expectedLoad)));
      out.push(
        `Plain retries matched the theory at every x: success 1 − x³ within ${num(worst, 1)} standard errors and load (1 − x³)/(1 − x) within ${num(loadGap, 3)} attempts per request.`,
      );
    }
    const xs = [...new Set(report.results.map((r) => r.x))];
    const top = xs.length > 0 ? Math.max(...xs) : undefined;
    const capped = report.results.find((r) => r.x === top && r.policy === 'retry + token bucket');
    const uncapped = report.results.find((r) => r.x === top && r.policy === 'retry');
    if (capped !== undefined && uncapped !== undefined) {
      out.push(
        `At x = ${top} the token bucket held the load to ${num(capped.load, 2)} attempts per request (plain retries: ${num(uncapped.load, 2)}), at the price of success (${pct(capped.successRate)} against ${pct(uncapped.successRate)}): when nearly everything fails, retries add load and little else.`,
      );
    }
    return out;
  },
  notes: () => [
    'The theory lines are drawn thin, dark and dashed over the measured lines, which are wider and carry markers, so both stay visible where they agree.',
  ],
  table(report) {
    return {
      title: 'partial-failure: success and load versus 1 − x^n and (1 − x^n)/(1 − x), n = 3',
      columns: [
        'x',
        'policy',
        'success',
        'expected',
        'load (attempts/request)',
        'expected',
        'requests',
      ],
      rows: report.results.map((r) => [
        String(r.x),
        r.policy,
        pct(r.successRate),
        pct(r.expectedSuccessRate),
        num(r.load, 3),
        num(r.expectedLoad, 3),
        String(r.requests),
      ]),
    };
  },
  charts(report) {
    const policies = [...new Set(report.results.map((r) => r.policy))];
    const measured = (key: 'successRate' | 'load'): Series[] =>
      policies.map((policy) => ({
        name: `${policy} (measured)`,
        points: report.results
          .filter((r) => r.policy === policy)
          .map((r) => [r.x, r[key]] as const),
      }));
    const first = report.results.filter((r) => r.policy === policies[0]);
    return [
      lineChart({
        title: 'Success rate versus failure probability',
        xLabel: 'failure probability x',
        yLabel: 'share of requests that succeed',
        series: [
          ...measured('successRate'),
          {
            name: '1 − x³ (theory)',
            dashed: true,
            points: first.map((r) => [r.x, r.expectedSuccessRate] as const),
          },
        ],
      }),
      lineChart({
        title: 'Load versus failure probability',
        xLabel: 'failure probability x',
        yLabel: 'attempts per request',
        series: [
          ...measured('load'),
          {
            name: '(1 − x³)/(1 − x) (theory)',
            dashed: true,
            points: first.map((r) => [r.x, r.expectedLoad] as const),
          },
        ],
      }),
    ];
  },
});
