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
 * The statuses that say "the same request may succeed if sent again", for retries and
 * idempotent clients: 408 Request Timeout, 425 Too Early (RFC 8470 §5.2: the server refused
 * early data without processing it, and the client may retry), 429 Too Many Requests, and the
 * transient 5xx: 500, 502, 503, 504 (RFC 9110 §15.6; not 501 or 505, which will not change).
 * One list for retry's `retryableHttp` and idempotency's client.
 */
export const RETRYABLE_HTTP_STATUSES: readonly number[] = Object.freeze([
  408, 425, 429, 500, 502, 503, 504,
]);

/** Whether `status` is one of {@link RETRYABLE_HTTP_STATUSES}. */
export function isRetryableHttpStatus(status: number): boolean {
  return RETRYABLE_HTTP_STATUSES.includes(status);
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
