import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deleteKeys, serviceUrl } from '@faultline/test-support';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, it } from 'vitest';
import { expressIdempotency } from './express.js';
import { fastifyIdempotency } from './fastify.js';
import { honoIdempotency } from './hono.js';
import { withIdempotency } from './node.js';
import { postgresStore } from './postgres.js';
import { redisStore } from './redis.js';
import { memoryStore } from './stores/memory.js';
import {
  type AbortPhase,
  type Behaviour,
  describeAbortMatrix,
  type MatrixControl,
  type StartMatrixServer,
} from './testing/abort-matrix.js';
import { closeServer, running } from './testing/http-scenarios.js';

const never = (): Promise<never> => new Promise<never>(() => {});

/**
 * The route's abort point: waits until the matrix lets it go on, then does what the case says:
 * throws `failure`, hangs for good, or returns (the route finishes).
 */
async function proceed(
  control: MatrixControl,
  key: string,
  behaviour: Behaviour,
  failure = 'handler failed',
): Promise<void> {
  await control.proceed(key);
  if (behaviour === 'throw') throw new Error(failure);
  if (behaviour === 'hang') await never();
}

function parse(headers: IncomingMessage['headers'], url: string | undefined) {
  return {
    key: String(headers['idempotency-key']),
    behaviour: String(headers['x-behaviour']) as Behaviour,
    mode: (url ?? '').split('?')[0]!.split('/')[2],
  };
}

/** A Node stream yielding `first|`, then (after `proceed`) `second|third|`, erroring or hanging. */
function nodeSource(key: string, behaviour: Behaviour, control: MatrixControl): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from('first|');
      await proceed(control, key, behaviour, 'stream failed');
      yield Buffer.from('second|');
      yield Buffer.from('third|');
    })(),
  );
}

/** The node:http and Express route body (same `res` API). */
async function nodeRoute(
  req: IncomingMessage,
  res: ServerResponse,
  control: MatrixControl,
): Promise<void> {
  const { key, behaviour, mode } = parse(req.headers, req.url);
  control.started(key);
  if (mode === 'plain') {
    await proceed(control, key, behaviour);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key }));
  } else if (mode === 'written') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first|');
    await proceed(control, key, behaviour);
    res.write('second|');
    res.write('third|');
    res.end();
  } else {
    res.writeHead(200, { 'content-type': 'text/plain' });
    await pipeline(nodeSource(key, behaviour, control), res);
  }
}

const startNode: StartMatrixServer = async (idempotency, control) => {
  // Wired exactly as the README shows: the adapter's promise goes nowhere.
  const server = createServer(
    withIdempotency(async (req, res) => {
      for await (const _ of req) {
        // Read the replayed body, as a handler would.
      }
      await nodeRoute(req, res, control);
    }, idempotency),
  );
  return running(server);
};

const startExpress: StartMatrixServer = async (idempotency, control) => {
  const app = express();
  app.use(express.json());
  app.use(expressIdempotency(idempotency));
  app.post('/m/:mode', async (req, res) => {
    await nodeRoute(req, res, control);
  });
  const server = createServer(app);
  return running(server);
};

