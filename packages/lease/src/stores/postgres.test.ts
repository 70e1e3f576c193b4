import { serviceUrl } from '@faultline/test-support';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedOutError } from '../lease-errors.js';
import { checkLeaseStoreConformance } from '../testing/store-conformance.js';
import { postgresLeaseStore } from './postgres.js';
import { fencedTransaction, fenceTableSql } from './postgres-fence.js';

const url = await serviceUrl('postgres');
// Unique per run: other test files and engineers share this database.
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const table = `fl_lease_${run}`;
const fences = `fl_fence_${run}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('postgresLeaseStore options', () => {
  const pool = { query: async () => ({ rows: [], rowCount: 0 }) };
  it('rejects a missing or wrong pool', () => {
    expect(() => postgresLeaseStore(undefined as never)).toThrow(TypeError);
    expect(() => postgresLeaseStore({ pool: {} as never })).toThrow(
      /postgresLeaseStore: option "pool" must be a pg Pool \(an object with query\(\)\), received/,
    );
  });
  it('validates the table name (no SQL can get in)', () => {
    for (const bad of ['Leases', 'a;drop table x', 'a.b.c', '"x"', '1abc', 'x'.repeat(64), '']) {
      expect(() => postgresLeaseStore({ pool, table: bad }), bad).toThrow(RangeError);
    }
    expect(() => postgresLeaseStore({ pool, table: 3 as never })).toThrow(TypeError);
    expect(() => postgresLeaseStore({ pool, createTable: 'yes' as never })).toThrow(TypeError);
    expect(postgresLeaseStore({ pool }).table).toBe('"faultline_lease"');
    expect(postgresLeaseStore({ pool, table: 'app.leases' }).table).toBe('"app"."leases"');
    expect(() => fenceTableSql('x;y')).toThrow(RangeError);
  });
  it('fencedTransaction validates its arguments', async () => {
    const full = { ...pool, connect: async () => ({ ...pool, release() {} }) };
    await expect(
      fencedTransaction(pool as never, { resource: 'r', token: 1n }, () => 1),
    ).rejects.toThrow(
      /fencedTransaction: option "pool" must be a pg Pool \(an object with query\(\) and connect\(\)\)/,
    );
    await expect(
      fencedTransaction(full, { resource: 'r', token: 1 as never }, () => 1),
    ).rejects.toThrow(/option "token" must be a bigint/);
    await expect(fencedTransaction(full, { resource: 'r', token: -1n }, () => 1)).rejects.toThrow(
      RangeError,
    );
    await expect(
      fencedTransaction(full, { resource: 'r', token: 1n, table: 'A' }, () => 1),
    ).rejects.toThrow(RangeError);
    await expect(
      fencedTransaction(full, { resource: 'r', token: 1n }, 'fn' as never),
    ).rejects.toThrow(/argument "fn" must be a function/);
  });
});

describe.skipIf(url === undefined)('postgresLeaseStore (real PostgreSQL)', () => {
  let pool: Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url!, max: 6 });
    pool.on('error', () => {});
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.query(`DROP TABLE IF EXISTS "${fences}"`);
    await pool.end();
  });

  it('grants, refuses while held, renews and releases for the owner only', async () => {
    const store = postgresLeaseStore({ pool, table });
    const grant = await store.acquire('basic', 'a', 5_000);
    expect(grant).toEqual({ token: 1n, ttl: 5_000 });
    const held = await store.acquire('basic', 'b', 5_000);
    expect(held).toMatchObject({ held: true });
    expect((held as { retryAfter: number }).retryAfter).toBeGreaterThan(4_000);
    expect((held as { retryAfter: number }).retryAfter).toBeLessThanOrEqual(5_000);
    expect(await store.acquire('basic', 'a', 5_000)).toMatchObject({ held: true });
    expect(await store.renew('basic', 'b', 1n, 5_000)).toBe(false);
    expect(await store.renew('basic', 'a', 2n, 5_000)).toBe(false);
    expect(await store.renew('basic', 'a', 1n, 5_000)).toBe(true);
    expect(await store.release('basic', 'b', 1n)).toBe(false);
    expect(await store.release('basic', 'a', 1n)).toBe(true);
    expect(await store.release('basic', 'a', 1n)).toBe(false);
    expect(await store.renew('basic', 'a', 1n, 5_000)).toBe(false);
    expect(await store.acquire('basic', 'b', 5_000)).toEqual({ token: 2n, ttl: 5_000 });
  });

  it('expiry runs on the database clock; an expired lease is taken over with the next token', async () => {
    const store = postgresLeaseStore({ pool, table });
    expect(await store.acquire('expiry', 'a', 100)).toEqual({ token: 1n, ttl: 100 });
    await sleep(150);
    expect(await store.renew('expiry', 'a', 1n, 100)).toBe(false);
    expect(await store.acquire('expiry', 'b', 100)).toEqual({ token: 2n, ttl: 100 });
  });

  it('concurrent acquires: exactly one grant per round, tokens strictly increase', async () => {
    const store = postgresLeaseStore({ pool, table });
    let last = 0n;
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((owner) => store.acquire('race', owner, 5_000)),
      );
      const grants = results.filter((r): r is { token: bigint; ttl: number } => 'token' in r);
      expect(grants).toHaveLength(1);
      expect(grants[0]!.token).toBeGreaterThan(last);
      last = grants[0]!.token;
      const winner = ['a', 'b', 'c', 'd', 'e'][results.indexOf(grants[0]!)]!;
      expect(await store.release('race', winner, last)).toBe(true);
    }
  });

  it('tokens are durable: a new store (a restarted process) continues the sequence', async () => {
    const first = postgresLeaseStore({ pool, table });
    const a = (await first.acquire('durable', 'a', 1_000)) as { token: bigint };
    await first.release('durable', 'a', a.token);
    const other = new pg.Pool({ connectionString: url!, max: 1 });
    try {
      const second = postgresLeaseStore({ pool: other, table, createTable: false });
      const b = (await second.acquire('durable', 'b', 1_000)) as { token: bigint };
      expect(b.token).toBe(a.token + 1n);
    } finally {
      await other.end();
    }
  });

  it('createTable: false leaves the schema to migrations (createTableSql)', async () => {
    const own = `${table}_m`;
    const store = postgresLeaseStore({ pool, table: own, createTable: false });
    await expect(store.acquire('x', 'a', 1_000)).rejects.toThrow(/does not exist/);
    await pool.query(store.createTableSql);
    try {
      expect(await store.acquire('x', 'a', 1_000)).toEqual({ token: 1n, ttl: 1_000 });
    } finally {
      await pool.query(`DROP TABLE "${own}"`);
    }
  });

  it('conformance property: random acquire/renew/release/expire', async () => {
    await checkLeaseStoreConformance({
      store: postgresLeaseStore({ pool, table }),
      ttl: 400,
      // A run's round trips on a loaded machine, as the helper advises (ttl / 4).
      slack: 100,
      numRuns: 20,
      maxSteps: 25,
      elapse: sleep,
      resourcePrefix: 'conformance:',
    });
  }, 120_000);

  it('fencedTransaction: records the token, rejects a lower one and rolls its writes back', async () => {
    await pool.query(`CREATE TABLE IF NOT EXISTS "${table}_data" (id int PRIMARY KEY, v text)`);
    try {
      const write = (token: bigint, v: string) =>
        fencedTransaction(pool, { table: fences, resource: 'data', token }, async (client) => {
          await client.query(
            `INSERT INTO "${table}_data" VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET v = $1`,
            [v],
          );
          return v;
        });
      expect(await write(33n, 'from 33')).toBe('from 33');
      expect(await write(34n, 'from 34')).toBe('from 34');
      expect(await write(34n, 'from 34 again')).toBe('from 34 again');
      const error = await write(33n, 'stale').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FencedOutError);
      expect(error).toMatchObject({ token: 33n, highest: 34n });
      const { rows } = await pool.query(`SELECT v FROM "${table}_data" WHERE id = 1`);
      expect(rows[0].v).toBe('from 34 again');
      // fn's own failure rolls back (the fence row is not moved either) and passes through.
      const boom = new Error('boom');
      await expect(
        fencedTransaction(pool, { table: fences, resource: 'data', token: 40n }, async (c) => {
          await c.query(`UPDATE "${table}_data" SET v = 'from 40' WHERE id = 1`);
          throw boom;
        }),
      ).rejects.toBe(boom);
      const after = await pool.query(`SELECT v FROM "${table}_data" WHERE id = 1`);
      expect(after.rows[0].v).toBe('from 34 again');
      const fence = await pool.query(`SELECT fence::text FROM "${fences}" WHERE resource = 'data'`);
      expect(fence.rows[0].fence).toBe('34');
      // Every client went back to the pool, after commits, a fencing rejection and fn's throw.
      expect(pool.idleCount).toBe(pool.totalCount);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}_data"`);
    }
  });

  it('fencedTransaction: a newer holder waits for the older one, which then cannot write', async () => {
    // Read-modify-write of a counter by 33 (paused inside its transaction) and 34.
    await pool.query(`CREATE TABLE IF NOT EXISTS "${table}_n" (id int PRIMARY KEY, n int)`);
    await pool.query(`INSERT INTO "${table}_n" VALUES (1, 0)`);
    try {
      const increment = (token: bigint, pause: number) =>
        fencedTransaction(pool, { table: fences, resource: 'counter', token }, async (client) => {
          const { rows } = await client.query(`SELECT n FROM "${table}_n" WHERE id = 1`);
          await sleep(pause);
          const n = Number(rows[0]?.n);
          await client.query(`UPDATE "${table}_n" SET n = $1 WHERE id = 1`, [n + 1]);
        });
      const old = increment(33n, 300);
      await sleep(50);
      const newer = increment(34n, 0); // blocks on 33's fence row lock, then reads 33's write
      await Promise.all([old, newer]);
      const stale = await increment(33n, 0).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(FencedOutError);
      const { rows } = await pool.query(`SELECT n FROM "${table}_n" WHERE id = 1`);
      expect(rows[0].n).toBe(2); // no lost update
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}_n"`);
    }
  });

  it('fencedTransaction: 200 calls, rejected ones included, leave no client checked out', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fencedTransaction(
          pool,
          { table: fences, resource: 'many', token: BigInt(i % 2 === 0 ? 1000 + i : i) },
          async (client) => (await client.query('SELECT 1 AS one')).rows[0]?.one,
        ).then(
          () => 'ok',
          (error: unknown) => (error instanceof FencedOutError ? 'fenced' : String(error)),
        ),
      ),
    );
    expect(results.every((r) => r === 'ok' || r === 'fenced')).toBe(true);
    expect(results.filter((r) => r === 'fenced').length).toBeGreaterThan(0);
    expect(pool.idleCount).toBe(pool.totalCount);
    expect(pool.waitingCount).toBe(0);
  });

  it('fencedTransaction: a connection that dies inside is destroyed, not pooled', async () => {
    const own = new pg.Pool({ connectionString: url!, max: 1 });
    own.on('error', () => {});
    try {
      const died = await fencedTransaction(
        own,
        { table: fences, resource: 'dies', token: 1n },
        async (client) => {
          await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
        },
      ).catch((error: unknown) => error);
      expect(died).toBeInstanceOf(Error);
      expect(own.totalCount).toBe(0); // the dead client left the pool
      const again = await fencedTransaction(
        own,
        { table: fences, resource: 'dies', token: 2n },
        async (client) => (await client.query('SELECT 2 AS two')).rows[0]?.two,
      );
      expect(again).toBe(2);
    } finally {
      await own.end();
    }
  });

  it('the one-statement form: UPDATE … WHERE fence <= $token', async () => {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS "${table}_row" (id int PRIMARY KEY, v text, fence bigint NOT NULL DEFAULT 0)`,
    );
    await pool.query(`INSERT INTO "${table}_row" (id, v) VALUES (1, 'initial')`);
    try {
      const write = async (token: bigint, v: string) =>
        (
          await pool.query(
            `UPDATE "${table}_row" SET v = $1, fence = $2 WHERE id = 1 AND fence <= $2`,
            [v, String(token)],
          )
        ).rowCount === 1;
      expect(await write(34n, 'from 34')).toBe(true);
      expect(await write(33n, 'stale')).toBe(false);
      const { rows } = await pool.query(`SELECT v FROM "${table}_row" WHERE id = 1`);
      expect(rows[0].v).toBe('from 34');
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${table}_row"`);
    }
  });
});
