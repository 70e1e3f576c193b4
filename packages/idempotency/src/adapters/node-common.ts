import * as nodeCrypto from 'node:crypto';
import { IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { BodyCapture } from '../capture.js';
import { type ExecutionToken, installOwnerToken } from '../execution-token.js';
import { installSha256, type Sha256Hex } from '../fingerprint.js';
import type { HeaderInput } from '../headers.js';
import type { IdempotencyRequest, ResponseProgress } from '../request.js';
import type { Idempotency } from '../server-types.js';

export { checkIdempotency, checkMaxBodyBytes, passesThrough } from './common.js';

import { type HttpResponse, problem, problemResponse } from '../problem.js';
import type { StoredHeader } from '../store.js';

// The Node adapters hash store keys and fingerprints with node:crypto (native SHA-256): the
// one-shot `crypto.hash` (Node >= 20.12) costs ~0.2 µs for a ~100-byte input, `createHash`
// ~0.5 µs, the browser-safe JS one ~1.2 µs; the server hashes twice per request.
const oneShot = (
  nodeCrypto as {
    hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string;
  }
).hash;
// Strings are hashed as UTF-8 by both (their default input encoding).
const nodeSha256: Sha256Hex =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha256', data, 'hex')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest('hex');
installSha256(nodeSha256);

// Fencing tokens: 128 random bits each (randomUUID has 122), hex-encoded natively from a pool
// refilled by the CSPRNG, never reused. randomUUID builds its text by string concatenation and
// the server makes a token per claim, replays included.
const TOKEN_BYTES = 16;
const tokenPool = Buffer.allocUnsafeSlow(TOKEN_BYTES * 256);
let tokenAt = tokenPool.length;
installOwnerToken(() => {
  if (tokenAt === tokenPool.length) {
    nodeCrypto.randomFillSync(tokenPool);
    tokenAt = 0;
  }
  const token = tokenPool.toString('hex', tokenAt, tokenAt + TOKEN_BYTES);
  tokenAt += TOKEN_BYTES;
  return token;
});

/** Options shared by the Node adapters that read request bodies themselves. */
export interface NodeAdapterOptions {
  /**
   * Largest request body the adapter buffers to fingerprint it (when no body parser ran before
   * it); a larger one is answered with 413 `BODY_TOO_LARGE`. Default 1 MiB.
   */
  readonly maxBodyBytes?: number;
}

/**
 * Headers for which Node keeps only the first of repeated values (or joins them without a
 * comma), so `req.headers` alone cannot show a repeat.
 */
const NOT_COMMA_JOINED = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'cookie',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'set-cookie',
  'user-agent',
]);

/** @internal Request headers for `begin`, with the key header's repeated values kept apart. */
export function requestHeaders(
  req: IncomingMessage,
  keyHeader: string,
  headers: IncomingMessage['headers'] = req.headers,
): Readonly<Record<string, string | readonly string[] | undefined>> {
  // Fast path, no copy: Node joins a repeated header with ", ", so a key value without a comma
  // was sent once. `headersDistinct` would build an array for every header of the request.
  const value = headers[keyHeader];
  if (
    value === undefined ||
    (typeof value === 'string' && !value.includes(',') && !NOT_COMMA_JOINED.has(keyHeader))
  ) {
    return headers;
  }
  const copy: Record<string, string | readonly string[] | undefined> = { ...headers };
  const distinct = req.headersDistinct?.[keyHeader];
  if (distinct !== undefined) copy[keyHeader] = distinct;
  return copy;
}

/** Thrown by {@link readBody} past the limit. @internal */
export class BodyTooLarge extends Error {}

/** Thrown by {@link readBody} when the client went away before the body ended. @internal */
export class BodyAborted extends Error {}

