import { checkBoolean, checkOptions, checkString, formatValue } from '@faultline/core';
import type { LeaseGrant, LeaseHeld, LeaseStore } from '../lease-store.js';

/** The part of a `pg` `Pool` (or `Client`) the lease store uses. */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Options for {@link postgresLeaseStore}. */
export interface PostgresLeaseStoreOptions {
  /**
   * A `pg` `Pool` (recommended) or anything with a compatible `query(text, values)`. The store
   * never ends it. Give the pool an `'error'` listener (`pg` emits idle-client errors there) and
   * a `connectionTimeoutMillis` / `query_timeout`, or rely on the lease's `storeTimeout`.
   */
  readonly pool: PgQueryable;
  /**
   * Table name, optionally schema-qualified (`'app.leases'`): lower-case letters, digits and `_`,
   * starting with a letter or `_`, each part at most 63 characters. Default `'faultline_lease'`.
   */
  readonly table?: string;
  /**
   * Create the table on first use (`CREATE TABLE IF NOT EXISTS`). Turn off when migrations own
   * the schema (see {@link PostgresLeaseStore.createTableSql}). Default `true`.
   */
  readonly createTable?: boolean;
}

/** The defaults of {@link postgresLeaseStore}. */
export const POSTGRES_LEASE_STORE_DEFAULTS = Object.freeze({
  table: 'faultline_lease',
  createTable: true,
});

/** A PostgreSQL-backed {@link LeaseStore}: see {@link postgresLeaseStore}. */
export interface PostgresLeaseStore extends LeaseStore {
  /** The quoted, validated table name in use. */
  readonly table: string;
  /** The DDL the store runs when `createTable` is on, for your migrations. */
  readonly createTableSql: string;
  /** Creates the table now (idempotent). Runs automatically before the first call. */
  ensureTable(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a lower-case, optionally schema-qualified table name and returns it quoted. Validated
 * first, so quoting cannot be escaped; quoted anyway to keep reserved words safe.
 */
export function quoteTable(owner: string, value: unknown): string {
  const text = checkString(owner, 'table', value);
  const parts = text.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new RangeError(
      `${owner}: option "table" must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters), optionally schema-qualified, received ${formatValue(value)}`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** Checks that `value` has a `query` method (and the extra `methods`), naming it `option`. */
export function checkQueryable<T>(
  owner: string,
  option: string,
  value: unknown,
  methods: readonly string[] = [],
): T {
  const candidate = value as Record<string, unknown> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    !['query', ...methods].every((method) => typeof candidate[method] === 'function')
  ) {
    throw new TypeError(
      `${owner}: option "${option}" must be a pg Pool (an object with ${['query', ...methods].map((m) => `${m}()`).join(' and ')}), received ${formatValue(value)}`,
    );
  }
  return candidate as T;
}

// SQLSTATEs of a lost CREATE … IF NOT EXISTS race between two processes.
const CREATE_RACE = new Set(['23505', '42P07', '42710']);

/**
 * Runs `sql` once per key (a table), again after a failure (the database may have been down);
 * retries the duplicate errors of two processes creating the same table at once.
 */
export function onceCreated(run: () => Promise<unknown>): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await run();
          return;
        } catch (error) {
          const code = (error as { code?: unknown } | null)?.code;
          if (attempt >= 2 || typeof code !== 'string' || !CREATE_RACE.has(code)) throw error;
        }
      }
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}

const OWNER = 'postgresLeaseStore';

/**
 * A {@link LeaseStore} on PostgreSQL (`pg`): one row per resource, shared by every process using
 * the same database and table.
 *
 * - **Acquire** is one statement: `INSERT … ON CONFLICT (resource) DO UPDATE SET token =
 *   token + 1, … WHERE expires_at <= now() RETURNING token`, so the grant (or the takeover of an
 *   expired or released lease) and the new token are atomic; a live lease is reported in the
 *   same round trip with its remaining time.
 * - **Tokens** live in the row, which is never deleted (release only ends the lease), in a LOGGED
 *   table: they survive restarts and crashes and follow PostgreSQL's durability (synchronous
 *   commit), unlike Redis's.
 * - **Time**: `now()` of the database for every expiry; the app's clock is never read.
 * - **Renew / release**: one `UPDATE` each, compare-and-set on owner and token of a live lease.
 *
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (error) => log.warn(error));
 * const lease = createLease({ store: postgresLeaseStore({ pool }), resource: 'compactor', ttl: 10_000 });
 * ```
 */
