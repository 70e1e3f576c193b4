/**
 * `node:http` adapter: `http.createServer(withIdempotency(handler, idempotency))`.
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
  replayRequest,
  requestHeaders,
  sendResponse,
} from './adapters/node-common.js';
import type { Idempotency } from './server-types.js';

export type { NodeAdapterOptions } from './adapters/node-common.js';

/** A `node:http` request handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Options for {@link withIdempotency}. */
export interface WithIdempotencyOptions extends NodeAdapterOptions {
  /**
   * Called when the handler throws or rejects (after the key was released), or when a `scope`
   * or `fingerprint` callback throws. Default: log the error with `console.error` and answer
   * 500 (or, when the response had already started, destroy it).
   */
  readonly onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
}

function defaultOnError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  // A stream the client cut off ("Premature close" from stream.pipeline) is not a server error.
  const gone =
    res.destroyed && (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
  if (!gone) console.error(error);
  if (res.headersSent) {
    res.destroy();
  } else {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Internal Server Error');
  }
}

/**
 * Wraps a `node:http` handler with request dedup. For a protected request the adapter reads the
 * body (to fingerprint it) and hands the handler a fresh `IncomingMessage` that replays the same
 * bytes (also on `req.body` as a `Buffer`). A replay or a problem is sent without calling the
 * handler.
 *
 * The returned function never rejects, so `http.createServer(withIdempotency(handler, idem))`
 * is safe as it stands: a client that goes away before its body ended is dropped (the handler
 * never runs), and a handler that throws or rejects has its key released (or, when its response
 * had started, marked cut off) and its error passed to `onError` (default: logged, then 500).
 * A response the client cut off is stored whole if the handler still ends it, and answered
 * with 410 `RESPONSE_UNAVAILABLE` to retries otherwise: never a second execution.
 */
export function withIdempotency(
  handler: NodeHandler,
  idempotency: Idempotency,
  options?: WithIdempotencyOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const owner = 'withIdempotency';
  if (typeof handler !== 'function') {
    throw new TypeError(`${owner}: handler must be a function, received ${String(handler)}`);
  }
  const idem = checkIdempotency(owner, idempotency);
  const limit = checkMaxBodyBytes(owner, options);
  const onError = options?.onError ?? defaultOnError;
  if (typeof onError !== 'function') {
    throw new TypeError(
      `${owner}: option "onError" must be a function, received ${String(options?.onError)}`,
    );
  }
  const keyHeader = idem.options.header;

  const fail = (error: unknown, req: IncomingMessage, res: ServerResponse): void => {
    try {
      onError(error, req, res);
    } catch (secondary) {
      // An onError that throws must not turn into an unhandled rejection either.
      console.error(secondary);
      res.destroy();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    if (passesThrough(idem, method, req.headers[keyHeader] !== undefined)) {
      await handler(req, res);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (error) {
      bodyUnread(res, limit, error);
      return;
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
    const capture = captureResponse(res, idem, token);
    try {
      await handler(replay, res);
    } catch (error) {
      // Row 14: a throw releases the key (or, after the response started, marks it cut off);
      // the error goes on to onError.
      capture.threw();
      throw error;
    }
    capture.returned();
  };

  return (req, res) =>
    handle(req, res).catch((error: unknown) => {
      fail(error, req, res);
    });
}
