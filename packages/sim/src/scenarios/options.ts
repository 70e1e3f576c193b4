import { checkOptions, optionalNumber } from '@faultline/core';
import { type SimulateOptions, type SimulationRun, simulate } from '../engine.js';

/** Options every scenario takes. */
export interface ScenarioOptions {
  /** The scenario's seed; every run derives its own from it. Default 1. */
  readonly seed?: number;
  /** Runs per configuration (results are means over them). Default: the scenario's. */
  readonly runs?: number;
  /** Engine options (concurrency, settle mode, progress). */
  readonly simulate?: SimulateOptions;
}

/**
 * A scenario split into independent runs and the step that turns their outcomes into a report,
 * so that runs can be simulated anywhere (this thread, worker threads) and merged in order.
 */
export interface ScenarioPlan<O, R> {
  readonly specs: readonly SimulationRun<O>[];
  /**
   * Engine options this scenario runs fastest with (a `concurrency` suited to its runs' working
   * set); the caller's options override them. Like every engine option, they never change the
   * results.
   */
  readonly simulate?: SimulateOptions;
  aggregate(outcomes: readonly O[]): R;
}

/** Simulates every run of `plan` here and aggregates. */
export async function runPlan<O, R>(
  plan: ScenarioPlan<O, R>,
  options?: SimulateOptions,
): Promise<R> {
  const merged = plan.simulate === undefined ? options : { ...plan.simulate, ...options };
  return plan.aggregate(await simulate(plan.specs, merged));
}

/** Validates a scenario's options; returns the seed and runs with their defaults applied. */
export function scenarioDefaults(
  owner: string,
  options: unknown,
  defaultRuns: number,
): { seed: number; runs: number } {
  const opts = checkOptions<ScenarioOptions>(owner, options);
  return {
    seed: optionalNumber(owner, 'seed', opts.seed, 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
    runs: optionalNumber(owner, 'runs', opts.runs, defaultRuns, { min: 1, integer: true }),
  };
}