export function postgresLeaseStore(options: PostgresLeaseStoreOptions): PostgresLeaseStore {
  if (options === undefined) {
    throw new TypeError(`${OWNER}: options must be an object with a "pool", received undefined`);
  }
  const opts = checkOptions<PostgresLeaseStoreOptions>(OWNER, options);
  const pool = checkQueryable<PgQueryable>(OWNER, 'pool', opts.pool);
  const t = quoteTable(OWNER, opts.table ?? POSTGRES_LEASE_STORE_DEFAULTS.table);
  const createTable =
    opts.createTable === undefined
      ? POSTGRES_LEASE_STORE_DEFAULTS.createTable
      : checkBoolean(OWNER, 'createTable', opts.createTable);

  // LOGGED (the default): an UNLOGGED table is truncated after a crash, and the tokens with it.
  const createTableSql = `CREATE TABLE IF NOT EXISTS ${t} (
  resource text PRIMARY KEY,
  owner text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL
)`;

  // Durations are milliseconds added to the database's now(), never app timestamps.
  const later = (param: string) => `now() + ${param}::double precision * interval '1 millisecond'`;

  const acquireSql = `WITH granted AS (
  INSERT INTO ${t} AS l (resource, owner, token, expires_at)
  VALUES ($1, $2, 1, ${later('$3')})
  ON CONFLICT (resource) DO UPDATE SET
    owner = EXCLUDED.owner, token = l.token + 1, expires_at = EXCLUDED.expires_at
  WHERE l.expires_at <= now()
  RETURNING token
)
SELECT token::text AS token, NULL::double precision AS remaining FROM granted
UNION ALL
SELECT NULL, (extract(epoch FROM greatest(expires_at, now()) - now()) * 1000)::double precision
FROM ${t} WHERE resource = $1 AND NOT EXISTS (SELECT 1 FROM granted)`;

  const renewSql = `UPDATE ${t} SET expires_at = ${later('$4')}
WHERE resource = $1 AND owner = $2 AND token = $3::bigint AND expires_at > now()`;

  // The row stays (it carries the token counter); '-infinity' frees it for any later now().
  const releaseSql = `UPDATE ${t} SET expires_at = '-infinity'
WHERE resource = $1 AND owner = $2 AND token = $3::bigint AND expires_at > now()`;

  const ensureTable = onceCreated(() => pool.query(createTableSql));

  const query = async (text: string, values: unknown[]) => {
    if (createTable) await ensureTable();
    return pool.query(text, values);
  };

  return {
    table: t,
    createTableSql,
    ensureTable,

    async acquire(resource: string, owner: string, ttl: number): Promise<LeaseGrant | LeaseHeld> {
      // One statement normally. It finds neither a grant nor a live row only when a concurrent
      // grant committed after this statement's snapshot (READ COMMITTED: the conflict sees it,
      // the SELECT does not) or the lease expired meanwhile; the next statement sees it.
      for (let attempt = 0; attempt < 10; attempt++) {
        const { rows } = await query(acquireSql, [resource, owner, ttl]);
        const row = rows[0];
        if (row === undefined) continue;
        if (typeof row.token === 'string') return { token: BigInt(row.token), ttl };
        const remaining = Number(row.remaining);
        if (remaining > 0) return { held: true, retryAfter: Math.ceil(remaining) };
      }
      throw new Error(
        `${OWNER}: acquire did not settle after 10 attempts (resource ${formatValue(resource)})`,
      );
    },

    async renew(resource: string, owner: string, token: bigint, ttl: number): Promise<boolean> {
      return (await query(renewSql, [resource, owner, String(token), ttl])).rowCount === 1;
    },

    async release(resource: string, owner: string, token: bigint): Promise<boolean> {
      return (await query(releaseSql, [resource, owner, String(token)])).rowCount === 1;
    },
  };
}