/**
 * @internal Reads the whole request body, up to `limit` bytes. Rejects with {@link BodyTooLarge}
 * past the limit and with {@link BodyAborted} when the connection closes before the body ends
 * (the client went away): a body read never leaves a promise pending or an error unhandled.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) {
      resolve(Buffer.alloc(0));
      return;
    }
    if (req.destroyed) {
      reject(new BodyAborted('the request was closed before its body ended'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new BodyAborted('the client went away before the request body ended'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // Node emits 'error' ("aborted", ECONNRESET) and then 'close' for a cut body.
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}

/**
 * A fresh `IncomingMessage` carrying the same head as `req` and replaying `body`, for handlers
 * that read the request stream after the adapter consumed it for the fingerprint.
 * @internal
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const clone = new IncomingMessage(req.socket);
  clone.method = req.method;
  clone.url = req.url;
  clone.headers = req.headers;
  clone.rawHeaders = req.rawHeaders;
  clone.httpVersion = req.httpVersion;
  clone.httpVersionMajor = req.httpVersionMajor;
  clone.httpVersionMinor = req.httpVersionMinor;
  clone.trailers = req.trailers;
  clone.rawTrailers = req.rawTrailers;
  clone.complete = true;
  if (body.length > 0) clone.push(body);
  clone.push(null);
  (clone as IncomingMessage & { body?: Buffer; rawBody?: Buffer }).body = body;
  (clone as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
  return clone;
}

/** @internal Sends a replay or a problem straight to the socket (the handler never runs). */
export function sendResponse(res: ServerResponse, response: HttpResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  headers['content-length'] = String(response.body.length);
  res.writeHead(response.status, headers);
  res.end(response.body);
}

/**
 * @internal Answers a request whose body could not be read: 413 when it was over the limit;
 * otherwise the client went away mid-body, so there is nobody to answer and nothing was
 * executed: the response is destroyed.
 */
export function bodyUnread(res: ServerResponse, limit: number, error: unknown): void {
  if (error instanceof BodyTooLarge) sendResponse(res, tooLarge(limit));
  else res.destroy();
}

/** @internal The 413 for a request body over `maxBodyBytes`. */
export function tooLarge(limit: number): HttpResponse {
  return problemResponse(
    problem('BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`),
  );
}

/** Records a chunk passed to `write`/`end` (a string is encoded here, so it needs no copy). */
function captureChunk(capture: BodyCapture, chunk: unknown, encoding: unknown): void {
  if (typeof chunk === 'string') {
    if (chunk.length === 0) return;
    capture.pushOwned(
      Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
    );
  } else if (chunk instanceof Uint8Array) {
    capture.push(chunk);
  }
}

function headerPairs(headers: OutgoingHttpHeaders | readonly unknown[]): StoredHeader[] {
  const out: StoredHeader[] = [];
  if (Array.isArray(headers)) {
    // Raw form: [name, value, name, value] or [[name, value], ...].
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as [string, string][])
        out.push([String(pair[0]).toLowerCase(), String(pair[1])]);
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        out.push([String(headers[i]).toLowerCase(), String(headers[i + 1])]);
      }
    }
    return out;
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const item of value) out.push([lower, String(item)]);
    else out.push([lower, String(value)]);
  }
  return out;
}

/** What an adapter tells {@link captureResponse} about the handler. @internal */
export interface CaptureControl {
  /** The handler threw or rejected (node:http), or Fastify's `onError` ran. */
  threw(): void;
  /** The handler returned (node:http): a response cut off from now on will never end. */
  returned(): void;
}

type WriteHead = (...args: unknown[]) => ServerResponse;
type Write = (...args: unknown[]) => boolean;
type End = (...args: unknown[]) => ServerResponse;

/**
 * The state of one captured response. It reaches the response's `writeHead`/`write`/`end` in
 * one of two ways (see {@link captureResponse}): through wrappers on Express's shared response
 * prototype that find it in a WeakMap, or through small closures over it set on the response
 * itself.
 */
class ResponseCapture implements CaptureControl {
  readonly res: ServerResponse;
  readonly idempotency: Idempotency;
  readonly token: ExecutionToken;
  readonly body: BodyCapture;
  /** The headers argument of `writeHead`, as given (an object or a raw list). */
  headHeaders: OutgoingHttpHeaders | readonly unknown[] | undefined = undefined;
  ended = false;
  closed = false;
  #returned = false;
  #threw = false;

  constructor(res: ServerResponse, idempotency: Idempotency, token: ExecutionToken) {
    this.res = res;
    this.idempotency = idempotency;
    this.token = token;
    this.body = token.capture();
  }

