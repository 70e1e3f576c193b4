import {
  checkOptions,
  checkString,
  formatValue,
  isRetryableHttpStatus,
  type Policy,
} from '@faultline/core';
import { v7 } from 'uuid';
import { RetryableStatusError } from './errors.js';
import { HTTP_TOKEN } from './headers.js';

/** `fetch`'s shape. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** Options for {@link idempotentFetch}. */
export interface IdempotentFetchOptions {
  /**
   * Runs each logical call, retrying as it sees fit: typically `retry({ maxAttempts, backoff,
   * retryAfter: httpRetryAfter })` from `@faultline/retry`. Every attempt of one call carries the
   * same key. Without a policy each call is made once (still with a key).
   */
  readonly policy?: Policy;
  /** The key header. Default `'Idempotency-Key'`. */
  readonly header?: string;
  /** Methods that get a key. Default `['POST', 'PATCH']` (PUT and DELETE are idempotent already). */
  readonly methods?: readonly string[];
}

/**
 * A new idempotency key: a UUID v7 (RFC 9562 §5.7), time-ordered, so keys created together sit
 * together in a B-tree index (good locality for the PostgreSQL store), with 74 random bits.
 */
export function idempotencyKey(): string {
  return v7();
}

/**
 * Whether a response may be retried with the same key: the transient statuses (core's
 * `RETRYABLE_HTTP_STATUSES`, the list retry's `retryableHttp` uses), and 409 when the server says
 * when to come back (`Retry-After`: the first request is still in progress). Never 400 or 422:
 * the request itself is wrong, and repeating it cannot help.
 */
export function isRetryableStatus(response: Response): boolean {
  if (response.status === 409) return response.headers.has('retry-after');
  return isRetryableHttpStatus(response.status);
}

/**
 * Wraps `fetch` so that each logical call with an unsafe method (POST, PATCH) gets one
 * `Idempotency-Key` (a fresh {@link idempotencyKey}, or the one the caller set) that every
 * retry by `policy` reuses. After a timeout the client cannot know whether the server acted; a
 * retry with the same key is the only retry the server can recognise and answer from its record
 * instead of acting twice.
 *
 * Inside the policy, a retryable status ({@link isRetryableStatus}) is thrown as a
 * {@link RetryableStatusError} so any retry policy retries it; when the policy gives up the last
 * response is returned, as `fetch` would. Request bodies must be replayable (string, bytes,
 * `FormData`, `URLSearchParams`, or a `Request`, which is cloned per attempt).
 */
export function idempotentFetch(fetchImpl: FetchLike, options?: IdempotentFetchOptions): FetchLike {
  const owner = 'idempotentFetch';
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(`${owner}: fetch must be a function, received ${formatValue(fetchImpl)}`);
  }
  const opts = checkOptions<IdempotentFetchOptions>(owner, options);
  const header =
    opts.header === undefined ? 'Idempotency-Key' : checkString(owner, 'header', opts.header);
  if (!HTTP_TOKEN.test(header)) {
    throw new RangeError(
      `${owner}: option "header" must be a header name (an RFC 9110 token), received ${formatValue(header)}`,
    );
  }
  let methods = ['POST', 'PATCH'];
  if (opts.methods !== undefined) {
    if (!Array.isArray(opts.methods) || opts.methods.some((m) => typeof m !== 'string')) {
      throw new TypeError(
        `${owner}: option "methods" must be an array of HTTP method names, received ${formatValue(opts.methods)}`,
      );
    }
    if (opts.methods.length === 0 || opts.methods.some((m) => !HTTP_TOKEN.test(m))) {
      throw new RangeError(
        `${owner}: option "methods" must be a non-empty list of HTTP method names, received ${formatValue(opts.methods)}`,
      );
    }
    methods = opts.methods.map((m) => m.toUpperCase());
  }
  const policy = opts.policy;
  if (
    policy !== undefined &&
    (policy === null || typeof policy !== 'object' || typeof policy.execute !== 'function')
  ) {
    throw new TypeError(
      `${owner}: option "policy" must be a Policy (an object with execute()), received ${formatValue(policy)}`,
    );
  }
  const covered = new Set(methods);

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = typeof Request === 'function' && input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers ?? request?.headers);
    if (covered.has(method) && !headers.has(header)) headers.set(header, idempotencyKey());
    if (policy === undefined) {
      return fetchImpl(request === undefined ? input : request.clone(), { ...init, headers });
    }
    let previous: Response | undefined;
    const attempt = async (signal: AbortSignal | undefined): Promise<Response> => {
      // The discarded response of the previous attempt would hold its connection open.
      if (previous !== undefined && previous.bodyUsed === false) {
        previous.body?.cancel().catch(() => {});
      }
      const attemptInit: RequestInit = { ...init, headers };
      if (signal !== undefined) attemptInit.signal = signal;
      const response = await fetchImpl(
        request === undefined ? input : request.clone(),
        attemptInit,
      );
      if (isRetryableStatus(response)) {
        previous = response;
        throw new RetryableStatusError(response);
      }
      return response;
    };
    try {
      return await policy.execute((ctx) => attempt(ctx.signal), init?.signal ?? undefined);
    } catch (error) {
      if (error instanceof RetryableStatusError) return error.response;
      throw error;
    }
  };
}
