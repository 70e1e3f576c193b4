/**
 * Express 5 adapter: `app.use(express.json()); app.use(expressIdempotency(idempotency))`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bodyUnread,
  captureResponse,
  checkIdempotency,
  checkMaxBodyBytes,
  coreRequest,
  type NodeAdapterOptions,
  passesThrough,
  readBody,
  requestHeaders,
  sendResponse,
  tooLarge,
} from './adapters/node-common.js';
import { isJsonContentType } from './fingerprint.js';
import type { IdempotencyRequest } from './request.js';
import type { Idempotency } from './server-types.js';

export type { NodeAdapterOptions } from './adapters/node-common.js';

/** The parts of Express's request the adapter uses (structural, so no runtime import). */
interface ExpressRequest extends IncomingMessage {
  body?: unknown;
  rawBody?: Buffer;
  originalUrl?: string;
}

/** An Express middleware. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

function hasBody(headers: IncomingMessage['headers']): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/** The size of a body a parser already read (its JSON text for a parsed value). */
function parsedSize(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.length;
  return Buffer.byteLength(JSON.stringify(body) ?? '');
}

function fingerprintBody(body: unknown): IdempotencyRequest['body'] {
  if (body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return { parsed: body };
}

/**
 * Express 5 middleware for request dedup. Mount it after your body parser (`express.json()`,
 * `express.raw()`...): the fingerprint then covers `req.body` (canonical JSON for parsed
 * bodies). When no parser ran, the adapter reads the body itself and sets `req.rawBody` (a
 * `Buffer`) and `req.body` (parsed JSON for JSON content types, the `Buffer` otherwise). A body
 * over `maxBodyBytes` (default 1 MiB) is answered with 413 `BODY_TOO_LARGE` (a body parser with
 * a lower limit of its own answers first).
 *
 * A replay or a problem is written without calling the next handler. A handler error reaches
 * Express's error handling; the record is released when the resulting response is a 5xx (the
 * default error handler answers 500). An error handler that maps errors to 4xx stores that 4xx.
 */
export function expressIdempotency(
  idempotency: Idempotency,
  options?: NodeAdapterOptions,
): ExpressMiddleware {
  const owner = 'expressIdempotency';
  const idem = checkIdempotency(owner, idempotency);
  const limit = checkMaxBodyBytes(owner, options);
  const keyHeader = idem.options.header;

  // Express gives every request and response a hidden class of its own (it sets their
  // prototypes), so each property read on them misses V8's inline caches and is looked up again:
  // each is read once here, and a property that is usually absent (`rawBody`) is tested with
  // `Object.hasOwn`, which walks no prototype chain.
  const handle = async (
    req: ExpressRequest,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ) => {
    // A rejection (a `scope` or `fingerprint` callback that threw) goes to Express's error
    // handling: caught here rather than by `.catch(next)` on the returned promise, which is one
    // more promise and one more microtask on every request.
    try {
      const method = req.method ?? 'GET';
      const headers = req.headers;
      if (passesThrough(idem, method, headers[keyHeader] !== undefined)) {
        next();
        return;
      }
      let body = req.body;
      // One limit for every adapter, whoever read the body: a declared size over it is refused
      // without reading a byte; a chunked body already parsed is measured by what was parsed.
      const declared = headers['content-length'];
      if (
        declared !== undefined
          ? Number(declared) > limit
          : body !== undefined &&
            headers['transfer-encoding'] !== undefined &&
            parsedSize(body) > limit
      ) {
        sendResponse(res, tooLarge(limit));
        return;
      }
      let raw = Object.hasOwn(req, 'rawBody') ? req.rawBody : undefined;
      if (body === undefined && hasBody(headers) && req.readable) {
        try {
          raw = await readBody(req, limit);
          body = raw;
          if (isJsonContentType(headers['content-type'])) {
            try {
              body = JSON.parse(raw.toString('utf8'));
            } catch {
              // Leave the Buffer: the route decides what malformed JSON means.
            }
          }
          req.rawBody = raw;
          req.body = body;
        } catch (error) {
          bodyUnread(res, limit, error); // no error to report
          return;
        }
      }
      const result = await idem.begin(
        coreRequest(
          method,
          req.originalUrl ?? req.url,
          requestHeaders(req, keyHeader, headers),
          raw ?? fingerprintBody(body),
          req,
        ),
      );
      if (result.kind !== 'execute') {
        sendResponse(res, result.response);
        return;
      }
      if (result.token !== undefined) captureResponse(res, idem, result.token, true);
      next();
    } catch (error) {
      next(error);
    }
  };

  return (req, res, next) => {
    void handle(req as ExpressRequest, res, next);
  };
}
