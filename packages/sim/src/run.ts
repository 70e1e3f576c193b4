import type { SimulateOptions } from './engine.js';
import { type ScenarioName, type ScenarioReport, scenarios } from './scenarios/index.js';
import { runPlan } from './scenarios/options.js';

/** Options for {@link runScenario}. */
export interface RunScenarioOptions {
  readonly seed?: number;
  /** Runs per configuration; default: the scenario's own. */
  readonly runs?: number;
  readonly simulate?: SimulateOptions;
}

/** Runs one scenario in this thread (browser-safe) and returns its report. */
export function runScenario(
  name: ScenarioName,
  options: RunScenarioOptions = {},
): Promise<ScenarioReport> {
  const definition = scenarios[name];
  const plan = definition.plan({
    seed: options.seed ?? 1,
    runs: options.runs ?? definition.defaultRuns,
  });
  return runPlan(plan, options.simulate);
}