  get returnedAlready(): boolean {
    return this.#returned;
  }

  /**
   * The handler called `end()`: store what was sent. The wrappers stay in place and pass
   * straight through from now on (they check `ended`): writing the three originals back would
   * be three more stores to a large object on every request.
   */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    const res = this.res;
    // Drop the prototype path's entry now rather than when `res` dies (see `captures`): an
    // ended capture passes straight through either way.
    captures.delete(res);
    // After a throw the execution was already released or interrupted: this is the error
    // response (`finish` ignores a finished token anyway).
    if (this.#threw) return;
    void this.idempotency.complete(this.token, {
      status: res.statusCode,
      headers: this.#headers(),
      body: this.body.bytes(),
      bodyOmitted: this.body.omitted,
    });
  }

  /**
   * What was sent: headers set with `setHeader` plus those passed to `writeHead` (which win).
   * Fastify passes every header to `writeHead` and Express none, so usually one source is
   * empty and is handed over as it is (the core filters it in one pass).
   */
  #headers(): HeaderInput {
    const set = this.res.getHeaders();
    const head = this.headHeaders;
    if (head === undefined || isEmptyHeaders(head)) return set;
    let empty = true;
    for (const _ in set) {
      empty = false;
      break;
    }
    if (empty) return Array.isArray(head) ? headerPairs(head) : (head as OutgoingHttpHeaders);
    const headPairs = headerPairs(head);
    const names = new Set(headPairs.map(([name]) => name));
    return [...headerPairs(set).filter(([name]) => !names.has(name)), ...headPairs];
  }

  /** How far the response got (for `disconnected`, which asks later). */
  progress(): ResponseProgress {
    return { started: this.res.headersSent, status: this.res.statusCode };
  }

  threw(): void {
    if (this.ended || this.#threw) return;
    this.#threw = true;
    const res = this.res;
    if (res.headersSent) void this.idempotency.interrupt(this.token, res.statusCode);
    else void this.idempotency.release(this.token);
  }

  returned(): void {
    this.#returned = true;
    const res = this.res;
    if (this.closed && !this.ended && res.headersSent) {
      void this.idempotency.interrupt(this.token, res.statusCode);
    }
  }
}

function isEmptyHeaders(headers: OutgoingHttpHeaders | readonly unknown[]): boolean {
  if (Array.isArray(headers)) return headers.length === 0;
  for (const _ in headers) return false;
  return true;
}

// The captured calls, each given the method it stands in front of.

function capturedWriteHead(
  capture: ResponseCapture,
  res: ServerResponse,
  args: unknown[],
  writeHead: WriteHead,
): ServerResponse {
  if (capture.ended) return writeHead.apply(res, args);
  const headers = typeof args[1] === 'string' ? args[2] : args[1];
  if (headers !== undefined && headers !== null && typeof headers === 'object') {
    capture.headHeaders = headers as OutgoingHttpHeaders | readonly unknown[];
  }
  return writeHead.apply(res, args);
}

function capturedWrite(
  capture: ResponseCapture,
  res: ServerResponse,
  args: unknown[],
  write: Write,
): boolean {
  if (!capture.ended) captureChunk(capture.body, args[0], args[1]);
  return write.apply(res, args);
}

function capturedEnd(
  capture: ResponseCapture,
  res: ServerResponse,
  args: unknown[],
  end: End,
): ServerResponse {
  if (capture.ended) return end.apply(res, args);
  captureChunk(capture.body, args[0], args[1]);
  const result = end.apply(res, args);
  capture.finish();
  return result;
}

function onCapturedClose(capture: ResponseCapture): void {
  if (capture.ended || capture.closed) return;
  capture.closed = true;
  const res = capture.res;
  if (capture.returnedAlready && res.headersSent) {
    void capture.idempotency.interrupt(capture.token, res.statusCode);
  } else {
    capture.idempotency.disconnected(capture.token, () => capture.progress());
  }
}

/** Wraps `writeHead`, `write` and `end` on this one response with closures over `capture`. */
function wrapOwn(res: ServerResponse, capture: ResponseCapture): void {
  const writeHead = res.writeHead as unknown as WriteHead;
  const write = res.write as unknown as Write;
  const end = res.end as unknown as End;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    return capturedWriteHead(capture, this, args, writeHead);
  } as unknown as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    return capturedWrite(capture, this, args, write);
  } as unknown as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    return capturedEnd(capture, this, args, end);
  } as unknown as ServerResponse['end'];
}

