/**
 * The middleware over real sockets on all four adapters: 429 + Retry-After + RateLimit fields
 * from the rate limit, 503 shedding from the concurrency limit, and the abort matrix: a client
 * gone before, during or after the handler (or mid-response) never leaks a permit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConcurrencyLimitPolicy, concurrencyLimit } from './concurrency-limit.js';
import { expressConcurrencyLimit, expressRateLimit } from './express.js';
import { fastifyConcurrencyLimit, fastifyRateLimit } from './fastify.js';
import { fixed } from './fixed.js';
import { gcra } from './gcra.js';
import { honoConcurrencyLimit, honoRateLimit } from './hono.js';
import { withConcurrencyLimit, withRateLimit } from './node.js';
import { type RateLimiterPolicy, rateLimiter } from './rate-limiter.js';

/** What the routes do: `/ok`, `/hold` (until released), `/throw`, `/stream` (a chunk, then held). */
class Routes {
  ran: string[] = [];
  #gates: Array<() => void> = [];
  started = 0;
  release(): void {
    for (const open of this.#gates.splice(0)) open();
  }
  async handle(route: string): Promise<{ status: number; body: string } | { stream: true }> {
    this.ran.push(route);
    this.started++;
    if (route === 'throw') throw new Error('handler failed');
    if (route === 'hold') await new Promise<void>((resolve) => this.#gates.push(resolve));
    if (route === 'stream') return { stream: true };
    return { status: 200, body: `ok ${route}` };
  }
  gate(): Promise<void> {
    return new Promise<void>((resolve) => this.#gates.push(resolve));
  }
  /** The `/stream` answer on a Node response: a first chunk, then (once released) the last. */
  async stream(res: { write(chunk: string): unknown; end(chunk: string): unknown }): Promise<void> {
    res.write('first chunk');
    await this.gate();
    res.end('last chunk');
  }
}

type Limits = { rate?: RateLimiterPolicy; concurrency?: ConcurrencyLimitPolicy };
type Start = (
  limits: Limits,
  routes: Routes,
) => Promise<{ url: string; close: () => Promise<void> }>;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function running(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  return { url: await listen(server), close: () => close(server) };
}

const tenant = (headers: Record<string, unknown>) => String(headers['x-tenant'] ?? 'anon');

const adapters: Record<string, Start> = {
  'node:http': async (limits, routes) => {
    let handler = async (
      req: import('node:http').IncomingMessage,
      res: import('node:http').ServerResponse,
    ) => {
      const route = (req.url ?? '/').slice(1);
      let answer: Awaited<ReturnType<Routes['handle']>>;
      try {
        answer = await routes.handle(route);
      } catch {
        res.statusCode = 500;
        res.end('failed');
        return;
      }
      if ('stream' in answer) {
        await routes.stream(res);
        return;
      }
      res.statusCode = answer.status;
      res.end(answer.body);
    };
    if (limits.concurrency) handler = withConcurrencyLimit(handler, limits.concurrency);
    if (limits.rate)
      handler = withRateLimit(handler, limits.rate, { key: (req) => tenant(req.headers) });
    const server = createServer((req, res) => void handler(req, res));
    return running(server);
  },
  'Express 5': async (limits, routes) => {
    const app = express();
    if (limits.rate) app.use(expressRateLimit(limits.rate, { key: (req) => tenant(req.headers) }));
    if (limits.concurrency) app.use(expressConcurrencyLimit(limits.concurrency));
    app.get('/:route', async (req, res) => {
      const answer = await routes.handle(String(req.params.route)).catch(() => undefined);
      if (answer === undefined) {
        res.status(500).send('failed');
        return;
      }
      if ('stream' in answer) {
        await routes.stream(res);
        return;
      }
      res.status(answer.status).send(answer.body);
    });
    const server = createServer(app);
    return running(server);
  },
  'Fastify 5': async (limits, routes) => {
    const app = Fastify();
    if (limits.rate) {
      await app.register(fastifyRateLimit, {
        limiter: limits.rate,
        key: (req) => tenant(req.headers),
      });
    }
    if (limits.concurrency)
      await app.register(fastifyConcurrencyLimit, { limiter: limits.concurrency });
    app.get('/:route', async (request, reply) => {
      const answer = await routes.handle((request.params as { route: string }).route);
      if ('stream' in answer) {
        reply.hijack();
        reply.raw.writeHead(200);
        await routes.stream(reply.raw);
        return reply;
      }
      return reply.code(answer.status).send(answer.body);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
  Hono: async (limits, routes) => {
    const app = new Hono();
    if (limits.rate)
      app.use('*', honoRateLimit(limits.rate, { key: (c) => c.req.header('x-tenant') ?? 'anon' }));
    if (limits.concurrency) app.use('*', honoConcurrencyLimit(limits.concurrency));
    app.get('/:route', async (c) => {
      const answer = await routes.handle(c.req.param('route'));
      if ('stream' in answer) {
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent++ === 0) controller.enqueue(new TextEncoder().encode('first chunk'));
            else {
              await routes.gate();
              controller.enqueue(new TextEncoder().encode('last chunk'));
              controller.close();
            }
          },
        });
        return new Response(stream);
      }
      return c.text(answer.body, answer.status as 200);
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((resolve) =>
      server.listening ? resolve(undefined) : server.once('listening', resolve),
    );
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => close(server) };
  },
};

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const get = (url: string, init: RequestInit = {}) =>
  fetch(url, { signal: AbortSignal.timeout(10_000), ...init });

/** GETs `url` and leaves (aborts) once `ready` holds; resolves when the request was aborted. */
async function leaveOnce(url: string, ready: () => boolean, what: string): Promise<void> {
  const client = new AbortController();
  const request = get(url, { signal: client.signal }).catch(() => 'aborted');
  await until(ready, what);
  client.abort();
  expect(await request).toBe('aborted');
}

/** Checks a refusal answered as problem+json (RFC 9457): its status, Retry-After and body. */
async function expectProblem(
  response: Response,
  retryAfter: string,
  problem: { status: number } & Record<string, unknown>,
): Promise<void> {
  expect(response.status).toBe(problem.status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('retry-after')).toBe(retryAfter);
  expect(await response.json()).toEqual(problem);
}

for (const [name, start] of Object.entries(adapters)) {
  describe(`${name} middleware`, () => {
    let stop: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await stop?.();
      stop = undefined;
    });

    it('rate limit: RateLimit fields on every response, 429 problem+json with Retry-After', async () => {
      const routes = new Routes();
      // CL.THROTTLE-style: 1 per minute, burst 1 → 2 at once; named for the fields.
      const rate = rateLimiter({ limit: gcra({ rate: 1, per: 60_000, burst: 1 }), name: 'api' });
      const server = await start({ rate }, routes);
      stop = server.close;
      const first = await get(`${server.url}/ok`);
      expect(first.status).toBe(200);
      expect(await first.text()).toBe('ok ok');
      expect(first.headers.get('ratelimit-policy')).toBe('"api";q=2;w=120');
      expect(first.headers.get('ratelimit')).toBe('"api";r=1;t=60');
      const second = await get(`${server.url}/ok`);
      expect(second.headers.get('ratelimit')).toBe('"api";r=0;t=120');
      const third = await get(`${server.url}/ok`);
      expect(third.headers.get('ratelimit-policy')).toBe('"api";q=2;w=120');
      expect(third.headers.get('ratelimit')).toBe('"api";r=0;t=60');
      await expectProblem(third, '60', {
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        title: 'Request cannot be satisfied as assigned quota has been exceeded',
        status: 429,
        detail: 'Quota of 2 exceeded; retry after 60 s.',
        'violated-policies': ['api'],
      });
      expect(routes.ran).toEqual(['ok', 'ok']); // the refused request never reached the route
      // Another key has its own limit.
      const other = await get(`${server.url}/ok`, { headers: { 'x-tenant': 'b' } });
      expect(other.status).toBe(200);
    });

    it('concurrency limit: sheds with 503 problem+json and Retry-After; the permit returns after the response', async () => {
      const routes = new Routes();
      const concurrency = concurrencyLimit({ limit: fixed(1), name: 'db' });
      const server = await start({ concurrency }, routes);
      stop = server.close;
      const held = get(`${server.url}/hold`);
      await until(() => routes.started === 1, 'the first request to start');
      const shed = await get(`${server.url}/ok`);
      await expectProblem(shed, '1', {
        type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
        title: 'Request cannot be satisfied due to temporary server capacity constraints',
        status: 503,
        detail: 'Concurrency limit of 1 reached; retry after 1 s.',
        'violated-policies': ['db'],
      });
      routes.release();
      const done = await held;
      expect(done.status).toBe(200);
      await done.text();
      await until(() => concurrency.inflight === 0, 'the permit to return');
      expect((await get(`${server.url}/ok`)).status).toBe(200);
      await until(() => concurrency.inflight === 0, 'the permit to return');
    });

    it('abort matrix: a client gone during the handler, mid-response, or after a throw leaks no permit', async () => {
      const routes = new Routes();
      const concurrency = concurrencyLimit({ limit: fixed(2) });
      const server = await start({ concurrency }, routes);
      stop = server.close;
      // During the handler: the client leaves while the route still holds.
      await leaveOnce(`${server.url}/hold`, () => routes.started === 1, 'the handler to start');
      await until(() => concurrency.inflight === 0, 'the permit of the aborted request');
      // Mid-response: the first chunk arrives, then the client leaves.
      const mid = new AbortController();
      const streamed = await get(`${server.url}/stream`, { signal: mid.signal });
      const reader = streamed.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('first chunk');
      mid.abort();
      await reader.read().catch(() => undefined);
      await until(() => concurrency.inflight === 0, 'the permit of the stream cut mid-response');
      // The route resumes after its clients left: no crash, nothing released twice.
      routes.release();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(concurrency.inflight).toBe(0);
      // A throwing handler.
      const failed = await get(`${server.url}/throw`);
      expect(failed.status).toBe(500);
      await failed.text();
      await until(() => concurrency.inflight === 0, 'the permit of the failed request');
      // After the response: a normal request, then the connection closes.
      const ok = await get(`${server.url}/ok`);
      expect(await ok.text()).toBe('ok ok');
      await until(() => concurrency.inflight === 0, 'the permit of the finished request');
      // Both permits are usable again.
      const a = get(`${server.url}/hold`);
      const b = get(`${server.url}/hold`);
      await until(() => routes.started === 6, 'two concurrent requests');
      expect(concurrency.inflight).toBe(2);
      routes.release();
      expect([(await a).status, (await b).status]).toEqual([200, 200]);
    });

    it('abort matrix: a client gone while queued never runs the handler and frees its place', async () => {
      const routes = new Routes();
      const concurrency = concurrencyLimit({ limit: fixed(1), queue: { size: 1 } });
      const server = await start({ concurrency }, routes);
      stop = server.close;
      const first = get(`${server.url}/hold`);
      await until(() => routes.started === 1, 'the first request');
      await leaveOnce(
        `${server.url}/ok`,
        () => concurrency.queued === 1,
        'the second request to queue',
      );
      await until(() => concurrency.queued === 0, 'the queue to empty');
      routes.release();
      expect((await first).status).toBe(200);
      await until(() => concurrency.inflight === 0, 'the permit');
      expect(routes.ran).toEqual(['hold']);
    });
  });
}
