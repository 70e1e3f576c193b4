/**
 * Hono adapters (Web-standard Request/Response): `app.use(honoRateLimit(limiter))`,
 * `app.use(honoConcurrencyLimit(limiter))`.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import {
  type ConcurrencyLimitMiddlewareOptions,
  concurrencyGate,
  type RateLimitMiddlewareOptions,
  rateGate,
  settlePermit,
} from './adapters/common.js';
import type { ConcurrencyLimitPolicy } from './concurrency-limit.js';
import { ConcurrencyLimitRejectedError } from './concurrency-limit-errors.js';
import type { ConcurrencyPermit } from './concurrency-limit-state.js';
import {
  concurrencyLimitedResponse,
  type LimitResponse,
  rateLimitedResponse,
  rateLimitHeaders,
} from './http-fields.js';
import type { RateLimiterPolicy } from './rate-limiter.js';

export type {
  ConcurrencyLimitMiddlewareOptions,
  RateLimitMiddlewareOptions,
} from './adapters/common.js';

function toResponse(response: LimitResponse): Response {
  return new Response(response.body, {
    status: response.status,
    headers: response.headers as Array<[string, string]>,
  });
}

/** The client address on @hono/node-server (`c.env.incoming`), `''` elsewhere. */
function remoteAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? '';
}

/** Sets headers on the route's response, copying it first if its headers are immutable. */
function setHeaders(c: Context, headers: ReadonlyArray<readonly [string, string]>): void {
  try {
    for (const [name, value] of headers) c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    for (const [name, value] of headers) c.res.headers.set(name, value);
  }
}

/**
 * Hono rate-limit middleware: the IETF `RateLimit-Policy` / `RateLimit` fields on every
 * response, a 429 problem+json with `Retry-After` for refused requests (`next()` is not called).
 * `key` defaults to the socket address on @hono/node-server and to one shared limit elsewhere:
 * set it (from the authenticated principal, or a header your proxy sets) on other runtimes.
 */
export function honoRateLimit(
  limiter: RateLimiterPolicy,
  options?: RateLimitMiddlewareOptions<Context>,
): MiddlewareHandler {
  const owner = 'honoRateLimit';
  const { limiter: rate, key, permits } = rateGate(owner, limiter, options, remoteAddress);
  return async (c, next) => {
    const decision = await rate.tryAcquire(key(c), permits(c));
    if (!decision.allowed) return toResponse(rateLimitedResponse(rate, decision));
    await next();
    setHeaders(c, rateLimitHeaders(rate, decision));
    return undefined;
  };
}

/**
 * Hono concurrency-limit middleware: sheds requests over the limit with a 503 problem+json and
 * `Retry-After`. A permit is held until the response body has been sent (or the client left:
 * the request's signal aborts), whatever the route does.
 */
export function honoConcurrencyLimit(
  limiter: ConcurrencyLimitPolicy,
  options?: ConcurrencyLimitMiddlewareOptions,
): MiddlewareHandler {
  const owner = 'honoConcurrencyLimit';
  const { limiter: concurrency, retryAfter } = concurrencyGate(owner, limiter, options);
  return async (c, next) => {
    const signal = c.req.raw.signal;
    let permit: ConcurrencyPermit;
    try {
      permit = await concurrency.acquire(concurrency.queue.size > 0 ? signal : undefined);
    } catch (error) {
      if (error instanceof ConcurrencyLimitRejectedError) {
        return toResponse(concurrencyLimitedResponse(concurrency, retryAfter));
      }
      throw error;
    }
    let settled = false;
    const settle = (finished: boolean, status: number): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      settlePermit(permit, finished, status);
    };
    const onAbort = (): void => settle(false, 0);
    if (signal.aborted) settle(false, 0);
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      await next();
    } catch (error) {
      settle(true, 500);
      throw error;
    }
    const response = c.res;
    const status = c.error === undefined ? response.status : 500;
    const source = response.body;
    if (source === null || settled) {
      settle(true, status);
      return undefined;
    }
    const reader = source.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const chunk = await reader.read();
          if (chunk.done) {
            controller.close();
            settle(true, status);
          } else {
            controller.enqueue(chunk.value);
          }
        } catch (error) {
          settle(true, 500);
          controller.error(error);
        }
      },
      async cancel(reason) {
        settle(false, 0); // the client went away mid-response
        await reader.cancel(reason);
      },
    });
    c.res = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    return undefined;
  };
}
