/**
 * Fastify 5 adapter: `app.register(fastifyIdempotency, { idempotency })`.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  BodyTooLarge,
  type CaptureControl,
  captureResponse,
  checkIdempotency,
  checkMaxBodyBytes,
  coreRequest,
  passesThrough,
  readBody,
  requestHeaders,
  tooLarge,
} from './adapters/node-common.js';
import type { IdempotencyRequest } from './request.js';
import type { Idempotency } from './server-types.js';

/** Options for {@link fastifyIdempotency}. */
export interface FastifyIdempotencyOptions {
  /** The server core from `createIdempotency`. */
  readonly idempotency: Idempotency;
  /**
   * Largest request body of a protected request; a larger one is answered with 413
   * `BODY_TOO_LARGE` before Fastify parses it (Fastify's own `bodyLimit`, if lower, answers
   * first). Default 1 MiB, as for the other adapters.
   */
  readonly maxBodyBytes?: number;
}

const RUNNING = Symbol('faultline.idempotency.running');
type RunningRequest = FastifyRequest & { [RUNNING]?: CaptureControl | null };

/** Whether no header name repeats (the usual replay: each header once, nothing to group). */
function distinctNames(headers: readonly (readonly [string, string])[]): boolean {
  for (let i = 1; i < headers.length; i++) {
    const name = headers[i]![0];
    for (let j = 0; j < i; j++) if (headers[j]![0] === name) return false;
  }
  return true;
}

function fingerprintBody(body: unknown): IdempotencyRequest['body'] {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return { parsed: body };
}

/**
 * Fastify 5 plugin for request dedup. It is not encapsulated (like `fastify-plugin`), so it
 * covers every route registered on the instance.
 *
 * - `preHandler`: the body is already parsed by Fastify's content-type parsers, so the
 *   fingerprint covers `request.body` (canonical JSON for objects, raw for strings and
 *   buffers). A replay or a problem is sent here and the route handler never runs.
 * - The response is captured on `reply.raw` (every chunk of a streamed payload, until `end`).
 * - `onError`: a throwing handler releases the key even if an error handler answers with 4xx.
 */
export const fastifyIdempotency: FastifyPluginAsync<FastifyIdempotencyOptions> = Object.assign(
  async function fastifyIdempotency(
    fastify: FastifyInstance,
    options: FastifyIdempotencyOptions,
  ): Promise<void> {
    const owner = 'fastifyIdempotency';
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${owner}: options must be an object, received ${String(options)}`);
    }
    const idem = checkIdempotency(owner, options.idempotency);
    const limit = checkMaxBodyBytes(owner, options);
    const keyHeader = idem.options.header;

    const refuse = (reply: FastifyReply): void => {
      const response = tooLarge(limit);
      reply.code(response.status);
      for (const [name, value] of response.headers) reply.header(name, value);
      void reply.send(Buffer.from(response.body));
    };

    // Before Fastify parses the body: one limit and one answer (problem+json) for every adapter.
    // A callback hook, so that a request within the limit costs no promise.
    fastify.addHook('preParsing', (request, reply, payload, done) => {
      if (passesThrough(idem, request.method, request.headers[keyHeader] !== undefined)) {
        done(null, payload);
        return;
      }
      const declared = request.headers['content-length'];
      if (declared !== undefined || request.headers['transfer-encoding'] === undefined) {
        if (declared !== undefined && Number(declared) > limit) refuse(reply);
        else done(null, payload);
        return;
      }
      // Chunked: no size up front, so read it here (bounded) and hand Fastify the bytes.
      readBody(payload as unknown as IncomingMessage, limit).then(
        (body) => done(null, Readable.from([body]) as unknown as typeof payload),
        (error: unknown) => {
          if (error instanceof BodyTooLarge) refuse(reply);
          else done(error as Error);
        },
      );
    });
    // The capture of a running request, for onError: a request decoration (declared once, so
    // every request has the same shape) rather than a WeakMap entry per request.
    fastify.decorateRequest(RUNNING, null);

    fastify.addHook('preHandler', async (request, reply) => {
      if (passesThrough(idem, request.method, request.headers[keyHeader] !== undefined)) return;
      const result = await idem.begin(
        coreRequest(
          request.method,
          request.url,
          requestHeaders(request.raw, keyHeader),
          fingerprintBody(request.body),
          request,
        ),
      );
      if (result.kind !== 'execute') {
        const headers = result.response.headers;
        reply.code(result.response.status);
        if (distinctNames(headers)) {
          for (const [name, value] of headers) reply.header(name, value);
        } else {
          const grouped = new Map<string, string[]>();
          for (const [name, value] of headers) {
            const list = grouped.get(name);
            if (list === undefined) grouped.set(name, [value]);
            else list.push(value);
          }
          for (const [name, values] of grouped)
            reply.header(name, values.length === 1 ? values[0] : values);
        }
        const body = result.response.body;
        // A view, not a copy: the stored bytes are only read.
        return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      }
      if (result.token === undefined) return;
      (request as RunningRequest)[RUNNING] = captureResponse(reply.raw, idem, result.token);
    });

    fastify.addHook('onError', async (request) => {
      (request as RunningRequest)[RUNNING]?.threw();
    });
  },
  {
    // Equivalent of fastify-plugin: hooks apply to the parent instance, not a child context.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'fastifyIdempotency',
  },
);