// Capture through Express's response prototype.
//
// Express 5 sets the prototype of every response (`Object.setPrototypeOf(res, app.response)`),
// after which V8 shares no map transition between responses: each own property added to such a
// response builds a new hidden class (about 5 µs each, 15 µs per request for the three
// wrappers of `wrapOwn`). So on Express the three methods are wrapped once, on the prototype
// every Express response inherits from (`express.response`, right above
// `ServerResponse.prototype`: each app's and each mounted sub-app's `response` chains to it,
// so the wrappers are still reached after a sub-app or its parent sets the prototype), and a
// response is captured by a WeakMap entry: nothing is added to `res` itself. A response
// without an entry (not captured, or from another app) passes straight through.
// `ServerResponse.prototype` itself is never touched.

/** The wrappers installed on one response prototype. */
interface PrototypeWrappers {
  readonly writeHead: WriteHead;
  readonly write: Write;
  readonly end: End;
}

/**
 * Captured responses whose calls arrive through prototype wrappers, until their `end()`
 * ({@link ResponseCapture.finish} deletes the entry). Not left for the GC to clear: on Node 20
 * (V8 11.3) entries left in the map made young-generation collections keep the ended responses
 * and their request graphs alive and promote them to the old generation (Express, fresh keys:
 * 14.8 KB promoted per request with the entries left, 10.4 KB with them deleted, 9.5 KB
 * without the middleware; `--trace-gc-nvp`, summed `promoted=`).
 */
const captures = new WeakMap<ServerResponse, ResponseCapture>();
/** Where a wrapped prototype keeps its wrappers (this module's own symbol). */
const WRAPPERS = Symbol('faultline.idempotency.responseWrappers');

/**
 * Installs the wrappers on `proto`. Each passes to the prototype's own method if it had one
 * (someone else's wrapper), otherwise to its parent's, looked up at call time.
 */
