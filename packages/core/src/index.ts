export type { Backoff } from './backoff.js';
export {
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
  handleAll,
  handleErrors,
  handleNone,
  handleResults,
  type Outcome,
  or,
  type ShouldHandle,
} from './outcome.js';
export {
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
export {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  formatValue,
  type NumberRange,
  optionalFunction,
  optionalNumber,
} from './validate.js';
