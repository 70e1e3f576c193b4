/**
 * The server half of `pnpm bench:http`, run as a child process of `http.ts` so that the load
 * generator and the server never share an event loop.
 *
 * `node http-server.js <mode> [redisUrl]`, mode one of `bare`, `hook` (an empty async
 * preHandler), `memory`, `redis`. It listens on
 * 127.0.0.1 (a free port), sends `{ port }` over IPC, answers `'cpu'` with its CPU time so far,
 * and exits on `'close'` (or when the parent goes away).
 */
import { pathToFileURL } from 'node:url';
import type * as Core from '@faultline/idempotency';
import type * as FastifyAdapter from '@faultline/idempotency/fastify';
import type * as RedisEntry from '@faultline/idempotency/redis';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { serveParent } from './http-harness.js';

// `FAULTLINE_IDEMPOTENCY_DIR` (set by `http.ts --idempotency-dir`) loads another build of the
// package, e.g. an older commit's `dist/`, for before/after comparisons in one run.
const override = process.env.FAULTLINE_IDEMPOTENCY_DIR;
const load = async <T>(entry: string, file: string): Promise<T> =>
  (await (override === undefined
    ? import(entry)
    : import(pathToFileURL(`${override}/dist/${file}`).href))) as T;
const { createIdempotency, memoryStore } = await load<typeof Core>(
  '@faultline/idempotency',
  'index.js',
);
const { fastifyIdempotency } = await load<typeof FastifyAdapter>(
  '@faultline/idempotency/fastify',
  'fastify.js',
);
const { redisStore } = await load<typeof RedisEntry>('@faultline/idempotency/redis', 'redis.js');
type Store = Core.Store;

/** The configurations the child can serve. */
export type ServerMode = 'bare' | 'hook' | 'memory' | 'redis';

const mode = process.argv[2] as ServerMode | undefined;
const redisUrl = process.argv[3];
if (mode !== 'bare' && mode !== 'hook' && mode !== 'memory' && mode !== 'redis') {
  throw new Error(
    `http-server: mode must be bare, hook, memory or redis, received ${String(mode)}`,
  );
}

const app = Fastify({ logger: false });
let redis: Redis | undefined;

if (mode === 'hook') {
  // The floor of any preHandler-based middleware: an async hook that does nothing.
  app.addHook('preHandler', async () => {});
} else if (mode !== 'bare') {
  let store: Store;
  if (mode === 'redis') {
    if (redisUrl === undefined) throw new Error('http-server: redis mode needs a Redis URL');
    redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    store = redisStore({ client: redis });
  } else {
    // Sized for a 10 s run of fresh keys: a full store refuses new keys (503) rather than evict
    // live records, and a run of refusals would measure the refusal path. BENCH_MEMORY_MAX_ENTRIES
    // sets another size (a full store, to measure exactly that).
    const maxEntries = Number(process.env.BENCH_MEMORY_MAX_ENTRIES ?? 4_000_000);
    store = memoryStore({ maxEntries });
  }
  // A scope is what production code passes (one principal per key space); a constant keeps the
  // benchmark about the middleware, not about authentication.
  const idempotency = createIdempotency({ store, scope: () => 'bench-tenant' });
  await app.register(fastifyIdempotency, { idempotency });
}

// The trivial handler: Fastify has parsed the JSON body; answer a small JSON document.
app.post('/orders', async () => ({ id: 1, status: 'created' }));

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

serveParent(port, async () => {
  await app.close();
  redis?.disconnect();
});
