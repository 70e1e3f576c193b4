import { serviceUrl } from '@faultline/test-support';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredResponse } from '../store.js';
import { describeStoreConformance, realTime } from '../testing.js';
import { postgresStore } from './postgres.js';

const url = await serviceUrl('postgres');
// Unique per run: other test files and engineers share this database.
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const table = `fl_idem_test_${run}`;

const ok: StoredResponse = {
  status: 200,
  headers: [['content-type', 'text/plain']],
  body: new Uint8Array([0, 255, 1]),
  bodyOmitted: false,
};

describe.skipIf(url === undefined)('postgresStore (real PostgreSQL)', () => {
  let pool: Pool;
  const tables: string[] = [table];

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url!, max: 8, application_name: `fl_test_${run}` });
    pool.on('error', () => {});
  });

  afterAll(async () => {
    for (const name of tables) await pool.query(`DROP TABLE IF EXISTS "${name}"`);
    await pool.end();
  });

  describeStoreConformance('postgresStore', () => postgresStore({ pool, table }), {
    describe,
    it,
    ttl: 250,
    advance: realTime,
    corrupt: async (_store, key) => {
      await pool.query(
        `UPDATE "${table}" SET response_headers = '{"not":"a list"}' WHERE key = $1`,
        [key],
      );
    },
  });

  it('creates a LOGGED table with primary key and expiry index, once, even when racing', async () => {
    const name = `fl_idem_ddl_${run}`;
    tables.push(name);
    const stores = Array.from({ length: 4 }, () => postgresStore({ pool, table: name }));
    await Promise.all(stores.map((store) => store.ensureTable()));
    const { rows } = await pool.query(
      `SELECT relpersistence, (SELECT count(*) FROM pg_indexes WHERE tablename = $1)::int AS indexes
       FROM pg_class WHERE relname = $1`,
      [name],
    );
    expect(rows).toEqual([{ relpersistence: 'p', indexes: 2 }]); // p = permanent (LOGGED)
    const key = await pool.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
       AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary`,
      [name],
    );
    expect(key.rows).toEqual([{ attname: 'key' }]);
  });

  it('createTable: false expects the table to exist', async () => {
    const store = postgresStore({ pool, table: `fl_idem_missing_${run}`, createTable: false });
    await expect(store.get('k')).rejects.toThrow(/does not exist/);
  });

  it('takes over an expired row and reports it as expired', async () => {
    const store = postgresStore({ pool, table });
    await store.claim('expired-takeover', { owner: 'a', fingerprint: 'f', lockTtl: 1 });
    await realTime(20);
    expect(
      await store.claim('expired-takeover', { owner: 'b', fingerprint: 'g', lockTtl: 5000 }),
    ).toEqual({
      claimed: true,
      previous: 'expired',
    });
  });

  it('replaces an IN_PROGRESS row with an unknown status (a newer version’s row) as unreadable', async () => {
    const store = postgresStore({ pool, table });
    await store.claim('odd-status', { owner: 'a', fingerprint: 'f', lockTtl: 60_000 });
    await pool.query(`UPDATE "${table}" SET status = 'PAUSED' WHERE key = 'odd-status'`);
    expect(await store.get('odd-status')).toBeUndefined();
    expect(
      await store.claim('odd-status', { owner: 'b', fingerprint: 'f', lockTtl: 60_000 }),
    ).toEqual({ claimed: true, previous: 'unreadable' });
  });

  it('sweep deletes expired rows in batches and keeps live ones', async () => {
    const name = `fl_idem_sweep_${run}`;
    tables.push(name);
    const store = postgresStore({ pool, table: name });
    await store.ensureTable();
    await pool.query(
      `INSERT INTO "${name}" (key, status, owner, fingerprint, expires_at)
       SELECT 'old-' || i, 'COMPLETED', 'o', 'f', now() - interval '1 second' FROM generate_series(1, 250) i`,
    );
    await store.claim('live', { owner: 'o', fingerprint: 'f', lockTtl: 60_000 });
    expect(await store.sweep({ batchSize: 100 })).toBe(250);
    expect(await store.sweep()).toBe(0);
    expect((await store.get('live'))?.status).toBe('IN_PROGRESS');
  });

  it('stores bodies as bytea and headers in order', async () => {
    const store = postgresStore({ pool, table });
    await store.claim('bytea', { owner: 'o', fingerprint: 'f', lockTtl: 60_000 });
    await store.complete('bytea', 'o', ok, 60_000);
    const { rows } = await pool.query(
      `SELECT pg_typeof(response_body)::text AS type, response_body FROM "${table}" WHERE key = 'bytea'`,
    );
    expect(rows[0].type).toBe('bytea');
    expect(Array.from(rows[0].response_body as Buffer)).toEqual([0, 255, 1]);
  });
});

describe('postgresStore: options', () => {
  const pool = { query: async () => ({ rows: [], rowCount: 0 }) };

  it('requires options with a pool', () => {
    expect(() => postgresStore(undefined as never)).toThrow(TypeError);
    expect(() => postgresStore({} as never)).toThrow(/option "pool" must be a pg Pool/);
    expect(() => postgresStore({ pool: 'postgres://x' as never })).toThrow(TypeError);
  });

  it('validates table strictly (type and range)', () => {
    expect(() => postgresStore({ pool, table: 1 as never })).toThrow(TypeError);
    for (const bad of [
      '',
      'Idem',
      'idem; DROP TABLE users',
      '"idem"',
      'a.b.c',
      '1idem',
      'idem-x',
      'x'.repeat(49),
      `${'x'.repeat(64)}.idem`,
    ]) {
      expect(() => postgresStore({ pool, table: bad }), bad).toThrow(RangeError);
    }
    expect(() => postgresStore({ pool, table: 'x'.repeat(48) })).not.toThrow();
    expect(postgresStore({ pool, table: 'app.idem' }).table).toBe('"app"."idem"');
    expect(postgresStore({ pool }).table).toBe('"faultline_idempotency"');
  });

  it('validates createTable', () => {
    expect(() => postgresStore({ pool, createTable: 'yes' as never })).toThrow(TypeError);
  });

  it('validates sweep batchSize (type and range)', async () => {
    const store = postgresStore({ pool, createTable: false });
    await expect(store.sweep({ batchSize: '10' as never })).rejects.toThrow(TypeError);
    await expect(store.sweep({ batchSize: 0 })).rejects.toThrow(RangeError);
    await expect(store.sweep({ batchSize: 1.5 })).rejects.toThrow(RangeError);
    await expect(store.sweep({ batchSize: 100_001 })).rejects.toThrow(RangeError);
    await expect(store.sweep({ batchSize: 10 })).resolves.toBe(0);
  });
});
