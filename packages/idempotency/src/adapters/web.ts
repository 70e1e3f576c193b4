import type { ExecutionToken, Idempotency } from '../idempotency.js';
import type { HttpResponse } from '../problem.js';
import { passesThrough } from './common.js';

/** What {@link WebIdempotency.begin} decided: a response to return, or run the handler. */
export interface WebBegin {
  /** Send this (replay or problem); the handler must not run. */
  readonly response?: Response;
  /** Present when the handler's response must go through {@link WebIdempotency.capture}. */
  readonly token?: ExecutionToken;
}

/** The Web-standard (Request/Response) half of an adapter: Hono, Deno, Bun, workers. */
export interface WebIdempotency {
  begin(request: Request, readBody: () => Promise<ArrayBuffer>, raw: unknown): Promise<WebBegin>;
  capture(token: ExecutionToken, response: Response): Response;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** @internal A `Response` from a core response. */
export function toWebResponse(response: HttpResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  const body = NULL_BODY.has(response.status) || response.body.length === 0 ? null : response.body;
  return new Response(body as BodyInit | null, { status: response.status, headers });
}

/** @internal */
export function webIdempotency(idem: Idempotency): WebIdempotency {
  const keyHeader = idem.options.header;
  return {
    async begin(request, readBody, raw) {
      if (passesThrough(idem, request.method, request.headers.has(keyHeader))) return {};
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const body = new Uint8Array(await readBody());
      const result = await idem.begin({
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers,
        body,
        raw,
      });
      if (result.kind !== 'execute') return { response: toWebResponse(result.response) };
      return result.token === undefined ? {} : { token: result.token };
    },

    capture(token, response) {
      const status = response.status;
      const headers = Array.from(response.headers);
      const source = response.body;
      if (source === null) {
        void idem.complete(token, { status, headers, body: new Uint8Array(0) });
        return response;
      }
      const capture = token.capture();
      const reader = source.getReader();
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        void idem.complete(token, {
          status,
          headers,
          body: capture.bytes(),
          bodyOmitted: capture.omitted,
        });
      };
      const fail = (): void => {
        if (done) return;
        done = true;
        void idem.release(token);
      };
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const chunk = await reader.read();
            if (chunk.done) {
              controller.close();
              finish();
              return;
            }
            capture.push(chunk.value);
            controller.enqueue(chunk.value);
          } catch (error) {
            // The handler's stream failed mid-way: like a throw, release (row 14).
            fail();
            controller.error(error);
          }
        },
        async cancel() {
          // The client went away, but the handler has already acted: read the rest ourselves
          // (until the end, or until the cap makes the body "omitted") so that the record is
          // completed and never stays IN_PROGRESS (row 19).
          try {
            while (!capture.omitted) {
              const chunk = await reader.read();
              if (chunk.done) break;
              capture.push(chunk.value);
            }
            if (capture.omitted) await reader.cancel();
            finish();
          } catch {
            fail();
          }
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
