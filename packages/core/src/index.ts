// The option validators: one implementation, in @faultline/clock (which cannot import core).
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
} from '@faultline/clock';
export type { Backoff } from './backoff.js';
export {
  type BulkheadOptions,
  BulkheadPolicy,
  type BulkheadRejectEvent,
  BulkheadRejectedError,
  type BulkheadRejectReason,
  bulkhead,
} from './bulkhead.js';
export {
  adoptContext,
  CancellableContext,
  type Context,
  contextFor,
  ExecutionContext,
  RootContext,
  rootContext,
} from './context.js';
export {
  ExecutionRejectedError,
  type ExecutionRejectedErrorOptions,
  isExecutionRejected,
} from './errors.js';
export { EventChannel, type Listener } from './events.js';
export {
  type FallbackEvent,
  type FallbackFunction,
  type FallbackOptions,
  FallbackPolicy,
  fallback,
} from './fallback.js';
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
  executeInContext,
  executeWithin,
  invoke,
  isContextual,
  noop,
  Pipeline,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';
export { type Random, seededRandom } from './random.js';
