import { Buffer } from 'node:buffer';
import {
  checkBoolean,
  checkOptions,
  checkString,
  formatValue,
  optionalNumber,
} from '@faultline/core';
import {
  type ClaimRequest,
  type ClaimResult,
  isStoredHeaderList,
  type Store,
  type StoredRecord,
  type StoredResponse,
} from '../store.js';

/** The part of a `pg` `Pool` (or `Client`) the store uses. */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Options for {@link postgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A `pg` `Pool` (recommended) or anything with a compatible `query(text, values)`. The store
   * never ends it. Give the pool an `'error'` listener: `pg` emits idle-client errors there.
   */
  readonly pool: PgQueryable;
  /**
   * Table name, optionally schema-qualified (`'app.idempotency'`). Lower-case letters, digits
   * and `_`, starting with a letter or `_`; the table part at most 48 characters (so that the
   * index name fits PostgreSQL's 63). Default `'faultline_idempotency'`.
   */
  readonly table?: string;
  /**
   * Create the table and its index on first use (`CREATE TABLE IF NOT EXISTS`). Turn off when
   * migrations own the schema (see {@link PostgresStore.createTableSql}). Default `true`.
   */
  readonly createTable?: boolean;
}

/** Options for {@link PostgresStore.sweep}. */
export interface SweepOptions {
  /**
   * Rows deleted per statement: each batch is one short transaction that skips rows other
   * transactions hold locked. Default `1000`; an integer in [1, 100 000].
   */
  readonly batchSize?: number;
}

/** A PostgreSQL-backed {@link Store}: see {@link postgresStore}. */
export interface PostgresStore extends Store {
  /** See {@link Store.abandon}: a pool lets a late claim overtake a clean-up. */
  abandon(key: string, owner: string, ttl: number): Promise<void>;
  /** The quoted, validated table name in use. */
  readonly table: string;
  /** The DDL the store runs when `createTable` is on, for your migrations. */
  readonly createTableSql: string;
  /** Creates the table and index now (idempotent). Runs automatically before the first call. */
  ensureTable(): Promise<void>;
  /**
   * Deletes expired records in batches of `batchSize` until none is left; returns how many
   * were deleted. Expired rows are already ignored and overwritten by every operation; sweeping
   * only reclaims space. Run it from a timer or a cron job.
   */
  sweep(options?: SweepOptions): Promise<number>;
}

const OWNER = 'postgresStore';
const PART = /^[a-z_][a-z0-9_]*$/;
const INDEX_SUFFIX = '_expires_at_idx';

function checkTable(value: unknown): { qualified: string; schema?: string; name: string } {
  const text = checkString(OWNER, 'table', value);
  const parts = text.split('.');
  const valid =
    parts.length <= 2 &&
    parts.every((part) => PART.test(part) && part.length <= 63) &&
    parts[parts.length - 1]!.length + INDEX_SUFFIX.length <= 63;
  if (!valid) {
    throw new RangeError(
      `${OWNER}: option "table" must be a lower-case identifier ([a-z_][a-z0-9_]*, at most ${63 - INDEX_SUFFIX.length} characters), optionally schema-qualified, received ${formatValue(value)}`,
    );
  }
  // Validated above, so quoting cannot be escaped; quoted anyway to keep reserved words safe.
  const name = parts[parts.length - 1]!;
  const schema = parts.length === 2 ? parts[0] : undefined;
  const qualified = parts.map((part) => `"${part}"`).join('.');
  return schema === undefined ? { qualified, name } : { qualified, schema, name };
}

