// The option validators: one implementation, in @faultline/clock/internal (the clock cannot import
// core); this is their public home.
export {
  type ClockMethod,
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  formatValue,
  type NumberRange,
  optionalClock,
  optionalFunction,
  optionalNumber,
} from '@faultline/clock/internal';
export type { Backoff } from './backoff.js';
export { BulkheadPolicy, bulkhead } from './bulkhead.js';
export { BulkheadRejectedError, type BulkheadRejectReason } from './bulkhead-errors.js';
export type { BulkheadRejectEvent } from './bulkhead-events.js';
export {
  BULKHEAD_DEFAULTS,
  type BulkheadOptions,
  type ResolvedBulkheadOptions,
  resolveBulkheadOptions,
} from './bulkhead-options.js';
export { OutcomeClassifier, type Verdict } from './classify.js';
export {
  adoptContext,
  CancellableContext,
  type Context,
  contextFor,
  ExecutionContext,
  LabelledContext,
  RootContext,
  rootContext,
} from './context.js';
export {
  ExecutionRejectedError,
  type ExecutionRejectedErrorOptions,
  isExecutionRejected,
} from './errors.js';
export { EventChannel, type Listener } from './events.js';
export { FallbackPolicy, fallback } from './fallback.js';
export type { FallbackEvent } from './fallback-events.js';
export {
  FALLBACK_DEFAULTS,
  type FallbackFunction,
  type FallbackOptions,
  type ResolvedFallbackOptions,
  resolveFallbackOptions,
} from './fallback-options.js';
export {
  handleHttpFailures,
  httpStatusOf,
  isHttpFailureStatus,
  isRetryableHttpStatus,
  RETRYABLE_HTTP_STATUSES,
} from './http-status.js';
export {
  type ErrorClass,
  type ErrorPredicate,
  handleAll,
  handleErrors,
  handleNone,
  handleResults,
  ignoresResults,
  type Outcome,
  or,
  type ShouldHandle,
} from './outcome.js';
export {
  describePolicy,
  type ExecuteOptions,
  executeInContext,
  executeWithin,
  invoke,
  isContextual,
  named,
  noop,
  Pipeline,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';
export { drawRandom, type Random, seededRandom } from './random.js';
export type { CallLabels } from './telemetry.js';
export {
  checkName,
  type ExecutionOutcome,
  identify,
  type PolicyIdentity,
  policyIdentity,
  publishAttempt,
  publishEvent,
  type TelemetryAttemptRecord,
  type TelemetryAttributes,
  type TelemetryEventName,
  type TelemetryEventRecord,
  type TelemetryExecutionRecord,
  type TelemetryListener,
  type TelemetryRecord,
  type TelemetrySeverity,
  type TelemetryStateSource,
  TelemetryStream,
  telemetry,
  telemetryEvents,
} from './telemetry.js';
