import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, startRedisServer, type ThrowawayRedis } from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExactlyOnce,
  assertFailClosed,
  type OutageApp,
  post,
  startOutageApp,
} from '../testing/outage-app.js';
import { type RedisStore, redisStore } from './redis.js';

// Store outages on a throwaway redis-server owned by this file (never the shared one): paused
// (CLIENT PAUSE), frozen (SIGSTOP: the TCP connection stays up, nothing answers) and killed then
// restarted. Requests must get the fail-closed 503 within the core's storeTimeout (no hang), and
// after recovery every key executes exactly once.

const hasRedisServer = requireBinary('redis-server');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const failClosedMs: number[] = [];
const expectFailClosed = (app: OutageApp, keys: readonly string[]) =>
  assertFailClosed(app, keys, failClosedMs);

const expectExactlyOnce = (app: OutageApp, done: string, fresh: string) =>
  assertExactlyOnce(app, done, fresh, 200);

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
    let app: OutageApp;

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
      app = await startOutageApp(connection.store);
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
      await expectExactlyOnce(app, 'p-done', 'p-new');
    }, 30_000);

    it('redis-server frozen (SIGSTOP): 503 within storeTimeout, then exactly once after SIGCONT', async () => {
      expect(await post(app, 's-done')).toMatchObject({ status: 201, replayed: false });
      process.kill(server.pid, 'SIGSTOP');
      try {
        await expectFailClosed(app, ['s-done', 's-new', 's-new']);
      } finally {
        process.kill(server.pid, 'SIGCONT');
      }
      await expectExactlyOnce(app, 's-done', 's-new');
    }, 30_000);

    it('redis-server killed: 503 within storeTimeout while down, exactly once after restart', async () => {
      expect(await post(app, 'k-done')).toMatchObject({ status: 201, replayed: false });
      await server.stop();
      await expectFailClosed(app, ['k-done', 'k-new', 'k-new']);
      await sleep(200);
      await expectFailClosed(app, ['k-new']);
      expect(app.executions.get('k-new')).toBeUndefined();
      await server.restart();
      await expectExactlyOnce(app, 'k-done', 'k-new');
    }, 30_000);
  });
}
