/**
 * What the HTTP middleware says, framework-free (browser-safe, shared by the node:http, Express,
 * Fastify and Hono adapters): the IETF `RateLimit-Policy` / `RateLimit` fields
 * (draft-ietf-httpapi-ratelimit-headers-09 §3–4), `Retry-After` (RFC 9110 §10.2.3) and RFC 9457
 * problem details with the draft's problem types (§5).
 */
import type { ConcurrencyLimitPolicy } from './concurrency-limit.js';
import type { RateLimitDecision } from './rate-limit-algorithm.js';
import type { RateLimiterPolicy } from './rate-limiter.js';

/** An answer the middleware sends instead of calling the handler. */
export interface LimitResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `application/problem+json` text. */
  readonly body: string;
}

/** Whole seconds, rounded up (a client must not come back early), at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** A Structured Field string (RFC 8941 §3.3.3): `\\` and `"` escaped, other characters kept. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * The `RateLimit-Policy` field of a limiter: `"<name>";q=<limit>;w=<window s>`. `q` is the
 * permits granted at once and `w` the time to grant them again from empty (for a token bucket
 * `burst / rate`, for GCRA the tolerance, for a sliding window the window).
 */
export function rateLimitPolicyField(limiter: RateLimiterPolicy): string {
  const algorithm = limiter.algorithm;
  return `${sfString(limiter.name)};q=${algorithm.limit};w=${seconds(algorithm.window)}`;
}

/**
 * The `RateLimit` field for a decision: `"<name>";r=<remaining>;t=<seconds>`. `t` is when more
 * quota is available: the time until the limit is full again for an admitted request, the
 * `Retry-After` for a refused one (so that `Retry-After` is never earlier than `t`, §6).
 */
export function rateLimitField(limiter: RateLimiterPolicy, decision: RateLimitDecision): string {
  const base = `${sfString(limiter.name)};r=${decision.remaining}`;
  if (decision.allowed) {
    return decision.resetAfter > 0
      ? `${base};t=${Math.ceil(decision.resetAfter / 1000)}`
      : `${base};t=0`;
  }
  return decision.retryAfter === Number.POSITIVE_INFINITY
    ? base
    : `${base};t=${seconds(decision.retryAfter)}`;
}

/** The fields every response of a rate-limited route carries. */
export function rateLimitHeaders(
  limiter: RateLimiterPolicy,
  decision: RateLimitDecision,
): Array<[string, string]> {
  return [
    ['RateLimit-Policy', rateLimitPolicyField(limiter)],
    ['RateLimit', rateLimitField(limiter, decision)],
  ];
}

/** The 429 for a refused request: problem details, `Retry-After` and the RateLimit fields. */
export function rateLimitedResponse(
  limiter: RateLimiterPolicy,
  decision: RateLimitDecision,
): LimitResponse {
  const never = decision.retryAfter === Number.POSITIVE_INFINITY;
  const headers: Array<[string, string]> = [
    ['Content-Type', 'application/problem+json'],
    ...rateLimitHeaders(limiter, decision),
  ];
  if (!never) headers.push(['Retry-After', String(seconds(decision.retryAfter))]);
  const body = {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    title: 'Request cannot be satisfied as assigned quota has been exceeded',
    status: 429,
    detail: never
      ? `The request needs more than the whole quota of ${decision.limit}.`
      : `Quota of ${decision.limit} exceeded; retry after ${seconds(decision.retryAfter)} s.`,
    'violated-policies': [limiter.name],
  };
  return { status: 429, headers, body: JSON.stringify(body) };
}

/** The 503 for a request shed by a concurrency limit: problem details and `Retry-After`. */
export function concurrencyLimitedResponse(
  limiter: ConcurrencyLimitPolicy,
  retryAfter: number,
): LimitResponse {
  const body = {
    type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
    title: 'Request cannot be satisfied due to temporary server capacity constraints',
    status: 503,
    detail: `Concurrency limit of ${limiter.limit} reached; retry after ${retryAfter} s.`,
    'violated-policies': [limiter.name],
  };
  return {
    status: 503,
    headers: [
      ['Content-Type', 'application/problem+json'],
      ['Retry-After', String(retryAfter)],
    ],
    body: JSON.stringify(body),
  };
}
