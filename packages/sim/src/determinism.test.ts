import { describe, expect, it } from 'vitest';
import { simulate } from './engine.js';
import { runScenario } from './run.js';
import { planContention } from './scenarios/contention.js';
import { planGrayFailure } from './scenarios/gray-failure.js';
import { planLatencyShift } from './scenarios/latency-shift.js';
import { planLeasePause } from './scenarios/lease-pause.js';
import type { ScenarioPlan } from './scenarios/options.js';
import { planOverload } from './scenarios/overload.js';
import { planPartialFailure } from './scenarios/partial-failure.js';
import { planRetryStorm } from './scenarios/retry-storm.js';
import { planTailLatency } from './scenarios/tail-latency.js';

// Small versions of every scenario (fewer runs, smaller fleets) keep this fast.
const plans: Record<string, (seed: number) => ScenarioPlan<unknown, unknown>> = {
  contention: (seed) => planContention({ seed, runs: 2, clients: [10, 50, 100] }),
  'retry-storm': (seed) => planRetryStorm({ seed, runs: 1, concurrency: 2 }),
  'latency-shift': (seed) => planLatencyShift({ seed, runs: 1 }),
  'gray-failure': (seed) => planGrayFailure({ seed, runs: 1 }),
  'partial-failure': (seed) => planPartialFailure({ seed, runs: 1, probabilities: [0.3, 0.9] }),
  overload: (seed) => planOverload({ seed, runs: 1, policies: ['gradient2-tuned'] }),
  'tail-latency': (seed) =>
    planTailLatency({ seed, runs: 1, requests: 300, policies: ['none', 'hedge-p95-budget'] }),
  'lease-pause': (seed) => planLeasePause({ seed, runs: 30 }),
};

const json = async (plan: ScenarioPlan<unknown, unknown>, concurrency?: number): Promise<string> =>
  JSON.stringify(
    plan.aggregate(await simulate(plan.specs, concurrency === undefined ? {} : { concurrency })),
    null,
    2,
  );

describe('determinism', () => {
  it.each(Object.keys(plans))(
    '%s: same seed gives byte-identical JSON (any concurrency); another seed differs',
    async (name) => {
      const plan = plans[name]!;
      const first = await json(plan(11));
      expect(await json(plan(11), 3)).toBe(first);
      expect(await json(plan(12))).not.toBe(first);
    },
    60_000,
  );

  it('runScenario with the same seed gives byte-identical JSON', async () => {
    const a = JSON.stringify(await runScenario('partial-failure', { seed: 5, runs: 1 }));
    const b = JSON.stringify(await runScenario('partial-failure', { seed: 5, runs: 1 }));
    expect(b).toBe(a);
  });
});
