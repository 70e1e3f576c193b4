import type { ScenarioDefinition, ScenarioReportBase } from './definition.js';
import { builtInScenarios } from './registry.js';

export {
  defineScenario,
  type ScenarioDefinition,
  type ScenarioReportBase,
  type Table,
} from './definition.js';
export { builtInScenarios } from './registry.js';

/** A built-in scenario's definition. */
export type BuiltInScenario = (typeof builtInScenarios)[number];

/** The name of a built-in scenario. */
export type ScenarioName = BuiltInScenario['name'];

/** Any built-in scenario's report. */
export type ScenarioReport = BuiltInScenario extends infer D
  ? D extends ScenarioDefinition<infer R, string>
    ? R
    : never
  : never;

/** The names of the built-in scenarios, in the order `faultline-sim all` runs them. */
export const scenarioNames: readonly ScenarioName[] = builtInScenarios.map((s) => s.name);

/** Every built-in scenario by name. */
export const scenarios: Readonly<Record<ScenarioName, ScenarioDefinition>> = Object.fromEntries(
  builtInScenarios.map((s) => [s.name, s as unknown as ScenarioDefinition]),
) as Record<ScenarioName, ScenarioDefinition>;

/** Whether `name` is a built-in scenario. */
export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(scenarios, name);
}

/** The definition that renders `report` (a built-in's), if any. */
export function definitionOf(report: ScenarioReportBase): ScenarioDefinition | undefined {
  return isScenarioName(report.scenario) ? scenarios[report.scenario] : undefined;
}
