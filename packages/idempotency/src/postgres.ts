/**
 * PostgreSQL store for `@faultline/idempotency`: `postgresStore({ pool })` on `pg`. Several app
 * instances sharing one database execute each key once.
 * @module
 */
export {
  type PgQueryable,
  type PostgresStore,
  type PostgresStoreOptions,
  postgresStore,
  type SweepOptions,
} from './stores/postgres.js';
