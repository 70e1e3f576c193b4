/**
 * Hono adapter (Web-standard Request/Response): `app.use(honoIdempotency(idempotency))`.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { checkIdempotency } from './adapters/common.js';
import { webIdempotency } from './adapters/web.js';
import type { Idempotency } from './idempotency.js';

/**
 * Hono middleware for request dedup. The body is read with `c.req.arrayBuffer()` (Hono caches
 * it, so the route can still call `c.req.json()`); a replay or a problem is returned without
 * calling `next()`. The route's `Response` body is wrapped in a stream that captures every chunk
 * until the end, then completes; a handler error (`c.error`) or a 5xx releases the key.
 */
export function honoIdempotency(idempotency: Idempotency): MiddlewareHandler {
  const idem = checkIdempotency('honoIdempotency', idempotency);
  const web = webIdempotency(idem);
  return async (c, next) => {
    const outcome = await web.begin(c.req.raw, () => c.req.arrayBuffer(), c);
    if (outcome.response !== undefined) return outcome.response;
    await next();
    if (outcome.token === undefined) return;
    if (c.error !== undefined) {
      await idem.release(outcome.token);
      return;
    }
    c.res = web.capture(outcome.token, c.res);
  };
}