function checkPool(value: unknown): PgQueryable {
  const candidate = value as Partial<PgQueryable> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.query !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: option "pool" must be a pg Pool (an object with query()), received ${formatValue(value)}`,
    );
  }
  return candidate as PgQueryable;
}

// Postgres SQLSTATEs of a lost CREATE ... IF NOT EXISTS race between two processes.
const CREATE_RACE = new Set(['23505', '42P07', '42710']);

/** A row as the read queries select it; `undefined` when it cannot be decoded (row 21). */
function decodeRow(row: Record<string, unknown>): StoredRecord | undefined {
  const { status, fingerprint } = row;
  const expiresIn = Number(row.expires_in);
  if (typeof fingerprint !== 'string' || !Number.isFinite(expiresIn)) return undefined;
  // Whole milliseconds, rounded up: a live row never reports 0.
  const left = Math.max(1, Math.ceil(expiresIn));
  if (status === 'IN_PROGRESS') return { status, fingerprint, expiresIn: left };
  if (status !== 'COMPLETED') return undefined;
  const code = row.response_status;
  const headers = row.response_headers;
  const body = row.response_body;
  const omitted = row.body_omitted;
  if (
    typeof code !== 'number' ||
    !Number.isInteger(code) ||
    code < 100 ||
    code > 599 ||
    !isStoredHeaderList(headers) ||
    !(body instanceof Uint8Array) ||
    typeof omitted !== 'boolean'
  ) {
    return undefined;
  }
  return {
    status,
    fingerprint,
    expiresIn: left,
    response: { status: code, headers, body, bodyOmitted: omitted },
  };
}

/**
 * An idempotency {@link Store} on PostgreSQL (`pg`), shared by every app instance using the same
 * database and table. Follows Brandur Leach's "Implementing Stripe-like Idempotency Keys in
 * Postgres".
 *
 * - **Table**: created on demand, a regular (LOGGED, crash-safe) table keyed by the store key
 *   (the server's hash of namespace, scope and client key), with an index on `expires_at`.
 * - **Claim**: one statement, `INSERT … ON CONFLICT (key) DO UPDATE … WHERE expires_at <= now()`:
 *   the insert or the takeover of an expired row is atomic, and a live row is returned in the
 *   same round trip.
 * - **Complete / renew / release**: one `UPDATE`/`DELETE` each, compare-and-set on the owner
 *   token, the IN_PROGRESS status and (complete, renew) `expires_at > now()` (fencing).
 * - **Abandon**: a claim that timed out may land after a clean-up sent on another pooled
 *   connection; the server writes an `ABANDONED` tombstone for its owner instead of a delete,
 *   which that owner's late claim cannot take and any other owner's claim replaces at once.
 * - **Time**: `now()` of the database for every expiry; the app's clock is never read.
 * - **Bodies**: `bytea`, byte-identical.
 *
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (error) => log.warn(error));
 * const store = postgresStore({ pool });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  if (options === undefined) {
    throw new TypeError(`${OWNER}: options must be an object with a "pool", received undefined`);
  }
  const opts = checkOptions<PostgresStoreOptions>(OWNER, options);
  const pool = checkPool(opts.pool);
  const { qualified: t, name } =
    opts.table === undefined ? checkTable('faultline_idempotency') : checkTable(opts.table);
  const createTable =
    opts.createTable === undefined ? true : checkBoolean(OWNER, 'createTable', opts.createTable);

  // Plain CREATE TABLE is LOGGED: an UNLOGGED table is truncated after a crash, which would
  // forget completed requests and execute their retries a second time.
  const createTableSql = `CREATE TABLE IF NOT EXISTS ${t} (
  key text PRIMARY KEY,
  status text NOT NULL,
  owner text NOT NULL,
  fingerprint text NOT NULL,
  expires_at timestamptz NOT NULL,
  response_status integer,
  response_headers jsonb,
  response_body bytea,
  body_omitted boolean,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "${name}${INDEX_SUFFIX}" ON ${t} (expires_at);`;

  // Durations are relative milliseconds added to the database's now(), never app timestamps.
  const later = (param: string): string =>
    `now() + ${param}::double precision * interval '1 millisecond'`;
  const readColumns = `status, fingerprint,
  (extract(epoch FROM expires_at - now()) * 1000)::double precision AS expires_in,
  response_status, response_headers, response_body, body_omitted, xmin::text AS version`;

  const claimSql = `WITH claimed AS (
  INSERT INTO ${t} AS r (key, status, owner, fingerprint, expires_at)
  VALUES ($1, 'IN_PROGRESS', $2, $3, ${later('$4')})
  ON CONFLICT (key) DO UPDATE SET
    status = 'IN_PROGRESS', owner = EXCLUDED.owner, fingerprint = EXCLUDED.fingerprint,
    expires_at = EXCLUDED.expires_at, response_status = NULL, response_headers = NULL,
    response_body = NULL, body_omitted = NULL, created_at = now(), updated_at = now()
  WHERE r.expires_at <= now() OR (r.status = 'ABANDONED' AND r.owner <> EXCLUDED.owner)
  RETURNING (xmax = 0) AS inserted
)
SELECT true AS claimed, inserted,
  (SELECT status FROM ${t} WHERE key = $1) AS status, NULL::text AS fingerprint,
  NULL::double precision AS expires_in, NULL::integer AS response_status,
  NULL::jsonb AS response_headers, NULL::bytea AS response_body, NULL::boolean AS body_omitted,
  NULL::text AS version
FROM claimed
UNION ALL
SELECT false, NULL::boolean, ${readColumns}
FROM ${t} WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`;

  // Replaces an unreadable live row only if it is still the version the claim saw.
  const replaceSql = `UPDATE ${t} SET status = 'IN_PROGRESS', owner = $2, fingerprint = $3,
  expires_at = ${later('$4')}, response_status = NULL, response_headers = NULL,
  response_body = NULL, body_omitted = NULL, created_at = now(), updated_at = now()
WHERE key = $1 AND xmin::text = $5`;

  const getSql = `SELECT ${readColumns} FROM ${t} WHERE key = $1 AND expires_at > now()`;

  const completeSql = `UPDATE ${t} SET status = 'COMPLETED', response_status = $3,
  response_headers = $4::jsonb, response_body = $5, body_omitted = $6,
  expires_at = ${later('$7')}, updated_at = now()
WHERE key = $1 AND owner = $2 AND status = 'IN_PROGRESS' AND expires_at > now()`;

  // A retried completion whose first attempt landed: the row is this owner's COMPLETED record.
  const completedByOwnerSql = `SELECT 1 FROM ${t}
WHERE key = $1 AND owner = $2 AND status = 'COMPLETED' AND expires_at > now()`;

  const renewSql = `UPDATE ${t} SET expires_at = ${later('$3')}, updated_at = now()
WHERE key = $1 AND owner = $2 AND status = 'IN_PROGRESS' AND expires_at > now()`;

  const releaseSql = `DELETE FROM ${t} WHERE key = $1 AND owner = $2 AND status = 'IN_PROGRESS'`;

  // A tombstone for an owner whose claim timed out and may still land on another connection:
  // the claim statement takes an ABANDONED row only for a *different* owner, so the late claim
  // finds its own tombstone and holds nothing, while every retry (a new owner) claims at once.
  // It replaces this owner's IN_PROGRESS row (the claim landed first) or an expired row; a live
  // row of another owner or a COMPLETED record is left alone.
  const abandonSql = `INSERT INTO ${t} AS r (key, status, owner, fingerprint, expires_at)
VALUES ($1, 'ABANDONED', $2, '', ${later('$3')})
ON CONFLICT (key) DO UPDATE SET
  status = 'ABANDONED', owner = EXCLUDED.owner, fingerprint = '', expires_at = EXCLUDED.expires_at,
  response_status = NULL, response_headers = NULL, response_body = NULL, body_omitted = NULL,
  updated_at = now()
WHERE (r.owner = EXCLUDED.owner AND r.status IN ('IN_PROGRESS', 'ABANDONED'))
  OR r.expires_at <= now()`;

  // SKIP LOCKED: a sweep never waits for (or blocks) a claim or completion on the same rows;
  // the outer expiry check keeps a row that was taken over meanwhile.
  const sweepSql = `DELETE FROM ${t} WHERE key IN (
  SELECT key FROM ${t} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at <= now()`;

  let ready: Promise<void> | undefined;
  const ensureTable = (): Promise<void> => {
    ready ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await pool.query(createTableSql);
          return;
        } catch (error) {
          // Two processes creating the table at once: one loses with a duplicate error, and
          // the next IF NOT EXISTS sees the winner's table.
          const code = (error as { code?: unknown } | null)?.code;
          if (attempt >= 2 || typeof code !== 'string' || !CREATE_RACE.has(code)) throw error;
        }
      }
    })().catch((error: unknown) => {
      ready = undefined; // Try again on the next call (the database may have been down).
      throw error;
    });
    return ready;
  };

  const query = async (text: string, values: unknown[]) => {
    if (createTable) await ensureTable();
    return pool.query(text, values);
  };

  const ms = (value: number): number => Math.max(0, value);

  return {
    table: t,
    createTableSql,
    ensureTable,

    async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
      const values = [key, request.owner, request.fingerprint, ms(request.lockTtl)];
      // One statement normally. It returns no live row only when a concurrent claim committed
      // after this statement's snapshot (READ COMMITTED: the conflict sees it, the SELECT
      // does not) or the row expired meanwhile; the next statement sees it. Bounded anyway.
      for (let attempt = 0; attempt < 20; attempt++) {
        const { rows } = await query(claimSql, values);
        const row = rows[0];
        if (row === undefined) continue;
        if (row.claimed === true) {
          // Taking over a tombstone is not a takeover of someone's lock.
          const fresh = row.inserted === true || row.status === 'ABANDONED';
          return { claimed: true, previous: fresh ? 'none' : 'expired' };
        }
        if (row.status === 'ABANDONED') {
          // This owner's own tombstone: the server gave up on this claim (it timed out).
          throw new Error(`${OWNER}: claim abandoned by the server (it timed out)`);
        }
        if (!(Number(row.expires_in) > 0)) continue;
        const record = decodeRow(row);
        if (record !== undefined) return { claimed: false, record };
        const replaced = await query(replaceSql, [...values, row.version]);
        if (replaced.rowCount === 1) return { claimed: true, previous: 'unreadable' };
      }
      throw new Error(`${OWNER}: claim did not settle after 20 attempts (key ${formatValue(key)})`);
    },

    async get(key: string): Promise<StoredRecord | undefined> {
      const { rows } = await query(getSql, [key]);
      return rows[0] === undefined ? undefined : decodeRow(rows[0]);
    },

    async complete(
      key: string,
      owner: string,
      response: StoredResponse,
      recordTtl: number,
    ): Promise<boolean> {
      const body = response.body;
      const result = await query(completeSql, [
        key,
        owner,
        response.status,
        JSON.stringify(response.headers),
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        response.bodyOmitted,
        ms(recordTtl),
      ]);
      if (result.rowCount === 1) return true;
      // Rare (fencing, or a retry after a timeout): one more round trip to tell them apart.
      return (await query(completedByOwnerSql, [key, owner])).rowCount === 1;
    },

    async renew(key: string, owner: string, lockTtl: number): Promise<boolean> {
      return (await query(renewSql, [key, owner, ms(lockTtl)])).rowCount === 1;
    },

    async release(key: string, owner: string): Promise<boolean> {
      return (await query(releaseSql, [key, owner])).rowCount === 1;
    },

    async abandon(key: string, owner: string, ttl: number): Promise<void> {
      await query(abandonSql, [key, owner, ms(ttl)]);
    },

    async sweep(sweepOptions?: SweepOptions): Promise<number> {
      const so = checkOptions<SweepOptions>('postgresStore.sweep', sweepOptions);
      const batchSize = optionalNumber('postgresStore.sweep', 'batchSize', so.batchSize, 1000, {
        min: 1,
        max: 100_000,
        integer: true,
      });
      let total = 0;
      for (;;) {
        const deleted = (await query(sweepSql, [batchSize])).rowCount ?? 0;
        total += deleted;
        if (deleted < batchSize) return total;
      }
    },
  };
}
