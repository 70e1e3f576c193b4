import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  freePort,
  requireBinary,
  serviceUrl,
  startRedisServer,
  type ThrowawayRedis,
} from '@faultline/test-support';
import { Redis } from 'ioredis';
import pg, { type Pool } from 'pg';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLease } from '../lease.js';
import { LeaseExpiredError, LeaseStoreTimeoutError } from '../lease-errors.js';
import type { LeaseStore } from '../lease-store.js';
import { postgresLeaseStore } from './postgres.js';
import { redisLeaseStore } from './redis.js';

// The store unavailable. Redis: a throwaway redis-server of this file's own, frozen (SIGSTOP: the
// connection stays up, nothing answers) or killed. PostgreSQL: a pool on a closed port, and a
// pool through a TCP proxy of this file's own that stops forwarding (nothing of the shared server
// is paused). In each case an acquire fails with a clear error within the lease's storeTimeout,
// and a held lease whose renewals fail aborts its signal when its local validity ends (its
// expiry timer; `remaining()` is 0 from that instant whatever the event loop does).

const hasRedisServer = requireBinary('redis-server');
const postgresUrl = await serviceUrl('postgres');
const TTL = 1_000;
const MARGIN = 100;
const STORE_TIMEOUT = 300;
const VALIDITY = TTL * 0.999 - MARGIN;
// A deadline is observed late by however late this process's timers fire (the expiry timer, the
// storeTimeout timer), which on this shared 2-core machine under a full test run is up to
// hundreds of ms. So each bound is the deadline plus the worst lateness of a 10 ms probe timer
// during the test (measured, printed) plus 25 ms for the promise chain and the socket.
function latenessProbe() {
  let worst = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + 10;
  }, 10);
  return {
    /** The allowance over a deadline: worst lateness so far + 25 ms. */
    slack: () => worst + 25,
    worst: () => worst,
    stop: () => clearInterval(timer),
  };
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let probe: ReturnType<typeof latenessProbe>;
beforeEach(() => {
  probe = latenessProbe();
});
afterEach(() => probe.stop());

const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.info(`[lease store outage]\n  ${figures.join('\n  ')}`);
});

function lease(store: LeaseStore, resource: string) {
  return createLease({
    store,
    resource,
    ttl: TTL,
    safetyMargin: MARGIN,
    storeTimeout: STORE_TIMEOUT,
  });
}

/** An acquire that must fail: returns the error and how long it took. */
async function failedAcquire(store: LeaseStore, resource: string) {
  const started = performance.now();
  const error = await lease(store, resource)
    .acquire()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  return { error, ms: performance.now() - started };
}

/**
 * Acquires with keep-alive, then breaks the store with `outage`: the signal must abort with
 * `LeaseExpiredError` when the local validity ends. Returns ms from the acquire's start to abort.
 */
async function heldThroughOutage(store: LeaseStore, resource: string, outage: () => void) {
  const started = performance.now();
  const held = await lease(store, resource).acquire();
  const stop = held.keepAlive({ every: 200 });
  outage();
  const reason = await new Promise<unknown>((resolve) => {
    held.signal.addEventListener('abort', () => resolve(held.signal.reason), { once: true });
  });
  const abortedAfter = performance.now() - started;
  expect(reason).toBeInstanceOf(LeaseExpiredError);
  expect(held.remaining()).toBe(0);
  stop();
  return abortedAfter;
}

