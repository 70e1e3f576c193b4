import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, startRedisServer, type ThrowawayRedis } from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotency } from '../idempotency.js';
import { withIdempotency } from '../node.js';
import { type RedisStore, redisStore } from './redis.js';

// Store outages on a throwaway redis-server owned by this file (never the shared one): paused
// (CLIENT PAUSE), frozen (SIGSTOP: the TCP connection stays up, nothing answers) and killed then
// restarted. Requests must get the fail-closed 503 within the core's storeTimeout (no hang), and
// after recovery every key executes exactly once.

const hasRedisServer = requireBinary('redis-server');
const STORE_TIMEOUT = 300;
// A request blocked on the store answers by STORE_TIMEOUT; the slack covers a loaded machine.
const FAST = STORE_TIMEOUT + 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reply {
  readonly status: number;
  readonly replayed: boolean;
  readonly elapsed: number;
}

interface App {
  readonly url: string;
  readonly executions: Map<string, number>;
  close(): Promise<void>;
}

async function startApp(store: RedisStore): Promise<App> {
  const idempotency = createIdempotency({
    store,
    scope: () => 'outage',
    storeTimeout: STORE_TIMEOUT,
    lockTtl: 2_000,
  });
  const executions = new Map<string, number>();
  const handler = withIdempotency((req, res) => {
    const key = String(req.headers['idempotency-key']);
    executions.set(key, (executions.get(key) ?? 0) + 1);
    res.writeHead(201, { 'content-type': 'text/plain' });
    res.end(key);
  }, idempotency);
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    executions,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function post(app: App, key: string): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${app.url}/pay`, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'text/plain' },
    body: 'amount=10',
    signal: AbortSignal.timeout(10_000), // never hang the test, whatever the server does
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    elapsed: performance.now() - started,
  };
}

/** After recovery: retries (a late claim may hold the key until released) until not 409/503. */
async function settle(app: App, key: string): Promise<Reply> {
  for (let i = 0; i < 200; i++) {
    const reply = await post(app, key);
    if (reply.status !== 409 && reply.status !== 503) return reply;
    await sleep(25);
  }
  throw new Error(`${key} did not recover`);
}

const failClosedMs: number[] = [];

async function expectFailClosed(app: App, keys: readonly string[]): Promise<void> {
  const replies = await Promise.all(keys.map((key) => post(app, key)));
  for (const reply of replies) {
    expect(reply.status).toBe(503);
    expect(reply.elapsed).toBeLessThan(FAST);
    failClosedMs.push(Math.round(reply.elapsed));
  }
}

afterAll(() => {
  console.info(`[redis outage] fail-closed 503 latencies (ms): ${failClosedMs.join(', ')}`);
});

type Client = { kind: string; make(url: string): Promise<{ store: RedisStore; close(): void }> };

const clients: Client[] = [
  {
    kind: 'ioredis',
    async make(url) {
      const client = new Redis(url, { lazyConnect: true });
      client.on('error', () => {});
      await client.connect();
      return { store: redisStore({ client }), close: () => client.disconnect() };
    },
  },
  {
    kind: 'node-redis',
    async make(url) {
      const client = createClient({ url });
      client.on('error', () => {});
      await client.connect();
      return { store: redisStore({ client }), close: () => void client.destroy() };
    },
  },
];

for (const { kind, make } of clients) {
  describe.skipIf(!hasRedisServer)(`redisStore outage (${kind})`, () => {
    let server: ThrowawayRedis;
    let dir: string;
    let admin: Redis;
    let connection: { store: RedisStore; close(): void };
    let app: App;

    beforeAll(async () => {
      // AOF with fsync always: completed records survive the kill/restart below, as they would
      // on a production Redis with persistence.
      dir = mkdtempSync(join(tmpdir(), 'fl-redis-'));
      server = await startRedisServer([
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ]);
      admin = new Redis(server.url, { maxRetriesPerRequest: null });
      admin.on('error', () => {});
      connection = await make(server.url);
      app = await startApp(connection.store);
    }, 30_000);

    afterAll(async () => {
      await app?.close();
      connection?.close();
      admin?.disconnect();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('CLIENT PAUSE: 503 within storeTimeout, then every key executes exactly once', async () => {
      expect(await post(app, 'p-done')).toMatchObject({ status: 201, replayed: false });
      await admin.client('PAUSE', 1_500, 'ALL'); // CLIENT UNPAUSE would be paused too: it lapses
      await expectFailClosed(app, ['p-done', 'p-new', 'p-new']);
      expect(app.executions.get('p-new')).toBeUndefined();
      expect(await settle(app, 'p-new')).toMatchObject({ status: 201, replayed: false });
      expect(await settle(app, 'p-new')).toMatchObject({ status: 201, replayed: true });
      expect(await settle(app, 'p-done')).toMatchObject({ status: 201, replayed: true });
      expect(app.executions.get('p-done')).toBe(1);
      expect(app.executions.get('p-new')).toBe(1);
    }, 30_000);

    it('redis-server frozen (SIGSTOP): 503 within storeTimeout, then exactly once after SIGCONT', async () => {
      expect(await post(app, 's-done')).toMatchObject({ status: 201, replayed: false });
      process.kill(server.pid, 'SIGSTOP');
      try {
        await expectFailClosed(app, ['s-done', 's-new', 's-new']);
      } finally {
        process.kill(server.pid, 'SIGCONT');
      }
      expect(app.executions.get('s-new')).toBeUndefined();
      expect(await settle(app, 's-new')).toMatchObject({ status: 201, replayed: false });
      expect(await settle(app, 's-new')).toMatchObject({ status: 201, replayed: true });
      expect(await settle(app, 's-done')).toMatchObject({ status: 201, replayed: true });
      expect(app.executions.get('s-done')).toBe(1);
      expect(app.executions.get('s-new')).toBe(1);
    }, 30_000);

    it('redis-server killed: 503 within storeTimeout while down, exactly once after restart', async () => {
      expect(await post(app, 'k-done')).toMatchObject({ status: 201, replayed: false });
      await server.stop();
      await expectFailClosed(app, ['k-done', 'k-new', 'k-new']);
      await sleep(200);
      await expectFailClosed(app, ['k-new']);
      expect(app.executions.get('k-new')).toBeUndefined();
      await server.restart();
      expect(await settle(app, 'k-done')).toMatchObject({ status: 201, replayed: true });
      expect(await settle(app, 'k-new')).toMatchObject({ status: 201, replayed: false });
      expect(await settle(app, 'k-new')).toMatchObject({ status: 201, replayed: true });
      expect(app.executions.get('k-done')).toBe(1);
      expect(app.executions.get('k-new')).toBe(1);
    }, 30_000);
  });
}
