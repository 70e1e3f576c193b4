import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { describe, it } from 'vitest';
import { fastifyIdempotency } from './fastify.js';
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