describe.skipIf(!hasRedisServer)('redisLeaseStore with Redis unavailable', () => {
  let server: ThrowawayRedis;

  beforeAll(async () => {
    server = await startRedisServer();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  const kinds = [
    {
      kind: 'ioredis',
      async make(url: string) {
        const client = new Redis(url, { maxRetriesPerRequest: null });
        client.on('error', () => {});
        await client.ping();
        return { client, close: () => client.disconnect() };
      },
    },
    {
      kind: 'node-redis',
      async make(url: string) {
        const client = createClient({ url });
        client.on('error', () => {});
        await client.connect();
        return { client, close: () => void client.destroy() };
      },
    },
  ] as const;

  for (const { kind, make } of kinds) {
    it(`frozen (SIGSTOP): acquire times out, a held lease aborts at its validity (${kind})`, async () => {
      const { client, close } = await make(server.url);
      try {
        const store = redisLeaseStore({ client, prefix: `outage:${kind}:` });
        const abortedAfter = await heldThroughOutage(store, 'held', () =>
          process.kill(server.pid, 'SIGSTOP'),
        );
        const { error, ms } = await failedAcquire(store, 'fresh');
        process.kill(server.pid, 'SIGCONT');
        expect(error).toBeInstanceOf(LeaseStoreTimeoutError);
        expect((error as Error).message).toMatch(
          /lease store acquire for "fresh" did not answer within storeTimeout 300 ms/,
        );
        expect(ms).toBeLessThan(STORE_TIMEOUT + probe.slack());
        expect(abortedAfter).toBeLessThan(VALIDITY + probe.slack());
        figures.push(
          `redis ${kind} SIGSTOP: acquire rejected after ${ms.toFixed(0)} ms (storeTimeout ${STORE_TIMEOUT}); held lease aborted ${abortedAfter.toFixed(0)} ms after its acquire started (local validity ${VALIDITY.toFixed(0)} ms); worst timer lateness ${probe.worst().toFixed(0)} ms`,
        );
        // Running again: the lease is usable at once.
        const held = await lease(store, 'after').acquire();
        await held.release();
      } finally {
        process.kill(server.pid, 'SIGCONT');
        close();
      }
    }, 20_000);

    it(`killed: acquire fails within storeTimeout; after a restart tokens still increase (${kind})`, async () => {
      const { client, close } = await make(server.url);
      try {
        const store = redisLeaseStore({ client, prefix: `outage:${kind}:` });
        const before = await lease(store, 'killed').acquire();
        await before.release();
        let abortedAfter = 0;
        const stopped = heldThroughOutage(store, 'held-killed', () => {
          void server.stop();
        }).then((ms) => {
          abortedAfter = ms;
        });
        await stopped;
        const { error, ms } = await failedAcquire(store, 'killed');
        expect(error).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(STORE_TIMEOUT + probe.slack());
        expect(abortedAfter).toBeLessThan(VALIDITY + probe.slack());
        figures.push(
          `redis ${kind} killed: acquire rejected after ${ms.toFixed(0)} ms with ${(error as Error).name}: ${(error as Error).message}; held lease aborted ${abortedAfter.toFixed(0)} ms after its acquire started; worst timer lateness ${probe.worst().toFixed(0)} ms`,
        );
        await server.restart();
        let after: bigint | undefined;
        for (let i = 0; i < 100 && after === undefined; i++) {
          try {
            const held = await lease(store, 'killed').acquire({ wait: 2_000 });
            after = held.token;
            await held.release();
          } catch {
            await sleep(50); // the client reconnecting
          }
        }
        expect(after).toBeGreaterThan(before.token);
      } finally {
        close();
      }
    }, 30_000);
  }
});

/**
 * A loopback TCP proxy that can stop forwarding, both ways, on every connection it carries, open
 * or opened later: a database that accepts connections and never answers.
 */
async function stallableProxy(target: URL) {
  const sockets = new Set<Socket>();
  let stalled = false;
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    const forward = (from: Socket, to: Socket): void => {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (!stalled) to.write(chunk); // stalled: dropped, as a black hole would
      });
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
      from.on('error', () => to.destroy());
    };
    forward(inbound, outbound);
    forward(outbound, inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    stall() {
      stalled = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.skipIf(postgresUrl === undefined)('postgresLeaseStore with PostgreSQL unavailable', () => {
  const table = `fl_outage_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let admin: Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: postgresUrl!, max: 1 });
    admin.on('error', () => {});
    await postgresLeaseStore({ pool: admin, table }).ensureTable();
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin.end();
  });

  it('a pool on a closed port: acquire fails at once with the connection error', async () => {
    const closed = new URL(postgresUrl!);
    closed.hostname = '127.0.0.1';
    closed.port = String(await freePort());
    const pool = new pg.Pool({ connectionString: closed.href, max: 1 });
    pool.on('error', () => {});
    try {
      const { error, ms } = await failedAcquire(postgresLeaseStore({ pool, table }), 'closed');
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
      expect(ms).toBeLessThan(STORE_TIMEOUT + probe.slack());
      figures.push(
        `postgres closed port: acquire rejected after ${ms.toFixed(0)} ms: ${(error as Error).message}; worst timer lateness ${probe.worst().toFixed(0)} ms`,
      );
    } finally {
      await pool.end();
    }
  });

  it('a stalled connection: acquire times out, a held lease aborts at its validity', async () => {
    const proxy = await stallableProxy(new URL(postgresUrl!));
    const proxied = new URL(postgresUrl!);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const pool = new pg.Pool({ connectionString: proxied.href, max: 2 });
    pool.on('error', () => {});
    try {
      const store = postgresLeaseStore({ pool, table, createTable: false });
      await pool.query('SELECT 1'); // both directions of one connection open before the stall
      const abortedAfter = await heldThroughOutage(store, 'held', () => proxy.stall());
      const { error, ms } = await failedAcquire(store, 'fresh');
      expect(error).toBeInstanceOf(LeaseStoreTimeoutError);
      expect(ms).toBeLessThan(STORE_TIMEOUT + probe.slack());
      expect(abortedAfter).toBeLessThan(VALIDITY + probe.slack());
      figures.push(
        `postgres stalled proxy: acquire rejected after ${ms.toFixed(0)} ms (storeTimeout ${STORE_TIMEOUT}); held lease aborted ${abortedAfter.toFixed(0)} ms after its acquire started (local validity ${VALIDITY.toFixed(0)} ms); worst timer lateness ${probe.worst().toFixed(0)} ms`,
      );
    } finally {
      await proxy.close();
      await pool.end().catch(() => {});
    }
  }, 20_000);
});
