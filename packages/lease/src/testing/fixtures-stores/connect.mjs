// Shared by the child processes of src/stores/*.test.ts: the store and the client its fences use,
// from the environment: STORE=redis|postgres, STORE_URL, PREFIX (Redis lease prefix) or TABLE
// (PostgreSQL lease table). Resolves { kind, store, client (ioredis) | pool (pg), close() }.
export async function connect(env) {
  if (env.STORE === 'postgres') {
    const { default: pg } = await import('pg');
    const { postgresLeaseStore } = await import('@faultline/lease/postgres');
    const pool = new pg.Pool({ connectionString: env.STORE_URL, max: 3 });
    pool.on('error', () => {});
    const store = postgresLeaseStore({ pool, table: env.TABLE });
    return { kind: 'postgres', store, pool, close: () => pool.end() };
  }
  const { Redis } = await import('ioredis');
  const { redisLeaseStore } = await import('@faultline/lease/redis');
  const client = new Redis(env.STORE_URL);
  client.on('error', () => {});
  const store = redisLeaseStore({ client, prefix: env.PREFIX });
  return { kind: 'redis', store, client, close: () => client.quit() };
}
