/**
 * The built-in scenarios, in the order `faultline-sim all` runs them. To add one: write
 * `scenarios/<name>.ts` exporting `defineScenario({...})` (its plan, table, charts and measured
 * conclusions), then add it to this list (import it above). The CLI, `--json`, the worker threads
 * and the HTML report pick it up from here.
 */
import { contentionScenario } from './contention.js';
import { grayFailureScenario } from './gray-failure.js';
import { latencyShiftScenario } from './latency-shift.js';
import { leasePauseScenario } from './lease-pause.js';
import { metastableScenario } from './metastable.js';
import { overloadScenario } from './overload.js';
import { partialFailureScenario } from './partial-failure.js';
import { retryStormScenario } from './retry-storm.js';
import { tailLatencyScenario } from './tail-latency.js';

export const builtInScenarios = [
  contentionScenario,
  retryStormScenario,
  metastableScenario,
  overloadScenario,
  latencyShiftScenario,
  grayFailureScenario,
  partialFailureScenario,
  tailLatencyScenario,
  leasePauseScenario,
] as const;
