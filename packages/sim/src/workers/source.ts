import { loadScenarioFile } from '../file/load.js';
import { comparisonScenario } from '../scenarios/comparison.js';
import type { ScenarioDefinition } from '../scenarios/definition.js';
import { isScenarioName, scenarios } from '../scenarios/index.js';
import type { ScenarioSource } from './protocol.js';

/** The definition a source names (a file is loaded and checked again in each worker). */
export async function definitionFrom(source: ScenarioSource): Promise<ScenarioDefinition> {
  switch (source.kind) {
    case 'builtin':
      if (!isScenarioName(source.name)) throw new Error(`no built-in scenario "${source.name}"`);
      return scenarios[source.name];
    case 'file':
      return comparisonScenario(
        await loadScenarioFile(source.path),
      ) as unknown as ScenarioDefinition;
    case 'spec':
      return comparisonScenario(source.spec) as unknown as ScenarioDefinition;
  }
}
