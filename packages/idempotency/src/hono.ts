/**
 * Hono adapter (Web-standard Request/Response): `app.use(honoIdempotency(idempotency))`.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { checkIdempotency, checkMaxBodyBytes } from './adapters/common.js';
import { webIdempotency } from './adapters/web.js';
import type { Idempotency } from './server-types.js';

/** Options for {@link honoIdempotency}. */
export interface HonoIdempotencyOptions {
  /**
   * Largest request body the middleware reads to fingerprint it; a larger one is answered with
   * 413 `BODY_TOO_LARGE` (a `Content-Length` over the limit without reading a byte). Default
   * 1 MiB, as for the other adapters.
   */
  readonly maxBodyBytes?: number;
}

/**
 * Hono middleware for request dedup. The body is read once (bounded by `maxBodyBytes`) and
 * handed to Hono's body cache, so the route can still call `c.req.json()`; a replay or a problem
 * is returned without calling `next()`. The route's `Response` body is wrapped in a stream that
 * captures every chunk until the end, then completes; a handler error (`c.error`) or a 5xx
 * releases the key. A client that goes away mid-response: the middleware reads the rest of the
 * body itself and stores it whole (or, if that stream fails or never ends, retries get 410
 * `RESPONSE_UNAVAILABLE`); a client that goes away from a handler that never answers: the lock
 * lapses after `lockTtl` and a retry takes over, as on the other adapters.
 */
export function honoIdempotency(
  idempotency: Idempotency,
  options?: HonoIdempotencyOptions,
): MiddlewareHandler {
  const owner = 'honoIdempotency';
  const idem = checkIdempotency(owner, idempotency);
  const web = webIdempotency(idem, checkMaxBodyBytes(owner, options));
  return async (c, next) => {
    const outcome = await web.begin(
      c.req.raw,
      (body) => {
        // Hono's body cache: c.req.json(), text(), arrayBuffer()... read these bytes again.
        (
          c.req as unknown as { bodyCache: { arrayBuffer?: Promise<ArrayBuffer> } }
        ).bodyCache.arrayBuffer = Promise.resolve(body);
      },
      c,
    );
    if (outcome.response !== undefined) return outcome.response;
    await next();
    const execution = outcome.execution;
    if (execution === undefined) return;
    if (c.error !== undefined) {
      web.failed(execution);
      return;
    }
    c.res = web.capture(execution, c.res);
  };
}
