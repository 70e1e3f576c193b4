import {
  type Context,
  checkOptions,
  formatValue,
  httpStatusOf,
  isExecutionRejected,
  type Outcome,
  RETRYABLE_HTTP_STATUSES,
  type ShouldHandle,
  type Task,
} from '@faultline/core';
import { isTimeoutError } from './should-handle.js';

/** What {@link retryableHttp} needs to know about a request. */
export interface HttpRequestInfo {
  /** Upper-case method; fetch's default is GET. */
  readonly method: string;
  /** Whether the request carries an `Idempotency-Key` header. */
  readonly idempotencyKey: boolean;
}

// Outcome object (Response or error) → the request that produced it. Keys are fresh per call, so
// nothing is mutated and nothing outlives the outcome.
const requests = new WeakMap<object, HttpRequestInfo>();

/**
 * `fetch`'s shape (what {@link fetchTask} calls).
 * @inline
 */
type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

function infoOf(input: RequestInfo | URL, init: RequestInit | undefined): HttpRequestInfo {
  const request = typeof Request === 'function' && input instanceof Request ? input : undefined;
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  let key = false;
  if (init?.headers !== undefined) key = new Headers(init.headers).has('idempotency-key');
  else if (request !== undefined) key = request.headers.has('idempotency-key');
  return { method, idempotencyKey: key };
}

/**
 * A task that calls `fetch(input, init)` with the attempt's signal and lets
 * {@link retryableHttp} see the request's method and `Idempotency-Key`:
 * `policy.execute(fetchTask(url, { method: 'PUT', body }))`. A fetch `Response` does not say
 * which method produced it, so this is how the method reaches the retry decision. `init` may be
 * a function of the attempt's context, for what changes per attempt:
 * `fetchTask(url, (ctx) => ({ headers: deadlineToHeaders(ctx.deadline) }))`.
 */
export function fetchTask(
  input: RequestInfo | URL,
  init?: RequestInit | ((ctx: Context) => RequestInit),
  fetchImpl: FetchLike = (i, o) => fetch(i, o),
): Task<Response> {
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(
      `fetchTask: option "fetchImpl" must be a function like fetch, received ${formatValue(fetchImpl)}`,
    );
  }
  if (
    init !== undefined &&
    typeof init !== 'function' &&
    (init === null || typeof init !== 'object')
  ) {
    throw new TypeError(
      `fetchTask: option "init" must be a RequestInit object or a function (ctx) => RequestInit, received ${formatValue(init)}`,
    );
  }
  const fixed = typeof init === 'function' ? undefined : infoOf(input, init);
  const request = typeof Request === 'function' && input instanceof Request ? input : undefined;
  return async (ctx: Context) => {
    let info = fixed;
    try {
      const attemptInit = typeof init === 'function' ? init(ctx) : init;
      info ??= infoOf(input, attemptInit);
      // A Request's body can be read once: each attempt sends a clone, the original stays unused.
      // (A ReadableStream body in `init` cannot be replayed at all: use a string, Blob or buffer.)
      const target = request === undefined ? input : request.clone();
      const response = await fetchImpl(target, { ...attemptInit, signal: ctx.signal });
      requests.set(response, info);
      return response;
    } catch (error) {
      if (info !== undefined && error !== null && typeof error === 'object') {
        requests.set(error, info);
      }
      throw error;
    }
  };
}

/**
 * The request a `Response` or error came from, if known: recorded by {@link fetchTask}, or
 * carried by the outcome itself, as HTTP clients attach it: axios (`config`), Node's
 * `IncomingMessage` (`req`, the `ClientRequest`), ky (`request`, a fetch `Request`) and got
 * (`options`), on the response or on the error (and on an error's `response`).
 */
export function requestOf(value: unknown): HttpRequestInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const recorded = requests.get(value);
  if (recorded !== undefined) return recorded;
  const carried = carriedRequest(value);
  if (carried !== undefined) return carried;
  const response = (value as { response?: unknown }).response;
  return response !== null && typeof response === 'object' ? carriedRequest(response) : undefined;
}

