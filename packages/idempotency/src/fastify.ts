/**
 * Fastify 5 adapter: `app.register(fastifyIdempotency, { idempotency })`.
 * @module
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  type CaptureControl,
  captureResponse,
  checkIdempotency,
  coreRequest,
  passesThrough,
  requestHeaders,
} from './adapters/node-common.js';
import type { Idempotency, IdempotencyRequest } from './idempotency.js';

/** Options for {@link fastifyIdempotency}. */
export interface FastifyIdempotencyOptions {
  /** The server core from `createIdempotency`. */
  readonly idempotency: Idempotency;
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
    const keyHeader = idem.options.header;
    const running = new WeakMap<FastifyRequest, CaptureControl>();

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
        const grouped = new Map<string, string[]>();
        for (const [name, value] of result.response.headers) {
          const list = grouped.get(name);
          if (list === undefined) grouped.set(name, [value]);
          else list.push(value);
        }
        reply.code(result.response.status);
        for (const [name, values] of grouped)
          reply.header(name, values.length === 1 ? values[0] : values);
        const body = result.response.body;
        // A view, not a copy: the stored bytes are only read.
        return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      }
      if (result.token === undefined) return;
      running.set(request, captureResponse(reply.raw, idem, result.token));
    });

    fastify.addHook('onError', async (request) => {
      running.get(request)?.threw();
    });
  },
  {
    // Equivalent of fastify-plugin: hooks apply to the parent instance, not a child context.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'fastifyIdempotency',
  },
);
