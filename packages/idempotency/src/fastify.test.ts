import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fastifyIdempotency } from './fastify.js';
import { createIdempotency } from './idempotency.js';
import { memoryStore } from './stores/memory.js';
import { assertCutResponseUnavailable, slowParts } from './testing/abort-matrix.js';
import { describeHttpScenarios } from './testing/http-scenarios.js';

describeHttpScenarios(
  'Fastify 5',
  async (idempotency, routes) => {
    const app = Fastify({ forceCloseConnections: true });
    await app.register(fastifyIdempotency, { idempotency });
    app.all('/:route', async (request, reply) => {
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      const { route } = request.params as { route: string };
      const answer = await routes.handle(route, request.body, query);
      reply.code(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
      if ('stream' in answer) return reply.send(Readable.from(answer.stream));
      return reply.send(Buffer.from(answer.body));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  { describe, it },
);

describe('fastifyIdempotency specifics', () => {
  it('a throw mapped to 4xx by an error handler still releases the key (onError)', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = Fastify({ forceCloseConnections: true });
    await app.register(fastifyIdempotency, { idempotency });
    app.setErrorHandler((_error, _request, reply) => {
      void reply.code(400).send({ error: 'mapped' });
    });
    let calls = 0;
    app.post('/boom', async () => {
      calls++;
      throw new Error('boom');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const post = () =>
        fetch(`http://127.0.0.1:${port}/boom`, {
          method: 'POST',
          headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(10_000),
        });
      expect((await post()).status).toBe(400);
      // The release is written just after the response; a retry soon executes again.
      for (let i = 0; i < 500 && calls < 2; i++) {
        const reply = await post();
        expect(reply.headers.get('idempotent-replayed')).toBeNull();
        if (calls < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(calls).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('rejects a missing idempotency option when the plugin loads', async () => {
    const app = Fastify();
    await expect(app.register(fastifyIdempotency, {} as never).ready()).rejects.toThrow(TypeError);
  });
});

describe('fastifyIdempotency: a client that leaves mid-response (issue 14, item 3)', () => {
  it('item 3: reply.send(stream) cut by the client: the retry gets 410 RESPONSE_UNAVAILABLE, never a second execution', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u', lockTtl: 600 });
    const app = Fastify({ forceCloseConnections: true });
    await app.register(fastifyIdempotency, { idempotency });
    let calls = 0;
    app.post('/stream', async (_request, reply) => {
      calls++;
      return reply.header('content-type', 'text/plain').send(slowParts());
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    try {
      await assertCutResponseUnavailable(url, '/stream', () => calls);
    } finally {
      await app.close();
    }
  });
});