// Where HTTP clients keep the request on a response or an error (see requestOf).
const REQUEST_FIELDS = ['config', 'req', 'request', 'options'] as const;

function carriedRequest(value: object): HttpRequestInfo | undefined {
  for (const field of REQUEST_FIELDS) {
    const request = (value as Record<string, unknown>)[field];
    if (request === null || typeof request !== 'object') continue;
    const method = (request as { method?: unknown }).method;
    if (typeof method !== 'string' || method === '') continue;
    return { method: method.toUpperCase(), idempotencyKey: hasIdempotencyKey(request) };
  }
  return undefined;
}

function hasIdempotencyKey(request: object): boolean {
  const getHeader = (request as { getHeader?: unknown }).getHeader;
  if (typeof getHeader === 'function') {
    return getHeader.call(request, 'idempotency-key') !== undefined; // node:http ClientRequest
  }
  const headers = (request as { headers?: unknown }).headers;
  if (headers === null || typeof headers !== 'object') return false;
  if (typeof Headers === 'function' && headers instanceof Headers) {
    return headers.has('idempotency-key');
  }
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const found: unknown = get.call(headers, 'idempotency-key'); // AxiosHeaders
    if (found !== undefined && found !== null) return true;
  }
  return Object.keys(headers).some((name) => name.toLowerCase() === 'idempotency-key');
}

/** RFC 9110 §9.2.2 idempotent methods (TRACE left out: nobody retries it on purpose). */
export const IDEMPOTENT_METHODS: readonly string[] = Object.freeze([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
]);

/**
 * Statuses worth retrying: core's `RETRYABLE_HTTP_STATUSES` (408, 425, 429, 500, 502, 503, 504),
 * the one list retry and idempotency's client share.
 */
export const RETRYABLE_STATUSES: readonly number[] = RETRYABLE_HTTP_STATUSES;

// Connection-level failures: Node's errno codes and undici's error codes, as found on the error or
// (for fetch's `TypeError: fetch failed`) on its `cause`.
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

// What browsers and runtimes say when fetch fails below HTTP (as `is-network-error` lists them).
const NETWORK_MESSAGES = new Set([
  'fetch failed', // undici, Node
  'Failed to fetch', // Chromium
  'NetworkError when attempting to fetch resource.', // Firefox
  'Load failed', // Safari
  'The Internet connection appears to be offline.', // Safari
  'Network request failed', // React Native, cross-fetch
  'terminated', // undici, body interrupted
]);

/**
 * Whether `error` is a connection-level failure (reset, refused, DNS try-again, socket closed,
 * fetch's network `TypeError`), for which a retry of an idempotent request is safe.
 */
export function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  // A recognised code anywhere in the cause chain decides; fetch wraps the socket error in cause.
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return (
    error instanceof TypeError &&
    NETWORK_MESSAGES.has(error.message) &&
    // `fetch failed` caused by, say, ENOTFOUND or an invalid URL will not heal by retrying.
    !hasUnrecognisedCode((error as { cause?: unknown }).cause)
  );
}

function hasUnrecognisedCode(cause: unknown): boolean {
  if (cause === null || typeof cause !== 'object') return false;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && !NETWORK_CODES.has(code);
}

/** Options for {@link retryableHttp}. */
export interface RetryableHttpOptions {
  /** Methods that may be retried (case-insensitive). Default GET, HEAD, OPTIONS, PUT, DELETE. */
  readonly methods?: readonly string[];
  /** Response statuses (and error `status`/`response.status`) to retry. Default 408, 425, 429, 500, 502, 503, 504. */
  readonly statuses?: readonly number[];
  /**
   * Whether to retry a call whose request this cannot see (not made through {@link fetchTask},
   * and not carrying its request as axios, node:http, ky and got outcomes do). Default `false`:
   * retrying a POST you cannot see could charge a card twice; the first such failure that is
   * not retried is reported once with `console.warn`.
   */
  readonly assumeIdempotent?: boolean;
}

