import {
  checkBoolean,
  checkFunction,
  checkOptions,
  checkString,
  formatValue,
} from '@faultline/core';
import { FencedOutError } from '../lease-errors.js';
import { checkQueryable, onceCreated, type PgQueryable, quoteTable } from './postgres.js';

/** A client checked out of a `pg` `Pool`: what {@link fencedTransaction} uses and hands you. */
export interface PgPoolClient extends PgQueryable {
  release(error?: Error | boolean): void;
  /** `pg`'s `Client` is an EventEmitter: it emits `'error'` when its connection dies. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a `pg` `Pool` {@link fencedTransaction} uses. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

/** Options of {@link fencedTransaction}. */
export interface FencedTransactionOptions {
  /**
   * The fence table (`resource text PRIMARY KEY, fence bigint`): one row per fenced resource
   * holding the highest token seen. Same naming rules as the lease store's table. Default
   * `'faultline_fence'`.
   */
  readonly table?: string;
  /** The fenced resource (the lease's resource, or the id of the data the lease guards). */
  readonly resource: string;
  /** The lease's fencing token (`held.token`). */
  readonly token: bigint;
  /** Create the fence table on first use. Default `true`. */
  readonly createTable?: boolean;
}

const OWNER = 'fencedTransaction';
const DEFAULT_TABLE = 'faultline_fence';

/** The DDL of a fence table, for your migrations. */
export function fenceTableSql(table: string = DEFAULT_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable('fenceTableSql', table)} (
  resource text PRIMARY KEY,
  fence bigint NOT NULL
)`;
}

// One creation per pool and table (a process normally has one of each).
const created = new WeakMap<object, Map<string, () => Promise<void>>>();

function ensureFenceTable(pool: PgPool, table: string): Promise<void> {
  let tables = created.get(pool);
  if (tables === undefined) {
    tables = new Map();
    created.set(pool, tables);
  }
  let ensure = tables.get(table);
  if (ensure === undefined) {
    const sql = fenceTableSql(table);
    ensure = onceCreated(() => pool.query(sql));
    tables.set(table, ensure);
  }
  return ensure();
}

/**
 * Runs `fn(client)` in one transaction under a fencing token (Kleppmann 2016): it first upserts
 * the resource's fence row, which locks it for the rest of the transaction, rejecting with
 * `FencedOutError` (and rolling back) when the row has already seen a higher token, else recording
 * `token`; then runs `fn` with the transaction's client and commits. Every statement `fn` runs
 * (reads included) happens under the fence, so a read-modify-write cannot interleave with a newer
 * holder's: the newer holder's own `fencedTransaction` waits for this one's row lock, and this
 * one, if it comes second, is rejected. A rejection of `fn` rolls back and passes through.
 *
 * ```ts
 * await fencedTransaction(pool, { resource: 'orders', token: held.token }, async (client) => {
 *   const { rows } = await client.query('SELECT total FROM orders_summary WHERE id = 1');
 *   await client.query('UPDATE orders_summary SET total = $1 WHERE id = 1', [rows[0].total + 1]);
 * });
 * ```
 *
 * The one-statement form, for a single write, needs no transaction: keep a `fence` column in the
 * row itself, `UPDATE t SET …, fence = $token WHERE id = $id AND fence <= $token` (0 rows
 * updated means fenced out).
 */
export async function fencedTransaction<T>(
  pool: PgPool,
  options: FencedTransactionOptions,
  fn: (client: PgPoolClient) => T | Promise<T>,
): Promise<Awaited<T>> {
  checkQueryable<PgPool>(OWNER, 'pool', pool, ['connect']);
  const opts = checkOptions<FencedTransactionOptions>(OWNER, options);
  const tableName = opts.table ?? DEFAULT_TABLE;
  const t = quoteTable(OWNER, tableName);
  const resource = checkString(OWNER, 'resource', opts.resource);
  const token = opts.token;
  if (typeof token !== 'bigint') {
    throw new TypeError(
      `${OWNER}: option "token" must be a bigint (held.token), received ${formatValue(token)}`,
    );
  }
  if (token < 0n || token >= 2n ** 63n) {
    throw new RangeError(
      `${OWNER}: option "token" must be a bigint in [0, 2^63 - 1], received ${formatValue(token)}`,
    );
  }
  const createTable =
    opts.createTable === undefined ? true : checkBoolean(OWNER, 'createTable', opts.createTable);
  checkFunction(OWNER, 'fn', fn, false);
  if (createTable) await ensureFenceTable(pool, tableName);

  const client = await pool.connect();
  // A checked-out pg client whose connection dies emits 'error'; without a listener that is an
  // uncaught exception. Listen while we hold it, and destroy such a client instead of pooling it.
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on?.('error', onError);
  const release = (): void => {
    client.off?.('error', onError);
    client.release(broken ?? false);
  };
  try {
    await client.query('BEGIN');
  } catch (error) {
    broken ??= asError(error); // Unusable connection: destroy it rather than pool it.
    release();
    throw error;
  }
  try {
    // The upsert locks the fence row (taken or not) until COMMIT / ROLLBACK.
    const recorded = await client.query(
      `INSERT INTO ${t} AS f (resource, fence) VALUES ($1, $2::bigint)
ON CONFLICT (resource) DO UPDATE SET fence = EXCLUDED.fence WHERE f.fence <= EXCLUDED.fence`,
      [resource, String(token)],
    );
    if (recorded.rowCount !== 1) {
      const { rows } = await client.query(
        `SELECT fence::text AS fence FROM ${t} WHERE resource = $1`,
        [resource],
      );
      const highest = BigInt(String(rows[0]?.fence ?? token));
      throw new FencedOutError(token, highest, `${OWNER} on ${JSON.stringify(resource)}`);
    }
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken ??= asError(rollbackError);
    });
    throw error;
  } finally {
    release();
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
