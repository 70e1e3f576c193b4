// A small node:http app with withIdempotency over the *built* package (dist/), run as a separate
// process by src/cross-process.test.ts. Configured by environment variables:
//   STORE=ioredis|node-redis|postgres, STORE_URL, PREFIX (Redis key prefix) or TABLE (PostgreSQL),
//   COUNTER (Redis key prefix or PostgreSQL table of the shared execution counter),
//   LOCK_TTL and STORE_TIMEOUT (ms).
// Prints one JSON line {"port": N} when listening. The handler counts "started" and "done" per
// idempotency key in the shared counter, sleeps for the x-delay header (ms), answers 201.
import { createServer } from 'node:http';
import { createIdempotency } from '@faultline/idempotency';
import { withIdempotency } from '@faultline/idempotency/node';

const env = process.env;
const lockTtl = Number(env.LOCK_TTL ?? 60_000);
const storeTimeout = Number(env.STORE_TIMEOUT ?? 2_000);

let store;
let count;
if (env.STORE === 'postgres') {
  const { default: pg } = await import('pg');
  const { postgresStore } = await import('@faultline/idempotency/postgres');
  const pool = new pg.Pool({
    connectionString: env.STORE_URL,
    max: 10,
    application_name: env.APP_NAME ?? 'fl_app',
  });
  pool.on('error', () => {});
  store = postgresStore({ pool, table: env.TABLE, createTable: true });
  const sql = `INSERT INTO "${env.COUNTER}" (key, phase, n) VALUES ($1, $2, 1)
    ON CONFLICT (key, phase) DO UPDATE SET n = "${env.COUNTER}".n + 1 RETURNING n`;
  count = async (key, phase) => (await pool.query(sql, [key, phase])).rows[0].n;
} else {
  const { Redis } = await import('ioredis');
  const { redisStore } = await import('@faultline/idempotency/redis');
  const counter = new Redis(env.STORE_URL);
  let client;
  if (env.STORE === 'node-redis') {
    const { createClient } = await import('redis');
    client = createClient({ url: env.STORE_URL });
    client.on('error', () => {});
    await client.connect();
  } else {
    client = new Redis(env.STORE_URL);
  }
  store = redisStore({ client, prefix: env.PREFIX });
  count = (key, phase) => counter.incr(`${env.COUNTER}${key}:${phase}`);
}

const idempotency = createIdempotency({
  store,
  scope: () => 'cross-process',
  lockTtl,
  recordTtl: 600_000,
  storeTimeout,
});

const handler = withIdempotency(async (req, res) => {
  const key = String(req.headers['idempotency-key']);
  await count(key, 'started');
  const delay = Number(req.headers['x-delay'] ?? 0);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const n = await count(key, 'done');
  res.writeHead(201, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ pid: process.pid, n }));
}, idempotency);

const server = createServer((req, res) => {
  handler(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
