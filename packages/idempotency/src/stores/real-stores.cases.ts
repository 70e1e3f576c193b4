/**
 * The real Redis and PostgreSQL stores of a test file that checks the same property on both: one
 * client and one pool for the file, opened before its tests, and what the tests wrote (keys under
 * a prefix, a table, both unique to the run) removed after them. A store whose service is not
 * configured is listed as unavailable, for `it.skipIf`. Test support, not packed.
 */
import { deleteKeys, serviceUrl } from '@faultline/test-support';
import { Redis } from 'ioredis';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../store.js';
import { postgresStore } from './postgres.js';
import { redisStore } from './redis.js';

/** One store of {@link realStores}: its factory name, whether its service is there, a maker. */
export type RealStore = readonly [name: string, available: boolean, make: () => Store];

/**
 * The stores for the tests of one file: `name` goes into the key prefix and the table name
 * (`faultline:test:<name>:<run>:`, `fl_<name>_<run>`), `poolMax` is the pool's size.
 */
export async function realStores(name: string, poolMax: number): Promise<readonly RealStore[]> {
  const redisUrl = await serviceUrl('redis');
  const postgresUrl = await serviceUrl('postgres');
  const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `faultline:test:${name}:${run}:`;
  const table = `fl_${name}_${run}`;
  let redis: Redis | undefined;
  let pool: Pool | undefined;
  beforeAll(() => {
    if (redisUrl !== undefined) redis = new Redis(redisUrl);
    if (postgresUrl !== undefined) {
      pool = new pg.Pool({ connectionString: postgresUrl, max: poolMax });
      pool.on('error', () => {});
    }
  });
  afterAll(async () => {
    if (redis !== undefined) {
      await deleteKeys(redis, [`${prefix}*`]);
      redis.disconnect();
    }
    if (pool !== undefined) {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.end();
    }
  });
  return [
    ['redisStore', redisUrl !== undefined, () => redisStore({ client: redis!, prefix })],
    ['postgresStore', postgresUrl !== undefined, () => postgresStore({ pool: pool!, table })],
  ];
}
