/**
 * faultline for HTTP: the standard resilience pipeline (`standardHttpPipeline`), an undici
 * dispatcher interceptor (`resilience`) and a policy registry with reload (`policyRegistry`).
 *
 * @packageDocumentation
 */
export {
  handleRetryableHttp,
  handleTransientHttp,
  type InterceptedRequestInfo,
  isTransientHttpOutcome,
  isTransientStatus,
  type RetryMethods,
} from './http-outcome.js';
export {
  type DispatchControllerLike,
  type DispatchHandlerLike,
  type DispatchOptionsLike,
  type IncomingHeaders,
  type InterceptedResponse,
  type ResilienceInterceptorOptions,
  resilience,
} from './interceptor.js';
export {
  POLICY_REGISTRY_DEFAULTS,
  type PolicyFactory,
  PolicyRegistry,
  type PolicyRegistryOptions,
  type PolicyRegistryReloadEvent,
  type PolicyRegistryReloadFailedEvent,
  type PolicyRegistryReloadResult,
  policyRegistry,
  RegisteredPolicy,
} from './policy-registry.js';
export {
  type FetchFunction,
  StandardHttpPipeline,
  standardHttpPipeline,
} from './standard-http-pipeline.js';
export {
  type ResolvedStandardHttpOptions,
  STANDARD_HTTP_DEFAULTS,
  type StandardCircuitBreakerOptions,
  type StandardHttpPipelineOptions,
  type StandardRateLimiterOptions,
  type StandardRetryOptions,
} from './standard-http-pipeline-options.js';
