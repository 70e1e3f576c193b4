/**
 * `node:http` adapter: `http.createServer(withIdempotency(handler, idempotency))`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyTooLarge,
  captureResponse,
  checkIdempotency,
  checkMaxBodyBytes,
  coreRequest,
  type NodeAdapterOptions,
  passesThrough,
  readBody,
  replayRequest,
  requestHeaders,
  sendResponse,
  tooLarge,
} from './adapters/node-common.js';
import type { Idempotency } from './idempotency.js';

export type { NodeAdapterOptions } from './adapters/node-common.js';

/** A `node:http` request handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Wraps a `node:http` handler with request dedup. For a protected request the adapter reads the
 * body (to fingerprint it) and hands the handler a fresh `IncomingMessage` that replays the same
 * bytes (also on `req.body` as a `Buffer`). A replay or a problem is sent without calling the
 * handler. If the handler throws or rejects, the key is released and the error is rethrown.
 */
export function withIdempotency(
  handler: NodeHandler,
  idempotency: Idempotency,
  options?: NodeAdapterOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const owner = 'withIdempotency';
  if (typeof handler !== 'function') {
    throw new TypeError(`${owner}: handler must be a function, received ${String(handler)}`);
  }
  const idem = checkIdempotency(owner, idempotency);
  const limit = checkMaxBodyBytes(owner, options);
  const keyHeader = idem.options.header;

  return async (req, res) => {
    const method = req.method ?? 'GET';
    if (passesThrough(idem, method, req.headers[keyHeader] !== undefined)) {
      await handler(req, res);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendResponse(res, tooLarge(limit));
        return;
      }
      throw error;
    }
    const result = await idem.begin(
      coreRequest(method, req.url, requestHeaders(req, keyHeader), body, req),
    );
    if (result.kind !== 'execute') {
      sendResponse(res, result.response);
      return;
    }
    const replay = replayRequest(req, body);
    const token = result.token;
    if (token === undefined) {
      await handler(replay, res);
      return;
    }
    let threw = false;
    captureResponse(res, idem, token, { failed: () => threw });
    try {
      await handler(replay, res);
    } catch (error) {
      // Row 14: a throw releases the key; the error goes on to whoever called us.
      threw = true;
      await idem.release(token);
      throw error;
    }
  };
}
