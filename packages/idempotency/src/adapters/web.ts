import type { ExecutionToken } from '../execution-token.js';
import { type HttpResponse, problem, problemResponse } from '../problem.js';
import type { ResponseProgress } from '../request.js';
import type { Idempotency } from '../server-types.js';
import { passesThrough } from './common.js';

/** One protected execution seen by a Web adapter, from `begin` to the end of its response. */
export interface WebExecution {
  readonly token: ExecutionToken;
  /** The handler returned its `Response` (the execution has visibly acted). */
  started: boolean;
  status: number;
  /** Stops reading the handler's body once `disconnected` has given up on it. */
  stop: (() => void) | undefined;
}

/** The `progress` callback of `disconnected` for `execution`. */
function progressOf(execution: WebExecution): () => ResponseProgress {
  return () => {
    execution.stop?.();
    return execution;
  };
}

/** What {@link WebIdempotency.begin} decided: a response to return, or run the handler. */
export interface WebBegin {
  /** Send this (replay or problem); the handler must not run. */
  readonly response?: Response;
  /** Present when the handler's response must go through {@link WebIdempotency.capture}. */
  readonly execution?: WebExecution;
}

/** The Web-standard (Request/Response) half of an adapter: Hono, Deno, Bun, workers. */
export interface WebIdempotency {
  /**
   * Reads the body (up to the limit: 413 `BODY_TOO_LARGE` past it, a Content-Length over it
   * without reading a byte) and decides. `keepBody` gets the bytes read, so that the framework
   * can hand them to the handler again.
   */
  begin(request: Request, keepBody: (body: ArrayBuffer) => void, raw: unknown): Promise<WebBegin>;
  /** Wraps the handler's response so that its body is captured until the end. */
  capture(execution: WebExecution, response: Response): Response;
  /** The handler threw (the framework turned it into an error response): release. */
  failed(execution: WebExecution): void;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** @internal A `Response` from a core response. */
export function toWebResponse(response: HttpResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  const body = NULL_BODY.has(response.status) || response.body.length === 0 ? null : response.body;
  return new Response(body as BodyInit | null, { status: response.status, headers });
}

class TooLarge extends Error {}

/** Reads a request body up to `limit` bytes; cancels the stream and throws past it. */
async function readLimited(request: Request, limit: number): Promise<ArrayBuffer> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw new TooLarge();
  const source = request.body;
  if (source === null) return new ArrayBuffer(0);
  const reader = source.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return only.byteOffset === 0 && only.byteLength === only.buffer.byteLength
      ? (only.buffer as ArrayBuffer)
      : (only.slice().buffer as ArrayBuffer);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

/** @internal */
export function webIdempotency(idem: Idempotency, maxBodyBytes: number): WebIdempotency {
  const keyHeader = idem.options.header;
  return {
    async begin(request, keepBody, raw) {
      if (passesThrough(idem, request.method, request.headers.has(keyHeader))) return {};
      let bytes: ArrayBuffer;
      try {
        bytes = await readLimited(request, maxBodyBytes);
      } catch (error) {
        if (error instanceof TooLarge) {
          return {
            response: toWebResponse(
              problemResponse(
                problem('BODY_TOO_LARGE', `The request body is larger than ${maxBodyBytes} bytes.`),
              ),
            ),
          };
        }
        // The client went away mid-body: nothing was executed and nobody reads this answer.
        return { response: new Response(null, { status: 400 }) };
      }
      keepBody(bytes);
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const result = await idem.begin({
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers,
        body: new Uint8Array(bytes),
        raw,
      });
      if (result.kind !== 'execute') return { response: toWebResponse(result.response) };
      if (result.token === undefined) return {};
      const execution: WebExecution = {
        token: result.token,
        started: false,
        status: 0,
        stop: undefined,
      };
      // The runtime aborts the request's signal when the client goes away (@hono/node-server,
      // Deno, Bun): stop renewing, and let `disconnected` decide for a handler that never ends.
      const signal = request.signal;
      const progress = progressOf(execution);
      if (signal.aborted) idem.disconnected(execution.token, progress);
      else {
        signal.addEventListener('abort', () => idem.disconnected(execution.token, progress), {
          once: true,
        });
      }
      return { execution };
    },

    failed(execution) {
      void idem.release(execution.token);
    },

    capture(execution, response) {
      const token = execution.token;
      const status = response.status;
      execution.started = true;
      execution.status = status;
      const headers = Array.from(response.headers);
      const source = response.body;
      if (source === null) {
        void idem.complete(token, { status, headers, body: new Uint8Array(0) });
        return response;
      }
      const capture = token.capture();
      const reader = source.getReader();
      // 'flowing': the client reads; 'draining': the client went away and the adapter reads the
      // rest itself (so that the record is completed whole); 'done': finished either way.
      let state: 'flowing' | 'draining' | 'done' = 'flowing';
      let inflight: Promise<unknown> | undefined;
      const finish = (): void => {
        if (state === 'done') return;
        state = 'done';
        void idem.complete(token, {
          status,
          headers,
          body: capture.bytes(),
          bodyOmitted: capture.omitted,
        });
      };
      // The handler's stream failed after the response started: it can never be whole.
      const cut = (): void => {
        if (state === 'done') return;
        state = 'done';
        void idem.interrupt(token, status);
      };
      const drain = async (): Promise<void> => {
        try {
          await inflight;
          while (state === 'draining' && !capture.omitted) {
            const chunk = await reader.read();
            if (chunk.done) break;
            capture.push(chunk.value);
          }
          if (state !== 'draining') return;
          if (capture.omitted) await reader.cancel().catch(() => {});
          finish();
        } catch {
          cut();
        }
      };
      execution.stop = () => {
        if (state === 'done') return;
        state = 'done';
        void reader.cancel().catch(() => {});
      };
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            const read = reader.read();
            inflight = read;
            chunk = await read;
          } catch (error) {
            const flowing = state === 'flowing';
            cut();
            if (flowing) controller.error(error);
            return;
          } finally {
            inflight = undefined;
          }
          if (chunk.done) {
            // Closing fails only if the client cancelled meanwhile: nothing left to send.
            if (state === 'flowing') controller.close();
            if (state !== 'done') finish();
            return;
          }
          capture.push(chunk.value);
          if (state === 'flowing') controller.enqueue(chunk.value);
        },
        cancel() {
          // The client went away, but the handler has acted: read the rest ourselves (until the
          // end, or until the cap makes the body "omitted") so that the record is completed and
          // never stays IN_PROGRESS (row 19). A source that never ends is cut off by
          // `disconnected` after lockTtl/3.
          if (state !== 'flowing') return;
          state = 'draining';
          idem.disconnected(token, progressOf(execution));
          void drain();
        },
      });
      return new Response(stream, {
        status,
        statusText: response.statusText,
        headers: response.headers,
      });
    },
  };
}
