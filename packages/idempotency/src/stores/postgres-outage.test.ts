import { serviceUrl } from '@faultline/test-support';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExactlyOnce,
  assertFailClosed,
  type OutageApp,
  post as postTo,
  startOutageApp,
} from '../testing/outage-app.js';
import { type PostgresStore, postgresStore } from './postgres.js';

// PostgreSQL outages that touch only this file's own connections: the app's pool logs in as a
// throwaway role, and the outage is `ALTER ROLE … NOLOGIN` + `pg_terminate_backend` on that
// role's backends (nobody else's). A second case holds an ACCESS EXCLUSIVE lock on our own table
// so that every store call hangs. Requests must get the fail-closed 503 within the core's
// storeTimeout, and after recovery every key executes exactly once.

const url = await serviceUrl('postgres');
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const role = `fl_outage_${run}`;
const table = `fl_outage_${run}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(url === undefined)('postgresStore outage', () => {
  let admin: Pool;
  let pool: Pool;
  let store: PostgresStore;
  let app: OutageApp;
  const failClosedMs: number[] = [];

  const post = (key: string) => postTo(app, key);
  const expectExactlyOnce = (done: string, fresh: string) =>
    assertExactlyOnce(app, done, fresh, 300);
  const expectFailClosed = (keys: readonly string[]) => assertFailClosed(app, keys, failClosedMs);

  const killOwnBackends = async (): Promise<number> => {
    const { rows } = await admin.query(
      'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE usename = $1',
      [role],
    );
    return rows.length;
  };

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: url!, max: 3 });
    admin.on('error', () => {});
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    await postgresStore({ pool: admin, table }).ensureTable();
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${table}" TO "${role}"`);
    const appUrl = new URL(url!);
    appUrl.username = role;
    appUrl.password = '';
    pool = new pg.Pool({
      connectionString: appUrl.href,
      max: 4,
      application_name: `fl_outage_app_${run}`,
      connectionTimeoutMillis: 5_000,
    });
    pool.on('error', () => {}); // idle clients whose backend we terminate report here
    store = postgresStore({ pool, table, createTable: false });
    app = await startOutageApp(store);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await pool?.end().catch(() => {});
    await admin.query(`ALTER ROLE "${role}" LOGIN`).catch(() => {});
    await killOwnBackends().catch(() => {});
    await admin.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
    console.info(`[postgres outage] fail-closed 503 latencies (ms): ${failClosedMs.join(', ')}`);
  });

  it('connections killed (pg_terminate_backend) and logins refused: 503 fast; exactly once after recovery', async () => {
    expect(await post('t-done')).toMatchObject({ status: 201, replayed: false });
    await admin.query(`ALTER ROLE "${role}" NOLOGIN`);
    expect(await killOwnBackends()).toBeGreaterThan(0);
    try {
      await expectFailClosed(['t-done', 't-new', 't-new']);
      await expectFailClosed(['t-new']);
    } finally {
      await admin.query(`ALTER ROLE "${role}" LOGIN`);
    }
    await expectExactlyOnce('t-done', 't-new');
  }, 30_000);

  it('idle connections killed: the pool reconnects, nothing executes twice', async () => {
    expect(await post('i-done')).toMatchObject({ status: 201, replayed: false });
    await killOwnBackends();
    await sleep(50);
    await expectExactlyOnce('i-done', 'i-new');
  }, 30_000);

  it('store hangs (table locked ACCESS EXCLUSIVE): 503 within storeTimeout; exactly once after', async () => {
    expect(await post('l-done')).toMatchObject({ status: 201, replayed: false });
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
      await expectFailClosed(['l-done', 'l-new', 'l-new']);
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    // A claim that timed out may land after the lock is gone and hold the key until the core's
    // background release (or the 2 s lock) clears it: 409 meanwhile (settle waits), then one
    // execution.
    await expectExactlyOnce('l-done', 'l-new');
  }, 30_000);
});
