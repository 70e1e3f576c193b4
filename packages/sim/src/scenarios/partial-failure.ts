import { type Policy, pipeline } from '@faultline/core';
import { constant, retry, tokenBucketBudget } from '@faultline/retry';
import { constant as constantDistribution } from '../distribution.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import {
  mean,
  type PolicyEnvironment,
  round,
  runSeed,
  type ServiceRunResult,
  serviceRun,
} from './service.js';

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
  const specs = grid.flatMap(({ x, i, kind }) =>
    Array.from({ length: runs }, (_, run) =>
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
    ),
  );
  return {
    specs,
    aggregate: (outcomes) => {
      const results = grid.map(({ x, kind }, g): PartialFailureResult => {
        const mine = outcomes.slice(g * runs, (g + 1) * runs).map((o) => o.metrics);
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
      void mean;
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
