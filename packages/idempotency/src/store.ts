/**
 * The storage contract behind server-side request dedup. Every store (the embedded
 * `memoryStore`, `@faultline/idempotency/redis`, `@faultline/idempotency/postgres`, or your own)
 * implements {@link Store} and passes the shared conformance suite
 * (`describeStoreConformance` from `@faultline/idempotency/testing`).
 *
 * The model follows Brandur Leach's "Implementing Stripe-like Idempotency Keys in Postgres" and
 * draft-ietf-httpapi-idempotency-key-header: one record per (scope, key), first IN_PROGRESS under
 * a lock lease held by an *owner token*, then COMPLETED with the response to replay.
 *
 * **Time.** All expiry is computed by the store's own clock: Redis `PX`, PostgreSQL `now()`, the
 * memory store's monotonic `Clock`. Durations are passed in as relative milliseconds and never as
 * absolute times, because the application's `Date.now()` on N machines disagrees with itself.
 *
 * **Fencing.** Every write after the claim (`complete`, `renew`, `release`) is a compare-and-set
 * on the owner token *and* on the lock still being alive. An owner whose lock expired (it paused,
 * hung, or lost its connection) and whose record was taken over can therefore never overwrite
 * the new owner's record: its write is refused (`false`), which the server reports as an event.
 */

/** The two states of a record. Absent and expired records are not states: they do not exist. */
export type RecordStatus = 'IN_PROGRESS' | 'COMPLETED';

/** One response header as stored: lower-case name and value. */
export type StoredHeader = readonly [name: string, value: string];

/**
 * Whether a decoded value is a list of stored headers (`[name, value]` string pairs): for stores
 * that read records back from their own serialisation and must treat anything else as unreadable.
 */
export function isStoredHeaderList(value: unknown): value is StoredHeader[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item) =>
        Array.isArray(item) &&
        item.length === 2 &&
        typeof item[0] === 'string' &&
        typeof item[1] === 'string',
    )
  );
}

/** The response kept for replay. */
export interface StoredResponse {
  /** HTTP status code (100–599). */
  readonly status: number;
  /** Headers to replay (already filtered through the replay allow-list), lower-case names. */
  readonly headers: readonly StoredHeader[];
  /** The body bytes, byte-identical to what the first client received; empty when omitted. */
  readonly body: Uint8Array;
  /**
   * `true` when the body was larger than `maxStoredBodyBytes` and was not stored: replays send
   * status and headers with an empty body and `Idempotency-Body-Omitted: true`.
   */
  readonly bodyOmitted: boolean;
}

/** A live record as {@link Store.get} and {@link Store.claim} report it. */
export interface StoredRecord {
  readonly status: RecordStatus;
  /** The request fingerprint written at claim time (opaque string, compared with `===`). */
  readonly fingerprint: string;
  /** Present if and only if `status` is `'COMPLETED'`. */
  readonly response?: StoredResponse;
  /**
   * Milliseconds until the record (COMPLETED) or the lock (IN_PROGRESS) expires, measured by the
   * store's clock at the time of the read; always > 0 for a record that is returned.
   */
  readonly expiresIn: number;
}

/** What {@link Store.claim} asks to write. */
export interface ClaimRequest {
  /** A fresh, unguessable owner token for this execution (the fencing token). */
  readonly owner: string;
  /** The request fingerprint, kept with the record for its whole life. */
  readonly fingerprint: string;
  /** Lock lease in ms: the IN_PROGRESS record expires this long after the claim (store clock). */
  readonly lockTtl: number;
  /**
   * The principal the key belongs to (`''` for global keys). The key already encodes it; a store
   * may use it to bound what one principal holds (the memory store's `maxEntriesPerScope`).
   */
  readonly scope?: string;
}

/**
 * Why a claim found room for a new record:
 * - `'none'`: no record existed (or the store had already deleted an expired one, e.g. Redis PX);
 * - `'expired'`: an IN_PROGRESS record whose lock had expired was taken over (row 8), or a
 *   COMPLETED record past its expiry was replaced (row 11);
 * - `'unreadable'`: a record that could not be decoded was replaced (row 21; the server warns).
 *
 * Stores that cannot tell `'none'` from `'expired'` report `'none'`; the conformance suite
 * accepts either there. `'unreadable'` must be reported whenever garbage was replaced.
 */
