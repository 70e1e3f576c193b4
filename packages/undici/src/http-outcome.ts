import {
  httpStatusOf,
  isExecutionRejected,
  isHttpFailureStatus,
  type Outcome,
  type ShouldHandle,
} from '@faultline/core';
import {
  type HttpRequestInfo,
  IDEMPOTENT_METHODS,
  isNetworkError,
  isTimeoutError,
  requestOf,
} from '@faultline/retry';

/**
 * How the standard pipeline reads an HTTP outcome. A `Response` (from `fetch`) or an interceptor
 * response both carry `status`; errors carry a Node or undici `code`, or a `status`.
 */

/** What the interceptor knows of a request: retry's view, and whether its body can be resent. */
export interface InterceptedRequestInfo extends HttpRequestInfo {
  /** `false` for a streamed body (or when an outer retry layer owns retrying). */
  readonly replayable: boolean;
}

// Outcome objects the interceptor produced → the request they answer. Kept beside retry's own
// map (which `fetchTask` fills) so that both paths reach the same classification.
const interceptedRequests = new WeakMap<object, InterceptedRequestInfo>();

/** Records which request an interceptor outcome (a response or an error object) answers. */
export function recordRequest(outcome: unknown, info: InterceptedRequestInfo): void {
  if (outcome !== null && typeof outcome === 'object') interceptedRequests.set(outcome, info);
}

/** The request an outcome answers, when the pipeline could see it. */
export function requestFor(outcome: unknown): HttpRequestInfo | InterceptedRequestInfo | undefined {
  if (outcome === null || typeof outcome !== 'object') return undefined;
  return requestOf(outcome) ?? interceptedRequests.get(outcome);
}

/**
 * Whether an HTTP status says "the dependency is unwell, try again later": 408, 429 and every
 * 5xx (core's `isHttpFailureStatus`, the set of Microsoft.Extensions.Http.Resilience's
 * `HttpClientResiliencePredicates.IsTransient`).
 */
export const isTransientStatus: (status: number) => boolean = isHttpFailureStatus;

/**
 * Whether an outcome is a transient HTTP failure, whatever the method: a transient status (as a
 * result or on an error), a connection-level error, or a timeout. Never the caller's abort (the
 * classifier filters that), and never another policy's rejection (an open circuit says "not now").
 */
export function isTransientHttpOutcome(outcome: Outcome<unknown>): boolean {
  if (outcome.ok) {
    const status = httpStatusOf(outcome.value);
    return status !== undefined && isTransientStatus(status);
  }
  const error = outcome.error;
  if (isTimeoutError(error)) return true;
  if (isExecutionRejected(error)) return false;
  if (isNetworkError(error)) return true;
  const status = httpStatusOf(error);
  return status !== undefined && isTransientStatus(status);
}

/** The circuit breaker's rule in the standard pipeline: any transient HTTP failure. */
export const handleTransientHttp: ShouldHandle = (outcome) => isTransientHttpOutcome(outcome);

/** Which requests the standard pipeline may send again. */
export type RetryMethods = 'idempotent' | 'all' | readonly string[];

/**
 * The retry's rule: a transient HTTP failure of a request that may be sent again, i.e. an
 * idempotent method (RFC 9110 §9.2.2), a request with an `Idempotency-Key` header, or any method
 * when `methods` is `'all'`. A request the pipeline cannot see (a plain `fetch` inside `execute`)
 * is never retried: retrying a POST it cannot see could charge a card twice.
 */
export function handleRetryableHttp(
  methods: RetryMethods,
  onUnknownRequest: () => void = () => {},
): ShouldHandle {
  const allowed =
    methods === 'all'
      ? undefined
      : new Set(
          methods === 'idempotent' ? IDEMPOTENT_METHODS : methods.map((m) => m.toUpperCase()),
        );
  return (outcome) => {
    if (!isTransientHttpOutcome(outcome)) return false;
    const request = requestFor(outcome.ok ? outcome.value : outcome.error);
    if (request === undefined) {
      // Silence here would look like protection: say (once) why nothing was retried.
      if (allowed !== undefined) onUnknownRequest();
      return allowed === undefined;
    }
    if ((request as Partial<InterceptedRequestInfo>).replayable === false) return false;
    return allowed === undefined || request.idempotencyKey || allowed.has(request.method);
  };
}
