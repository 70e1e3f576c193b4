/**
 * The server half of `bench:http:peers` (see `http-peers.ts`), run as a child process so that the
 * load generator never shares its event loop: one framework (Express 5 or Fastify 5), one
 * trivial `POST /orders` handler, and one idempotency middleware in front of it.
 *
 * `node http-peers-server.js '<json ServerSpec>'`. It listens on 127.0.0.1 (a free port), sends
 * `{ type: 'ready', port }` over IPC, answers `'cpu'` with its CPU time so far, and exits on
 * `'close'` (or when the parent goes away).
 *
 * The peers are driven as their docs say: express-idempotency (its route must check `isHit` and
 * return, or the handler runs on a replay too), its Redis adapter (node-redis 4); and
 * @node-idempotency/core 1.0.11 with its memory and Redis storage adapters, through a thin
 * wrapper written here that does what its upstream Express and Fastify plugins do (not published
 * on npm): `onRequest` before the handler, `onResponse` with the sent body after it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Core from '@faultline/idempotency';
import type * as ExpressAdapter from '@faultline/idempotency/express';
import type * as FastifyAdapter from '@faultline/idempotency/fastify';
import type * as RedisEntry from '@faultline/idempotency/redis';
import {
  Idempotency as NodeIdempotency,
  IdempotencyError as NodeIdempotencyError,
} from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis';
import express from 'express';
import {
  idempotency as expressIdempotencyPeer,
  getSharedIdempotencyService,
} from 'express-idempotency';
import ExpressIdempotencyRedisModule from 'express-idempotency-redis-adapter';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { serveParent } from './http-harness.js';

/** What the child serves. */
export interface ServerSpec {
  readonly framework: 'express' | 'fastify';
  readonly middleware: 'bare' | 'faultline' | 'node-idempotency' | 'express-idempotency';
  readonly store: 'memory' | 'redis';
  /**
   * Our Redis client: ioredis (default options), ioredis with autopipelining, node-redis 6
   * (default options, or without its per-command timeout), or node-redis 4 (the peer's client).
   */
  readonly client?: 'ioredis' | 'ioredis-ap' | 'node-redis' | 'node-redis-nt' | 'node-redis4';
  readonly redisUrl?: string;
  /**
   * Our package from another build (`--base <dir>` of `http-peers.ts`: a `dist/` directory of
   * an earlier commit), for a before/after comparison in the same interleaved rounds.
   */
  readonly dist?: string;
}

/** One of our entry points, from the workspace package or from `spec.dist`. */
function ours<T>(entry: '' | 'redis' | 'express' | 'fastify'): Promise<T> {
  if (spec.dist === undefined) {
    return import(entry === '' ? '@faultline/idempotency' : `@faultline/idempotency/${entry}`);
  }
  const file = entry === '' ? 'index' : entry;
  return import(pathToFileURL(join(spec.dist, `${file}.js`)).href);
}

// CommonJS without types: `exports.default = RedisAdapter`.
type ExpressIdempotencyRedis = {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
};
const ExpressIdempotencyRedis = (
  ExpressIdempotencyRedisModule as unknown as {
    default: new (options: { connectionConfig: { url: string } }) => ExpressIdempotencyRedis;
  }
).default;

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
const closers: Array<() => Promise<unknown> | unknown> = [];

// The handler every configuration runs: a small JSON answer, like the Fastify bench's.
const ANSWER = { id: 1, status: 'created' };

async function faultlineCore(): Promise<Core.Idempotency> {
  const core = await ours<typeof Core>('');
  let store: Core.Store;
  if (spec.store === 'redis') {
    const { redisStore } = await ours<typeof RedisEntry>('redis');
    if (spec.client === 'node-redis4') {
      // The very client @node-idempotency uses (node-redis 4, through its storage adapter):
      // the same client on both sides.
      const storage = new RedisStorageAdapter({ url: spec.redisUrl! });
      await storage.connect();
      closers.push(() => storage.disconnect());
      const client = (storage as unknown as { client: Parameters<typeof redisStore>[0]['client'] })
        .client;
      store = redisStore({ client, prefix: 'bench:faultline:' });
    } else if (spec.client === 'node-redis' || spec.client === 'node-redis-nt') {
      // node-redis 5+ arms an AbortSignal.timeout per command (default 5 s); 'node-redis-nt'
      // turns it off (the store bounds every call by storeTimeout itself).
      const client = createClient({
        url: spec.redisUrl!,
        ...(spec.client === 'node-redis-nt' ? { commandOptions: { timeout: 0 } } : {}),
      });
      client.on('error', () => {});
      await client.connect();
      closers.push(() => client.close());
      store = redisStore({ client, prefix: 'bench:faultline:' });
    } else {
      const client = new Redis(spec.redisUrl!, {
        lazyConnect: true,
        enableAutoPipelining: spec.client === 'ioredis-ap',
      });
      await client.connect();
      closers.push(() => client.disconnect());
      store = redisStore({ client, prefix: 'bench:faultline:' });
    }
  } else {
    // Sized for a 10 s run of fresh keys: the store refuses new keys rather than evict live ones.
    store = core.memoryStore({ maxEntries: 4_000_000 });
  }
  // A constant scope: production code passes the principal; the bench is about the middleware.
  return core.createIdempotency({ store, scope: () => 'bench-tenant' });
}