/**
 * A `ShouldHandle` for fetch-style calls: handles network errors, timeouts and the listed statuses
 * (as a `Response` result or an error with `status` / `response.status`), but only for
 * idempotent methods or requests carrying an `Idempotency-Key` header (RFC 9110 §9.2.2). Never
 * handles other `ExecutionRejectedError`s (an open circuit) or the caller's abort.
 */
export function retryableHttp(options?: RetryableHttpOptions): ShouldHandle {
  const owner = 'retryableHttp';
  const opts = checkOptions<RetryableHttpOptions>(owner, options);
  const methods = new Set(checkList(owner, 'methods', opts.methods, IDEMPOTENT_METHODS, 'string'));
  const statuses = new Set(
    checkList(owner, 'statuses', opts.statuses, RETRYABLE_STATUSES, 'number'),
  );
  const assume = opts.assumeIdempotent ?? false;
  if (typeof assume !== 'boolean') {
    throw new TypeError(
      `${owner}: option "assumeIdempotent" must be a boolean, received ${formatValue(assume)}`,
    );
  }
  let warned = false;
  // Only asked about a transient failure, i.e. one that would be retried if the request may be
  // sent again.
  const replayable = (source: unknown, what: string): boolean => {
    const info = requestOf(source);
    if (info !== undefined) return info.idempotencyKey || methods.has(info.method);
    if (!assume && !warned) {
      // Not retrying is the safe answer (a POST sent twice can charge a card twice), but a
      // silent one made the documented `execute(({ signal }) => fetch(url, { signal }))` retry
      // nothing at all. Say so once.
      warned = true;
      console.warn(
        `retryableHttp: ${what} was not retried because its request method is unknown (a fetch ` +
          'Response does not carry it). Call through fetchTask(url, init) so that the method is ' +
          'seen, or use retryableHttp({ assumeIdempotent: true }) if every request through this ' +
          'policy is idempotent. (Shown once per retryableHttp().)',
      );
    }
    return assume;
  };
  return (outcome: Outcome<unknown>): boolean => {
    if (outcome.ok) {
      const status = httpStatusOf(outcome.value);
      if (status === undefined || !statuses.has(status)) return false;
      return replayable(outcome.value, `a ${status} response`);
    }
    const error = outcome.error;
    if (isExecutionRejected(error) && !isTimeoutError(error)) return false;
    const status = httpStatusOf(error);
    const transient =
      isNetworkError(error) ||
      isTimeoutError(error) ||
      (status !== undefined && statuses.has(status));
    return (
      transient &&
      replayable(error, status === undefined ? describeError(error) : `a ${status} error`)
    );
  };
}

function describeError(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null;
  return typeof e?.name === 'string' && typeof e.message === 'string'
    ? `an error (${e.name}: ${e.message})`
    : 'an error';
}

function checkList<K extends 'string' | 'number'>(
  owner: string,
  option: string,
  value: unknown,
  fallback: readonly (K extends 'string' ? string : number)[],
  kind: K,
): Array<K extends 'string' ? string : number> {
  type Item = K extends 'string' ? string : number;
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.some((item) => typeof item !== kind)) {
    throw new TypeError(
      `${owner}: option "${option}" must be an array of ${kind}s, received ${formatValue(value)}`,
    );
  }
  if (kind === 'number') {
    for (const item of value as number[]) {
      if (!Number.isInteger(item) || item < 100 || item > 599) {
        throw new RangeError(
          `${owner}: option "${option}" must contain HTTP status codes (integers in [100, 599]), received ${formatValue(value)}`,
        );
      }
    }
    return value as Item[];
  }
  for (const item of value as string[]) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(item)) {
      throw new RangeError(
        `${owner}: option "${option}" must contain HTTP method tokens (RFC 9110 §9.1), received ${formatValue(value)}`,
      );
    }
  }
  return (value as string[]).map((method) => method.toUpperCase()) as Item[];
}