function wrapPrototype(proto: object): PrototypeWrappers {
  const parent = Object.getPrototypeOf(proto) as Record<'writeHead' | 'write' | 'end', unknown>;
  const own = (name: 'writeHead' | 'write' | 'end'): unknown =>
    Object.hasOwn(proto, name) ? (proto as Record<string, unknown>)[name] : undefined;
  const ownWriteHead = own('writeHead') as WriteHead | undefined;
  const ownWrite = own('write') as Write | undefined;
  const ownEnd = own('end') as End | undefined;
  const wrappers: PrototypeWrappers = {
    writeHead(this: ServerResponse, ...args: unknown[]) {
      const writeHead = ownWriteHead ?? (parent.writeHead as WriteHead);
      const capture = captures.get(this);
      return capture === undefined
        ? writeHead.apply(this, args)
        : capturedWriteHead(capture, this, args, writeHead);
    },
    write(this: ServerResponse, ...args: unknown[]) {
      const write = ownWrite ?? (parent.write as Write);
      const capture = captures.get(this);
      return capture === undefined
        ? write.apply(this, args)
        : capturedWrite(capture, this, args, write);
    },
    end(this: ServerResponse, ...args: unknown[]) {
      const end = ownEnd ?? (parent.end as End);
      const capture = captures.get(this);
      return capture === undefined ? end.apply(this, args) : capturedEnd(capture, this, args, end);
    },
  };
  for (const name of ['writeHead', 'write', 'end'] as const) {
    Object.defineProperty(proto, name, {
      value: wrappers[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(proto, WRAPPERS, { value: wrappers, configurable: true });
  return wrappers;
}

/**
 * The wrappers on the object right above `ServerResponse.prototype` in the chain of `proto`
 * (installed now if they were not), or null when there is no such object (a plain Node
 * response) or it cannot be wrapped.
 */
function wrappersAbove(proto: object): PrototypeWrappers | null {
  let object: object | null = proto;
  while (object !== null) {
    const parent = Object.getPrototypeOf(object) as object | null;
    if (parent === ServerResponse.prototype) {
      if (Object.hasOwn(object, WRAPPERS)) {
        return (object as Record<symbol, PrototypeWrappers>)[WRAPPERS]!;
      }
      try {
        return wrapPrototype(object);
      } catch {
        // A frozen prototype (or a method on it that cannot be redefined): every response gets
        // the own-property path. Wrappers already defined pass straight through.
        return null;
      }
    }
    object = parent;
  }
  return null;
}

/** A response's prototype (an app's `response`) → the wrappers its chain reaches, or null. */
const prototypeWrappers = new WeakMap<object, PrototypeWrappers | null>();

/**
 * Captures `res` through its prototype's wrappers (installing them the first time), only when
 * its three methods are those wrappers: an own-property wrapper set before (compression()), a
 * response that is not Express's, or a response already captured (two middlewares) takes the
 * own-property path instead.
 *
 * Every check reads the prototype, never `res`: on a response with a hidden class of its own,
 * each property read misses V8's caches (about 0.5 µs a name); `Object.hasOwn` does not.
 * If the prototype is later set to one outside this chain (a sub-app from another copy of
 * Express), the wrappers are no longer reached: the response is not captured, the close
 * handler sees it cut off, and retries get 410 `RESPONSE_UNAVAILABLE`, never a second execution.
 */
function captureViaPrototype(res: ServerResponse, capture: ResponseCapture): boolean {
  const proto = Object.getPrototypeOf(res) as Record<'writeHead' | 'write' | 'end', unknown> | null;
  if (proto === null) return false;
  let wrappers = prototypeWrappers.get(proto);
  if (wrappers === undefined) {
    wrappers = wrappersAbove(proto);
    prototypeWrappers.set(proto, wrappers);
  }
  if (
    wrappers === null ||
    proto.writeHead !== wrappers.writeHead ||
    proto.write !== wrappers.write ||
    proto.end !== wrappers.end ||
    Object.hasOwn(res, 'writeHead') ||
    Object.hasOwn(res, 'write') ||
    Object.hasOwn(res, 'end') ||
    captures.has(res)
  ) {
    return false;
  }
  captures.set(res, capture);
  return true;
}

/**
 * Captures what the handler writes to `res` (status, headers, every body chunk up to the cap)
 * by wrapping `writeHead`, `write` and `end`, and finishes the execution when the handler calls
 * `end()`: complete (or release for 5xx). The client gets every byte first; the store write
 * happens afterwards (rows 12, 17, 18, 19). With `viaPrototype` (Express) the wrappers sit on
 * the shared response prototype when they can (see above); otherwise on this response object.
 *
 * How an execution ends when things go wrong:
 * - the handler throws before the response started: release (row 14); after: the response is
 *   cut off (`interrupt`: retries get 410 `RESPONSE_UNAVAILABLE`, never a second execution);
 * - the connection closes before `end()` (client gone, or the framework destroyed the response
 *   when its stream failed): lease renewal stops; a handler that still ends its response (it
 *   keeps writing to a closed socket) stores it whole; otherwise `disconnected` decides after
 *   lockTtl/3 (started: `interrupt`; not started: the lock lapses and a retry takes over after
 *   lockTtl, as for a crashed owner). When the adapter knows the handler has returned, a cut
 *   response is interrupted at once.
 * @internal
 */
export function captureResponse(
  res: ServerResponse,
  idempotency: Idempotency,
  token: ExecutionToken,
  viaPrototype = false,
): CaptureControl {
  const capture = new ResponseCapture(res, idempotency, token);
  if (!viaPrototype || !captureViaPrototype(res, capture)) wrapOwn(res, capture);
  res.on('close', () => onCapturedClose(capture));
  return capture;
}

/** @internal Builds the framework-free request. */
export function coreRequest(
  method: string,
  url: string | undefined,
  headers: IdempotencyRequest['headers'],
  body: IdempotencyRequest['body'],
  raw: unknown,
): IdempotencyRequest {
  // Path and query split in place: one object per request.
  const value = url ?? '/';
  const index = value.indexOf('?');
  return index < 0
    ? { method, path: value, query: '', headers, body, raw }
    : { method, path: value.slice(0, index), query: value.slice(index + 1), headers, body, raw };
}
