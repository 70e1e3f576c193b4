export {
  bimodal,
  checkDistribution,
  /** @deprecated Shares its name with `@faultline/retry`'s backoff: use `distributions.constant`. */
  constant,
  type Distribution,
  distributions,
  empirical,
  /** @deprecated Shares its name with `@faultline/retry`'s backoff: use `distributions.exponential`. */
  exponential,
  lognormal,
  normal,
  samplerOf,
  standardNormal,
  standardNormalSampler,
  uniform,
} from './distribution.js';
export {
  type SettleState,
  SimClock,
  type SimulateOptions,
  type SimulationRun,
  simulate,
} from './engine.js';
export { type JsonSchema, policySchema, scenarioSchema } from './file/schema.js';
export { ScenarioFileError, validate } from './file/validate.js';
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
  P999_MIN_SAMPLES,
  percentile,
  type RunMetrics,
  type Totals,
  timeToRecover,
} from './metrics.js';
export { Network, type NetworkOptions, type Respond } from './network.js';
export { type ReportOptions, type ReportSection, renderReport } from './report/html.js';
export { barChart, lineChart, smallMultiples } from './report/svg.js';
export { type RunScenarioOptions, runScenario } from './run.js';
export {
  type BackoffSpec,
  type BudgetSpec,
  type ComparisonReport,
  type ComparisonResult,
  type ComparisonSpec,
  comparisonScenario,
  type DistributionSpec,
  type Disturbance,
  defineComparison,
  distributionOf,
  type PolicyFactory,
  type PolicySpec,
  type PolicySteps,
  planComparison,
  policyOf,
  SpecError,
  type TimeoutSpec,
  type TrafficSpec,
} from './scenarios/comparison.js';
export {
  type ContentionOptions,
  type ContentionReport,
  type ContentionResult,
  type ContentionStrategy,
  contentionLabels,
  contentionModel,
  contentionRun,
  contentionScenario,
  contentionStrategies,
  planContention,
  runContention,
} from './scenarios/contention.js';
export {
  type GrayFailureReport,
  grayFailureLabels,
  grayFailureScenario,
  planGrayFailure,
  runGrayFailure,
} from './scenarios/gray-failure.js';
export {
  type BuiltInScenario,
  builtInScenarios,
  defineScenario,
  isScenarioName,
  type ScenarioDefinition,
  type ScenarioName,
  type ScenarioReport,
  type ScenarioReportBase,
  scenarioNames,
  scenarios,
  type Table,
} from './scenarios/index.js';
export {
  type LatencyShiftReport,
  latencyShiftScenario,
  planLatencyShift,
  runLatencyShift,
} from './scenarios/latency-shift.js';
export {
  type LeasePauseJson,
  type LeasePauseOptions,
  type LeasePauseReport,
  type LeasePauseResult,
  type LeasePauseRun,
  type LeasePauseVariant,
  leasePauseCharts,
  leasePauseConclusions,
  leasePauseJson,
  leasePauseModel,
  leasePauseScenario,
  leasePauseTable,
  leasePauseVariants,
  planLeasePause,
  runLeasePause,
} from './scenarios/lease-pause.js';
export {
  type MetastableJson,
  type MetastableResult,
  metastableJson,
  metastableModel,
  metastableScenario,
  metastableSpec,
} from './scenarios/metastable.js';
export { runPlan, type ScenarioOptions, type ScenarioPlan } from './scenarios/options.js';
export type { OverloadReport, OverloadResult } from './scenarios/overload.js';
export {
  type PartialFailureReport,
  partialFailureScenario,
  planPartialFailure,
  runPartialFailure,
} from './scenarios/partial-failure.js';
export {
  planRetryStorm,
  type RetryStormReport,
  retryStormModel,
  retryStormScenario,
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
export {
  planTailLatency,
  runTailLatency,
  type TailLatencyOptions,
  type TailLatencyPolicy,
  type TailLatencyReport,
  type TailLatencyResult,
  type TailLatencyRun,
  tailLatencyCharts,
  tailLatencyConclusions,
  tailLatencyModel,
  tailLatencyPolicies,
  tailLatencyTable,
} from './scenarios/tail-latency.js';
export { type Incident, Server, ServerError, type ServerOptions } from './server.js';
export { formatSection, formatTable, tableOf } from './table.js';
