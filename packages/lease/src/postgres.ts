/**
 * PostgreSQL store and fence for `@faultline/lease`: `postgresLeaseStore({ pool })` on `pg`
 * (durable tokens), and `fencedTransaction` to check fencing tokens at a PostgreSQL resource.
 * Node-only.
 * @module
 */

export {
  type PgQueryable,
  POSTGRES_LEASE_STORE_DEFAULTS,
  type PostgresLeaseStore,
  type PostgresLeaseStoreOptions,
  postgresLeaseStore,
} from './stores/postgres.js';
export {
  type FencedTransactionOptions,
  fencedTransaction,
  fenceTableSql,
  type PgPool,
  type PgPoolClient,
} from './stores/postgres-fence.js';
