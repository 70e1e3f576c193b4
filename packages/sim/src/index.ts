export {
  bimodal,
  checkDistribution,
  constant,
  type Distribution,
  empirical,
  exponential,
  lognormal,
  normal,
  standardNormal,
  uniform,
} from './distribution.js';
export { SimClock, type SimulateOptions, type SimulationRun, simulate } from './engine.js';
export {
  type ClientRequest,
  type ClosedLoopOptions,
  closedLoop,
  type OpenLoopOptions,
  openLoop,
} from './load.js';
export {
  type Bucket,
  Metrics,
  type MetricsOptions,
  percentile,
  type RunMetrics,
  type Totals,
  timeToRecover,
} from './metrics.js';
export { Network, type NetworkOptions, type Respond } from './network.js';
export { type ReportOptions, renderReport } from './report/html.js';
export { barChart, lineChart } from './report/svg.js';
export { type RunScenarioOptions, runScenario } from './run.js';
export {
  type ContentionOptions,
  type ContentionReport,
  type ContentionResult,
  type ContentionStrategy,
  contentionModel,
  contentionRun,
  contentionStrategies,
  planContention,
  runContention,
} from './scenarios/contention.js';
export {
  type GrayFailureReport,
  planGrayFailure,
  runGrayFailure,
} from './scenarios/gray-failure.js';
export {
  type ScenarioDefinition,
  type ScenarioName,
  type ScenarioReport,
  scenarioNames,
  scenarios,
  type Table,
} from './scenarios/index.js';
export {
  type LatencyShiftReport,
  planLatencyShift,
  runLatencyShift,
} from './scenarios/latency-shift.js';
export { runPlan, type ScenarioOptions, type ScenarioPlan } from './scenarios/options.js';
export {
  type PartialFailureReport,
  planPartialFailure,
  runPartialFailure,
} from './scenarios/partial-failure.js';
export {
  planRetryStorm,
  type RetryStormReport,
  retryStormModel,
  retryStormVariants,
  runRetryStorm,
  type StormVariant,
} from './scenarios/retry-storm.js';
export {
  type LoadModel,
  type PolicyEnvironment,
  runSeed,
  type ServiceRunOptions,
  type ServiceRunResult,
  serviceRun,
} from './scenarios/service.js';
export { type Incident, Server, ServerError, type ServerOptions } from './server.js';
export { formatTable, tableOf } from './table.js';
