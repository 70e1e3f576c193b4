import type { SimulateOptions } from './engine.js';
import type { ScenarioDefinition, ScenarioReportBase } from './scenarios/definition.js';
import { type ScenarioName, type ScenarioReport, scenarios } from './scenarios/index.js';
import { runPlan } from './scenarios/options.js';

/** Options for {@link runScenario}. */
export interface RunScenarioOptions {
  readonly seed?: number;
  /** Runs per configuration; default: the scenario's own. */
  readonly runs?: number;
  readonly simulate?: SimulateOptions;
}

/** Runs one built-in scenario (or any definition) in this thread (browser-safe); its report. */
export function runScenario(
  name: ScenarioName,
  options?: RunScenarioOptions,
): Promise<ScenarioReport>;
export function runScenario<R extends ScenarioReportBase>(
  definition: ScenarioDefinition<R>,
  options?: RunScenarioOptions,
): Promise<R>;
export function runScenario(
  scenario: ScenarioName | ScenarioDefinition,
  options: RunScenarioOptions = {},
): Promise<ScenarioReportBase> {
  const definition = typeof scenario === 'string' ? scenarios[scenario] : scenario;
  const plan = definition.plan({
    seed: options.seed ?? 1,
    runs: options.runs ?? definition.defaultRuns,
  });
  return runPlan(plan, options.simulate);
}
