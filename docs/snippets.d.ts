// Free names that documentation examples assume, declared once so that every code block in the
// README and docs compiles (scripts/check-snippets.mjs). Keep this list small: a name belongs
// here only when the example cannot create it without a dependency the workspace root lacks.

/** The URL an example calls. */
declare const url: string;
/** An Express 5 app (express is not a root dependency; examples/dedup-service has a real one). */
declare const app: { use(...handlers: unknown[]): void };
/** A connected ioredis client (ioredis is not a root dependency): every store's view of one. */
declare const redis: import('@faultline/idempotency/redis').IoRedisClientLike &
  import('@faultline/limits/redis').IoRedisLike;
/** A `pg` Pool (pg is not a root dependency; packages/lease tests use a real one). */
declare const pool: import('@faultline/lease/postgres').PgPool;
