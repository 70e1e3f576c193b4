/**
 * The shared state of a fleet: one interface, {@link FleetStore}, with a Redis implementation
 * (`redisFleetStore` in `@faultline/fleet/redis`) and a memory one (`memoryFleetStore`) for tests
 * and the simulator. Every operation is one atomic step on the store's own clock (Redis `TIME`),
 * so instances never compare their clocks; the replies carry durations, never timestamps.
 * @module
 */

/**
 * A Finagle-style budget step (`fleetBudget` with `{ ratio, minRetriesPerSecond, ttl }`): the
 * store keeps a windowed counter of milli-tokens in `slices` slices of `ttl / slices` ms each.
 * Amounts are integers (Finagle's scale of 1000).
 */
export interface RatioBudgetRequest {
  readonly kind: 'ratio';
  /** Window of a deposit, ms. */
  readonly ttl: number;
  /** Slices of the window. */
  readonly slices: number;
  /** Always-available reserve, milli-tokens (`minRetriesPerSecond · ttlSeconds · withdrawal`). */
  readonly reserve: number;
  /** Cost of one retry, milli-tokens (`floor(1000 / ratio)`). */
  readonly withdrawal: number;
  /** Milli-tokens to deposit now (1000 per call begun since the last step). */
  readonly deposit: number;
  /** Unused leased retries handed back, and the slice they were withdrawn in. */
  readonly returned: number;
  readonly returnSlice: number;
  /** Retries to lease now (0 to lease none). */
  readonly want: number;
}

/**
 * A gRPC-style budget step (`fleetBudget` with `{ maxTokens, tokenRatio }`, gRFC A6): one shared
 * milli-token count that starts full.
 */
export interface TokenBudgetRequest {
  readonly kind: 'token';
  /** Capacity, milli-tokens. */
  readonly max: number;
  /** A retry is granted while the count after paying stays above this, milli-tokens. */
  readonly threshold: number;
  /** Milli-tokens earned by successful calls since the last step. */
  readonly deposit: number;
  /** Failures denied locally since the last step: each still drains 1000 (gRFC A6). */
  readonly drained: number;
  /** Unused leased retries handed back (1000 each). */
  readonly returned: number;
  readonly returnSlice: number;
  readonly want: number;
}

/** One step of a fleet retry budget. */
export type BudgetRequest = RatioBudgetRequest | TokenBudgetRequest;

/** The store's answer to a {@link BudgetRequest}. */
export interface BudgetReply {
  /** Retries leased to the caller (already paid for in the shared budget). */
  readonly granted: number;
  /** The slice the lease was withdrawn in (return unused retries with it); 0 for token budgets. */
  readonly slice: number;
  /** Retries the fleet could still lease after this step. */
  readonly balance: number;
}

/** When the fleet's aggregate window trips: `calls ≥ minCalls` and a ratio reached. */
export interface BreakerRule {
  /** Calls the aggregate window must hold. */
  readonly minCalls: number;
  /** `failures / calls ≥ failureRatio` trips. */
  readonly failureRatio: number;
  /** `slow / calls ≥ slowRatio` trips (2 = never). */
  readonly slowRatio: number;
}

/** One step of a fleet circuit breaker. */
export interface BreakerRequest {
  /**
   * `sync`: publish the window and read the state. `probe`: also ask for the half-open permit.
   * `success` / `failure`: the probe holding permit `token` ended so. `close`: force the circuit
   * closed (and void every isolation).
   */
  readonly op: 'sync' | 'probe' | 'success' | 'failure' | 'close';
  /** The instance (random per process). */
  readonly instance: string;
  /** The break the instance last saw (its counts are ignored when the fleet has moved on). */
  readonly seen: number;
  /** The instance's current window: calls, handled failures and slow calls. */
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  readonly rule: BreakerRule;
  /** Instances with failures in their window needed to open. */
  readonly quorum: number;
  /** How long an instance's window counts without being published again (a dead instance). */
  readonly stale: number;
  /**
   * Length of the n-th consecutive break, ms (index n − 1; the last repeats); a break's length is
   * also the life of its probe permits. `[ms]` for a fixed break.
   */
  readonly breaks: readonly number[];
  /** The probe permit, for `success` and `failure`. */
  readonly token: number;
  /**
   * Whether this instance holds the circuit isolated (refreshed by every step; a holder that
   * stops stepping lets go after `stale` ms).
   */
  readonly holding: boolean;
}

/** Why the shared circuit last opened. */
export type FleetOpenReason = 'failure-threshold' | 'probe-failed';

/** The store's answer to a {@link BreakerRequest}: the shared state after the step. */
export interface BreakerReply {
  /** The shared circuit is open (its break may have elapsed, waiting for a probe). */
  readonly open: boolean;
  /** Some instance holds the circuit isolated (every call rejected until released). */
  readonly isolated: boolean;
  /** Openings so far (the id of the current or last break). */
  readonly breakId: number;
  /** Ms of the current break still to run (0 once elapsed, or closed). */
  readonly remaining: number;
  /** Consecutive openings since the circuit last closed. */
  readonly attempt: number;
  /** Length of the current break, ms (0 when closed). */
  readonly breakDuration: number;
  /** The probe permit granted by this step (0: none). */
  readonly token: number;
  /** Ms until the permit held by someone expires (0: no permit out). */
  readonly permitRemaining: number;
  readonly reason: FleetOpenReason;
  /** Aggregate failures and failure rate when it last opened. */
  readonly failures: number;
  readonly failureRate: number;
}

/** Shared state for `fleetBudget` and `fleetBreaker`. Every key it writes expires. */
export interface FleetStore {
  /** `'redis'` or `'memory'` (or a custom store's own). */
  readonly kind: string;
  /** One atomic budget step for the budget `name`. */
  budget(name: string, request: BudgetRequest): Promise<BudgetReply>;
  /** One atomic breaker step for the breaker `name`. */
  breaker(name: string, request: BreakerRequest): Promise<BreakerReply>;
}

/** Whether `value` looks like a {@link FleetStore}. */
export function isFleetStore(value: unknown): value is FleetStore {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<FleetStore>).budget === 'function' &&
    typeof (value as Partial<FleetStore>).breaker === 'function'
  );
}
