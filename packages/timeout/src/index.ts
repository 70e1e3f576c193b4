export { AdaptiveTimeout, adaptiveTimeout } from './adaptive-timeout.js';
export type {
  AdaptiveTimeoutChange,
  AdaptiveTimeoutChangeEvent,
} from './adaptive-timeout-events.js';
export {
  ADAPTIVE_TIMEOUT_DEFAULTS,
  type AdaptiveEstimator,
  type AdaptiveTimeoutOptions,
  type ResolvedAdaptiveTimeoutOptions,
  resolveAdaptiveTimeoutOptions,
} from './adaptive-timeout-options.js';
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
export { TimeoutPolicy, timeout } from './timeout.js';
export { TimeoutError, type TimeoutSource } from './timeout-errors.js';
export type { TimeoutEvent } from './timeout-events.js';
export {
  type ResolvedTimeoutOptions,
  resolveTimeoutOptions,
  TIMEOUT_DEFAULTS,
  type TimeoutDuration,
  type TimeoutOptions,
  type TimeoutStrategy,
} from './timeout-options.js';
