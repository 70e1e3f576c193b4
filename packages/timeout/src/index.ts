export {
  type AdaptiveEstimator,
  AdaptiveTimeout,
  type AdaptiveTimeoutChange,
  type AdaptiveTimeoutOptions,
  adaptiveTimeout,
} from './adaptive-timeout.js';
export {
  type AmbientDeadlineProvider,
  ambientDeadline,
  registerAmbientDeadlineProvider,
} from './ambient.js';
export {
  type DeadlineFromHeadersOptions,
  type DeadlineHeaderOptions,
  deadlineFromHeaders,
  deadlineToHeaders,
  GRPC_TIMEOUT_HEADER,
  type HeaderSource,
  TIMEOUT_MS_HEADER,
} from './headers.js';
export { QuantileEstimator, type QuantileEstimatorOptions } from './quantile-estimator.js';
export { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';
export {
  type TimeoutDuration,
  type TimeoutEvent,
  type TimeoutOptions,
  TimeoutPolicy,
  type TimeoutStrategy,
  timeout,
} from './timeout.js';
export { TimeoutError, type TimeoutSource } from './timeout-error.js';