export type ClaimPrevious = 'none' | 'expired' | 'unreadable';

/** The result of {@link Store.claim}. */
export type ClaimResult =
  | { readonly claimed: true; readonly previous: ClaimPrevious }
  | { readonly claimed: false; readonly record: StoredRecord };

/**
 * Storage for idempotency records. Keys are opaque strings (the server passes a hash of
 * namespace, scope and client key); owner tokens are opaque strings.
 *
 * Atomicity: `claim` is one atomic check-and-set; `complete`, `renew` and `release` are atomic
 * compare-and-sets on (owner, IN_PROGRESS, lock alive). A store shared between processes must
 * keep these guarantees across them (Redis: `SET NX PX` and Lua; PostgreSQL: one statement).
 *
 * Errors: any method may reject (store down, timeout); the server applies its `onStoreError`
 * policy and puts its own timeout around every call, so a store need not time out by itself.
 */
export interface Store {
  /**
   * Atomically creates `IN_PROGRESS {fingerprint, owner}` with a lock expiring `lockTtl` ms from
   * now (store clock) **if** no live record exists for `key`. A live record is a COMPLETED record
   * before its expiry or an IN_PROGRESS record before its lock expiry. An expired record (either
   * kind) or an unreadable one is replaced as if absent (see {@link ClaimPrevious}).
   *
   * Returns `{ claimed: true }` when this call now owns the key, otherwise
   * `{ claimed: false, record }` with the live record it found (never an expired one).
   * Of any number of concurrent claims for one key, exactly one succeeds.
   */
  claim(key: string, request: ClaimRequest): Promise<ClaimResult>;

  /**
   * The live record for `key`, or `undefined` when there is none (absent, expired or
   * unreadable; a store may delete expired or unreadable records here).
   */
  get(key: string): Promise<StoredRecord | undefined>;

  /**
   * Compare-and-set: if `key` holds an IN_PROGRESS record owned by `owner` whose lock has not
   * expired, replaces it by `COMPLETED {same fingerprint, response}` expiring `recordTtl` ms from
   * now (store clock) and returns `true`. If `key` already holds a live COMPLETED record written
   * by `owner` (a retried write whose first attempt landed but timed out on the way back), changes
   * nothing and returns `true`. Otherwise changes nothing and returns `false` (the owner was fenced
   * off: its lock expired, or another owner took over, or the record is gone).
   */
  complete(
    key: string,
    owner: string,
    response: StoredResponse,
    recordTtl: number,
  ): Promise<boolean>;

  /**
   * Compare-and-set: if `key` holds a live IN_PROGRESS record owned by `owner`, moves its lock
   * expiry to `lockTtl` ms from now (store clock) and returns `true`; otherwise `false`. An
   * expired lock is never revived (the owner must stop trusting its lease).
   */
  renew(key: string, owner: string, lockTtl: number): Promise<boolean>;

  /**
   * Compare-and-delete: if `key` holds an IN_PROGRESS record owned by `owner`, deletes it and
   * returns `true` (a retry will execute again); otherwise `false`. Never deletes a COMPLETED
   * record or another owner's record. Releasing an owned record whose lock already expired (but
   * which nobody took over) is allowed and returns `true`.
   */
  release(key: string, owner: string): Promise<boolean>;

  /**
   * Optional. Called when a claim by `owner` failed or timed out on the client side: the server
   * will not execute, but the claim may still land, possibly after this call (a store whose
   * calls can overtake each other, such as one on a connection pool, must implement it). After
   * it, `owner`'s claim must never hold `key`, whenever it lands: an IN_PROGRESS record of
   * `owner` is removed, and a claim by `owner` arriving within `ttl` ms (store clock) must not
   * take the key (it may fail). Claims by other owners are never hindered, and nothing else is
   * touched. Stores whose calls keep their order (one Redis connection, the memory store) can
   * leave it out: the server then calls `release`, and releases a claim reported late.
   */
  abandon?(key: string, owner: string, ttl: number): Promise<unknown>;
}
