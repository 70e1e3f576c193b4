import type { ShouldHandle } from './outcome.js';

/**
 * The HTTP status an outcome carries, if any: a fetch `Response`'s `status`, the `statusCode` of
 * Node's `IncomingMessage` and undici's `request()` result, or an HTTP client error's
 * `response.status` (axios, ky, got). Non-integer or out-of-range values are not statuses.
 */
export function httpStatusOf(value: unknown): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as { status?: unknown; statusCode?: unknown; response?: unknown };
  let status = v.status ?? v.statusCode;
  if (status === undefined && v.response !== null && typeof v.response === 'object') {
    const response = v.response as { status?: unknown; statusCode?: unknown };
    status = response.status ?? response.statusCode;
  }
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599
    ? status
    : undefined;
}

/**
 * Whether a status says the server failed or refused the work for now: any 5xx, 408 (Request
 * Timeout) or 429 (Too Many Requests). This is the transient set of Polly's
 * `HandleTransientHttpError` and Microsoft.Extensions.Http.Resilience's
 * `HttpClientResiliencePredicates`.
 */
export function isHttpFailureStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * A `ShouldHandle` for calls over HTTP, for policies that judge the *server* (a circuit breaker,
 * a fallback; an adaptive timeout, which learns from nothing it handles): a result with an HTTP
 * failure status ({@link isHttpFailureStatus}), and every error except one that carries another
 * HTTP status (a client that throws on 404 has heard from a healthy server). Network errors and
 * timeouts carry no status, so they are handled. Which requests may be *retried* depends on the
 * method as well: use `retryableHttp()` from `@faultline/retry` for that.
 *
 * ```ts
 * circuitBreaker({ trip: consecutiveFailures(5), shouldHandle: handleHttpFailures });
 * ```
 */
export const handleHttpFailures: ShouldHandle = (outcome) => {
  const status = httpStatusOf(outcome.ok ? outcome.value : outcome.error);
  if (status !== undefined) return isHttpFailureStatus(status);
  return !outcome.ok;
};