const startFastify: StartMatrixServer = async (idempotency, control) => {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(fastifyIdempotency, { idempotency });
  app.post('/m/:mode', async (request, reply) => {
    const { key, behaviour, mode } = parse(request.headers, request.url);
    control.started(key);
    if (mode === 'plain') {
      await proceed(control, key, behaviour);
      return reply.code(201).send({ key });
    }
    if (mode === 'written') {
      // Fastify's idiom for writing a response yourself (server-sent events and the like).
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.write('first|');
      await proceed(control, key, behaviour);
      reply.raw.write('second|');
      reply.raw.write('third|');
      reply.raw.end();
      return reply;
    }
    return reply.header('content-type', 'text/plain').send(nodeSource(key, behaviour, control));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
};

const encoder = new TextEncoder();

const startHono: StartMatrixServer = async (idempotency, control) => {
  const app = new Hono();
  app.use('*', honoIdempotency(idempotency));
  app.post('/m/:mode', async (c) => {
    const key = c.req.header('idempotency-key') ?? '';
    const behaviour = c.req.header('x-behaviour') as Behaviour;
    const mode = c.req.param('mode');
    await c.req.json();
    control.started(key);
    if (mode === 'plain') {
      await proceed(control, key, behaviour);
      return c.json({ key }, 201);
    }
    if (mode === 'written') {
      // A writer loop, as hono/streaming's `stream()` does.
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      void (async () => {
        try {
          await writer.write(encoder.encode('first|'));
          await proceed(control, key, behaviour);
          await writer.write(encoder.encode('second|'));
          await writer.write(encoder.encode('third|'));
          await writer.close();
        } catch (error) {
          await writer.abort(error).catch(() => {});
        }
      })();
      return new Response(readable, { status: 200, headers: { 'content-type': 'text/plain' } });
    }
    let step = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        step++;
        if (step === 1) {
          controller.enqueue(encoder.encode('first|'));
          return;
        }
        await proceed(control, key, behaviour, 'stream failed');
        controller.enqueue(encoder.encode('second|'));
        controller.enqueue(encoder.encode('third|'));
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/plain' } });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(s as Server),
    );
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
};

const api = { describe, it };

describeAbortMatrix('node:http, memory store', startNode, { store: () => memoryStore() }, api);
describeAbortMatrix('Express 5, memory store', startExpress, { store: () => memoryStore() }, api);
describeAbortMatrix('Fastify 5, memory store', startFastify, { store: () => memoryStore() }, api);
describeAbortMatrix(
  'Hono, memory store',
  startHono,
  { store: () => memoryStore(), streamCut: 'replay' },
  api,
);

// The core cases on the shared stores: a cut mid-body, during the handler (ok and hung) and
// mid-response, each on its own unique key prefix / table.
const corePhases: readonly AbortPhase[] = [
  'mid-body',
  'in-handler',
  'mid-response-written',
  'mid-response-stream',
];
const coreBehaviours: readonly Behaviour[] = ['ok', 'hang'];
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

const redisUrl = await serviceUrl('redis');
describe.skipIf(redisUrl === undefined)('abort matrix on Redis', () => {
  const prefix = `faultline:test:matrix:${run}:`;
  let client: Redis | undefined;
  for (const [name, start] of [
    ['node:http', startNode],
    ['Fastify 5', startFastify],
  ] as const) {
    describeAbortMatrix(
      `${name}, Redis store`,
      start,
      {
        store: async () => {
          client ??= new Redis(redisUrl!, { lazyConnect: true });
          if (client.status === 'wait') await client.connect();
          return redisStore({ client, prefix });
        },
        phases: corePhases,
        behaviours: coreBehaviours,
        cleanup: () => deleteKeys(client!, [`${prefix}*`]),
      },
      api,
    );
  }
  it('closes its client', () => {
    client?.disconnect();
  });
});

const databaseUrl = await serviceUrl('postgres');
describe.skipIf(databaseUrl === undefined)('abort matrix on PostgreSQL', () => {
  const table = `fl_idem_matrix_${run}`;
  let pool: pg.Pool | undefined;
  for (const [name, start] of [
    ['Express 5', startExpress],
    ['Hono', startHono],
  ] as const) {
    describeAbortMatrix(
      `${name}, PostgreSQL store`,
      start,
      {
        store: () => {
          pool ??= new pg.Pool({ connectionString: databaseUrl!, max: 4 });
          pool.on('error', () => {});
          return postgresStore({ pool, table });
        },
        phases: corePhases,
        behaviours: coreBehaviours,
        streamCut: name === 'Hono' ? 'replay' : 'unavailable',
      },
      api,
    );
  }
  it('drops its table', async () => {
    await pool?.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool?.end();
  });
});
