/**
 * faultline: every browser-safe faultline primitive from one import.
 *
 * Re-exports `@faultline/clock`, `@faultline/core`, `@faultline/timeout` (main entry),
 * `@faultline/retry`, `@faultline/breaker`, `@faultline/failure-detector`, `@faultline/limits`,
 * `@faultline/hedge`, `@faultline/chaos`, the main entry of `@faultline/lease` (leases, fencing,
 * leader election, `memoryLeaseStore`), the main entry of `@faultline/fleet` (`fleetBudget`,
 * `fleetBreaker`, `memoryFleetStore`; the Redis store is `@faultline/fleet/redis`) and the main entry of
 * `@faultline/idempotency` (client keys and `idempotentFetch`, the framework-free server core
 * `createIdempotency`, `memoryStore`). Node-only entries (`@faultline/timeout/node`, the
 * idempotency and limits adapters and the Redis / PostgreSQL stores) are not included: import them from
 * their own packages.
 *
 * @packageDocumentation
 */

export * from '@faultline/breaker';
export * from '@faultline/chaos';
export * from '@faultline/clock';
// `Backoff` is exported by both `@faultline/core` (where it is declared) and `@faultline/retry`
// (which re-exports it); name the owner explicitly so the two `export *` never compete.
export type { Backoff } from '@faultline/core';
export * from '@faultline/core';
export * from '@faultline/failure-detector';
export * from '@faultline/fleet';
export * from '@faultline/hedge';
export * from '@faultline/idempotency';
export * from '@faultline/lease';
export * from '@faultline/limits';
export * from '@faultline/retry';
export * from '@faultline/timeout';