async function nodeIdempotencyCore(): Promise<NodeIdempotency> {
  if (spec.store === 'redis') {
    const storage = new RedisStorageAdapter({ url: spec.redisUrl! });
    await storage.connect();
    closers.push(() => storage.disconnect());
    return new NodeIdempotency(storage, { cacheKeyPrefix: 'bench:node-idempotency' });
  }
  return new NodeIdempotency(new MemoryStorageAdapter(), {
    cacheKeyPrefix: 'bench:node-idempotency',
  });
}

/** @node-idempotency's error codes → HTTP status, as its upstream plugins map them. */
function nodeIdempotencyStatus(error: NodeIdempotencyError): number {
  switch (String(error.code)) {
    case 'REQUEST_IN_PROGRESS':
      return 409;
    case 'IDEMPOTENCY_FINGERPRINT_MISSMATCH':
      return 422;
    default:
      return 400;
  }
}

async function expressApp(): Promise<express.Express> {
  const app = express();
  app.use(express.json());
  if (spec.middleware === 'faultline') {
    const { expressIdempotency } = await ours<typeof ExpressAdapter>('express');
    app.use(expressIdempotency(await faultlineCore()));
  } else if (spec.middleware === 'node-idempotency') {
    const peer = await nodeIdempotencyCore();
    // A thin wrapper doing what the upstream Express plugin does.
    app.use(async (req, res, next) => {
      const params = { headers: req.headers, body: req.body, path: req.url, method: req.method };
      try {
        const cached = await peer.onRequest(params);
        if (cached === undefined) {
          const send = res.send.bind(res);
          res.send = (body?: unknown) => {
            void peer
              .onResponse(params, {
                additional: { statusCode: res.statusCode },
                body: typeof body === 'string' ? JSON.parse(body) : body,
              })
              .catch(() => {});
            return send(body);
          };
          next();
          return;
        }
        res.status(Number(cached.additional?.statusCode ?? 200));
        res.setHeader('idempotent-replayed', 'true');
        res.send(cached.body);
      } catch (error) {
        if (error instanceof NodeIdempotencyError) {
          res.status(nodeIdempotencyStatus(error)).send({ error: error.message });
        } else {
          next(error);
        }
      }
    });
  } else if (spec.middleware === 'express-idempotency') {
    let dataAdapter: ExpressIdempotencyRedis | undefined;
    if (spec.store === 'redis') {
      dataAdapter = new ExpressIdempotencyRedis({ connectionConfig: { url: spec.redisUrl! } });
      await dataAdapter.connect();
      closers.push(() => dataAdapter?.disconnect());
    }
    app.use(
      expressIdempotencyPeer(
        dataAdapter === undefined
          ? {}
          : ({ dataAdapter } as unknown as Parameters<typeof expressIdempotencyPeer>[0]),
      ),
    );
  }
  app.post('/orders', (req, res) => {
    // express-idempotency answers a replay itself and still calls next(): its docs have the
    // route check isHit and return.
    if (spec.middleware === 'express-idempotency' && getSharedIdempotencyService().isHit(req)) {
      return;
    }
    res.json(ANSWER);
  });
  return app;
}

async function fastifyApp() {
  const app = Fastify({ logger: false });
  if (spec.middleware === 'faultline') {
    const { fastifyIdempotency } = await ours<typeof FastifyAdapter>('fastify');
    await app.register(fastifyIdempotency, { idempotency: await faultlineCore() });
  } else if (spec.middleware === 'node-idempotency') {
    const peer = await nodeIdempotencyCore();
    const paramsOf = (request: { headers: unknown; body: unknown; url: string; method: string }) =>
      ({
        headers: request.headers,
        body: request.body,
        path: request.url,
        method: request.method,
      }) as Parameters<NodeIdempotency['onRequest']>[0];
    // A thin wrapper doing what the upstream Fastify plugin does: onRequest in preHandler,
    // onResponse (awaited) in onSend.
    app.addHook('preHandler', async (request, reply) => {
      try {
        const cached = await peer.onRequest(paramsOf(request));
        if (cached === undefined) return;
        reply.status(Number(cached.additional?.statusCode ?? 200));
        reply.header('idempotent-replayed', 'true');
        return reply.send(cached.body);
      } catch (error) {
        if (error instanceof NodeIdempotencyError) {
          return reply.status(nodeIdempotencyStatus(error)).send({ error: error.message });
        }
        throw error;
      }
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.getHeader('idempotent-replayed') === 'true') return payload;
      await peer.onResponse(paramsOf(request), {
        additional: { statusCode: reply.statusCode },
        body: payload as never,
      });
      return payload;
    });
  }
  app.post('/orders', async () => ANSWER);
  return app;
}

let port: number;
if (spec.framework === 'express') {
  const server = createServer(
    (await expressApp()) as unknown as (req: IncomingMessage, res: ServerResponse) => void,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
} else {
  const app = await fastifyApp();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  closers.push(() => app.close());
}

serveParent(port, async () => {
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
});
