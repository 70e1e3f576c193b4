/**
 * The contract between a lease and the place that arbitrates it (memory, Redis, PostgreSQL).
 * Every store implements exactly these three operations, each atomic on the store's side, with
 * the semantics below; `checkLeaseStoreConformance` (in `src/testing/store-conformance.ts`) checks
 * them with random operation sequences.
 *
 * Time: every expiry is computed on the **store's** clock (the memory store's `clock`, Redis's
 * own expiry, PostgreSQL's `now()`), never on a client's wall clock. The client computes its own,
 * shorter, local validity from its monotonic clock (see `createLease`).
 */

/** A lease granted by {@link LeaseStore.acquire}. */
export interface LeaseGrant {
  /**
   * The fencing token (Kleppmann 2016): strictly greater than every token the store has granted
   * for this resource before, across grants, expiries, releases and takeovers. Never derived
   * from a client's clock. The first token of a resource is ≥ 1n.
   */
  readonly token: bigint;
  /** The lease's duration as the store granted it (ms, from the moment it was granted). */
  readonly ttl: number;
}

/** {@link LeaseStore.acquire}'s answer when another owner's lease is still live. */
export interface LeaseHeld {
  readonly held: true;
  /** Ms until the current holder's lease expires, as the store sees it (≥ 0). */
  readonly retryAfter: number;
}

/** What {@link LeaseStore.acquire} resolves to: a grant, or the news that the lease is held. */
export type LeaseAcquireResult = LeaseGrant | LeaseHeld;

/** Whether an acquire result is a grant (it has a `token`). */
export function isLeaseGrant(result: LeaseAcquireResult): result is LeaseGrant {
  return (result as Partial<LeaseHeld>).held !== true;
}

/**
 * Arbitrates leases on named resources. Implementations: `memoryLeaseStore` (this package),
 * `redisLeaseStore` (`@faultline/lease/redis`), `postgresLeaseStore` (`@faultline/lease/postgres`).
 *
 * A lease is **live** from its grant (or last renewal) until `ttl` ms later on the store's clock,
 * and ends early when released. Semantics every implementation follows:
 * - `acquire(resource, owner, ttl)`: if no live lease exists for `resource` (never granted,
 *   expired or released), grants one to `owner` for `ttl` ms with a **new token** (strictly
 *   greater than every token granted for `resource` before, expired or released ones included)
 *   and resolves `{ token, ttl }`. Otherwise, whoever holds it (the same owner included),
 *   resolves `{ held: true, retryAfter }` with the ms left of the live lease. Atomic: two
 *   concurrent acquires never both get a grant while the first is live.
 * - `renew(resource, owner, token, ttl)`: if the live lease of `resource` belongs to `owner` with
 *   exactly `token`, extends it to `ttl` ms from now (the token stays) and resolves `true`;
 *   otherwise (another owner, another token, expired, released) changes nothing and resolves
 *   `false`. An expired lease is never revived, even when nobody took it over.
 * - `release(resource, owner, token)`: if the live lease of `resource` belongs to `owner` with
 *   `token`, ends it now and resolves `true`; otherwise changes nothing and resolves `false`.
 *   The token counter is kept, so the next grant still gets a greater token.
 *
 * `ttl` is a positive integer (ms). A store that cannot be reached rejects (or never answers: the
 * lease bounds every call with its `storeTimeout`); it never reports a grant it did not make.
 */
export interface LeaseStore {
  acquire(resource: string, owner: string, ttl: number): Promise<LeaseAcquireResult>;
  renew(resource: string, owner: string, token: bigint, ttl: number): Promise<boolean>;
  release(resource: string, owner: string, token: bigint): Promise<boolean>;
}

/** Whether `value` looks like a {@link LeaseStore} (has `acquire`, `renew` and `release`). */
export function isLeaseStore(value: unknown): value is LeaseStore {
  if (value === null || typeof value !== 'object') return false;
  const store = value as Partial<Record<keyof LeaseStore, unknown>>;
  return (
    typeof store.acquire === 'function' &&
    typeof store.renew === 'function' &&
    typeof store.release === 'function'
  );
}
