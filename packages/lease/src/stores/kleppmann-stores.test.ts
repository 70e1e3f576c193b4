import { systemClock } from '@faultline/clock';
import { serviceUrl } from '@faultline/test-support';
import { Redis } from 'ioredis';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLease } from '../lease.js';
import { FencedOutError, LeaseExpiredError } from '../lease-errors.js';
import type { LeaseStore } from '../lease-store.js';
import { PausableClock } from '../testing/clocks.js';
import { postgresLeaseStore } from './postgres.js';
import { fencedTransaction } from './postgres-fence.js';
import { redisLeaseStore } from './redis.js';
import { fencedGet, fencedSet } from './redis-fence.js';

// Kleppmann's figure ("How to do distributed locking", 2016) with the real stores and fences, in
// one process on real time: client 1 gets the lease (token 33 in the figure), keeps it alive, and
// pauses (its timers stop: no renewal, no expiry check) past the ttl; the store lets the lease
// expire on its own clock; client 2 gets the next token (34) and does a fenced read-modify-write;
// client 1 resumes: its signal is aborted (LeaseExpiredError, the pause) and its write with the
// old token is rejected by the storage (FencedOutError). On PostgreSQL the two tokens are
// consecutive; on Redis the second is greater by at least the time passed in µs (see the store).

const redisUrl = await serviceUrl('redis');
const postgresUrl = await serviceUrl('postgres');
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const TTL = 300;

interface Storage {
  read(token: bigint): Promise<number>;
  write(token: bigint, value: number): Promise<void>;
}

async function figure(store: LeaseStore, storage: Storage, resource: string) {
  const process1 = new PausableClock(systemClock);
  const client1 = createLease({ store, resource, ttl: TTL, safetyMargin: 50, clock: process1 });
  const client2 = createLease({ store, resource, ttl: TTL, safetyMargin: 50 });

  const held1 = await client1.acquire();
  const stop = held1.keepAlive();
  const read1 = await storage.read(held1.token); // client 1 reads under its token…
  expect(held1.remaining()).toBeGreaterThan(0); // …and checks it still holds the lease
  process1.pause(); // stop-the-world GC between the check and the write

  const held2 = await client2.acquire({ wait: 5 * TTL }); // after the store expired lease 1
  expect(held2.token).toBeGreaterThan(held1.token);
  const read2 = await storage.read(held2.token);
  await storage.write(held2.token, read2 + 1);
  await held2.release();

  process1.resume(); // the overdue timers run first
  expect(held1.signal.aborted).toBe(true);
  expect(held1.signal.reason).toBeInstanceOf(LeaseExpiredError);
  expect(held1.remaining()).toBe(0);
  // Client 1 writes anyway, as a client that checked before its pause would.
  const late = storage.write(held1.token, read1 + 1).then(
    () => 'accepted',
    (error: unknown) => error,
  );
  const rejected = await late;
  expect(rejected).toBeInstanceOf(FencedOutError);
  expect(rejected).toMatchObject({ token: held1.token, highest: held2.token });
  stop();
  await held1.release();
  return { token1: held1.token, token2: held2.token, final: await storage.read(held2.token) };
}

describe.skipIf(redisUrl === undefined)("Kleppmann's figure on redisLeaseStore + fencedSet", () => {
  let client: Redis;
  const prefix = `faultline:test:lease-figure:${run}:`;

  beforeAll(() => {
    client = new Redis(redisUrl!);
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('client 1 pauses past its ttl: its signal is aborted and its write rejected', async () => {
    const store = redisLeaseStore({ client, prefix });
    const key = `${prefix}file`;
    await client.hset(key, 'value', '0');
    const storage: Storage = {
      read: async (token) => Number(await fencedGet(client, { key, token })),
      write: (token, value) => fencedSet(client, { key, value: String(value), token }),
    };
    const { token1, token2, final } = await figure(store, storage, 'file');
    expect(final).toBe(1); // client 2's increment, and only it
    console.info(`[figure redis] tokens ${token1} then ${token2}`);
  }, 20_000);
});

describe.skipIf(postgresUrl === undefined)(
  "Kleppmann's figure on postgresLeaseStore + fencedTransaction",
  () => {
    let pool: Pool;
    const table = `fl_figure_lease_${run}`;
    const fences = `fl_figure_fence_${run}`;
    const data = `fl_figure_data_${run}`;

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: postgresUrl!, max: 4 });
      pool.on('error', () => {});
      await pool.query(`CREATE TABLE "${data}" (id int PRIMARY KEY, n int NOT NULL)`);
      await pool.query(`INSERT INTO "${data}" VALUES (1, 0)`);
    });
    afterAll(async () => {
      for (const t of [table, fences, data]) await pool.query(`DROP TABLE IF EXISTS "${t}"`);
      await pool.end();
    });

    it('client 1 pauses past its ttl: its signal is aborted and its write rejected', async () => {
      const store = postgresLeaseStore({ pool, table });
      // 32 earlier grants, so that the figure's own tokens come out.
      for (let i = 0; i < 32; i++) {
        const grant = (await store.acquire('file', 'earlier', 1_000)) as { token: bigint };
        await store.release('file', 'earlier', grant.token);
      }
      const fenced = <T>(token: bigint, fn: (client: pg.PoolClient) => Promise<T>) =>
        fencedTransaction(pool, { table: fences, resource: 'file', token }, (client) =>
          fn(client as pg.PoolClient),
        );
      const storage: Storage = {
        read: (token) =>
          fenced(token, async (c) => {
            const { rows } = await c.query(`SELECT n FROM "${data}" WHERE id = 1`);
            return Number(rows[0].n);
          }),
        write: (token, value) =>
          fenced(token, async (c) => {
            await c.query(`UPDATE "${data}" SET n = $1 WHERE id = 1`, [value]);
          }),
      };
      const { token1, token2, final } = await figure(store, storage, 'file');
      expect([token1, token2]).toEqual([33n, 34n]);
      expect(final).toBe(1);
    }, 20_000);
  },
);
