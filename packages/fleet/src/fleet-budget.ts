import type { Clock } from '@faultline/clock';
import { identify, type Listener, type Outcome, type PolicyIdentity } from '@faultline/core';
import {
  type RatioBudget,
  type RatioBudgetOptions,
  type RetryBudget,
  type RetryTicket,
  ratioBudget,
  type TokenBucketBudget,
  type TokenBucketBudgetOptions,
  tokenBucketBudget,
} from '@faultline/retry';
import {
  type FleetBudgetOptions,
  type FleetBudgetShape,
  resolveFleetBudgetOptions,
} from './fleet-budget-options.js';
import type { BudgetRequest, FleetStore } from './store.js';
import type { FleetRejoinEvent, FleetStoreFailureEvent } from './store-events.js';
import { FleetSync } from './sync.js';

const OWNER = 'fleetBudget';

/**
 * A retry budget shared by every instance of a service (Finagle's `RetryBudget`, or gRPC's
 * retry throttling, fleet-wide). Each instance leases retries from the shared budget in batches
 * and deposits its calls (or successes) in the background; the call path only touches local
 * counters. While the store fails, the instance decides with a local budget of the same shape
 * (fed all along), and rejoins when the store answers.
 */
export class FleetBudget implements RetryBudget, RetryTicket {
  readonly name: string;
  readonly kind: FleetBudgetShape['kind'];
  readonly #store: FleetStore;
  readonly #shape: FleetBudgetShape;
  readonly #batch: number;
  readonly #clock: Clock;
  readonly #local: RatioBudget | TokenBucketBudget;
  readonly #sync: FleetSync;
  readonly #identity: PolicyIdentity;
  /** Since the last step: calls begun, successes, failures denied for want of a lease. */
  #calls = 0;
  #successes = 0;
  #denied = 0;
  /** Leased retries not used yet, the store slice they came from, and when (local clock). */
  #stock = 0;
  #stockSlice = 0;
  #stockAt = 0;
  /** Whether any retry was asked for since the last step. */
  #demand = false;
  /** Retries the fleet could still lease, as of the last step. */
  #balance = 0;

  constructor(options: FleetBudgetOptions) {
    const o = resolveFleetBudgetOptions(options);
    this.name = o.name;
    this.#store = o.store;
    this.#shape = o.shape;
    this.kind = o.shape.kind;
    this.#batch = o.batch;
    this.#clock = o.clock;
    this.#local =
      o.shape.kind === 'token'
        ? tokenBucketBudget(o.budget as TokenBucketBudgetOptions)
        : ratioBudget({ ...(o.budget as RatioBudgetOptions), clock: o.clock });
    this.#identity = identify(OWNER, 'fleet-budget', o.name);
    this.#sync = new FleetSync(o.clock, o.sync, o.storeTimeout, this.#identity, () => this.#step());
  }

  /** Whether the instance decides on its local budget because the store is failing. */
  get local(): boolean {
    return this.#sync.failing;
  }

  /** Leased retries this instance can grant without asking the store. */
  get leased(): number {
    return this.#stock;
  }

  /** Retries the fleet could still lease, as of the last store step. */
  get fleetBalance(): number {
    return this.#balance;
  }

  begin(): RetryTicket {
    this.#local.begin();
    this.#calls++;
    return this;
  }

  /** Grants a retry from this instance's lease (never waits for the store). */
  tryRetry(outcome: Outcome<unknown>): boolean {
    if (this.#sync.failing) return this.#local.tryRetry(outcome);
    this.#demand = true;
    if (this.#stock > 0) {
      this.#stock--;
      return true;
    }
    this.#denied++;
    this.#sync.kick();
    return false;
  }

  succeed(): void {
    this.#local.succeed();
    this.#successes++;
  }

  fail(): void {}

  /** A store step failed: the budget now decides locally. */
  onStoreFailure(listener: Listener<FleetStoreFailureEvent>): () => void {
    return this.#sync.onStoreFailure(listener);
  }

  /** The store answered again: the budget is shared again. */
  onRejoin(listener: Listener<FleetRejoinEvent>): () => void {
    return this.#sync.onRejoin(listener);
  }

  /**
   * Stops the background sync (the budget then keeps deciding on what it holds). Not needed for
   * the process to exit: the sync timer is unref'd.
   */
  dispose(): void {
    this.#sync.close();
  }

  /** One store step: deposit, hand back stale leases, lease up to the target. */
  async #step(): Promise<void> {
    const shape = this.#shape;
    const now = this.#clock.now();
    const calls = this.#calls;
    const successes = this.#successes;
    const denied = this.#denied;
    this.#calls = 0;
    this.#successes = 0;
    this.#denied = 0;
    // A ratio lease is paid in one slice of the shared window; once that slice could have
    // expired the payment is gone and the lease must not be spent. Hand it back at half the
    // window (credited to its slice, if still there).
    let returned = 0;
    if (shape.kind === 'ratio' && this.#stock > 0 && now - this.#stockAt >= shape.ttl / 2) {
      returned = this.#stock;
      this.#stock = 0;
    }
    const returnSlice = this.#stockSlice;
    // Hold a full batch while retries are asked for, one standing retry otherwise (so a lone
    // failure in a quiet fleet can still retry without a round trip).
    const target = this.#demand ? this.#batch : 1;
    this.#demand = false;
    const want = Math.max(0, target - this.#stock);
    const request: BudgetRequest =
      shape.kind === 'ratio'
        ? {
            kind: 'ratio',
            ttl: shape.ttl,
            slices: 10,
            reserve: shape.reserve,
            withdrawal: shape.withdrawal,
            deposit: calls * shape.deposit,
            returned,
            returnSlice,
            want,
          }
        : {
            kind: 'token',
            max: shape.max,
            threshold: shape.threshold,
            deposit: successes * shape.deposit,
            drained: denied,
            returned: 0,
            returnSlice: 0,
            want,
          };
    // Sent even with nothing to say: it is also how a failing store is noticed and rejoined.
    const reply = await this.#store.budget(this.name, request);
    if (this.#sync.closed && reply.granted === 0) return;
    if (reply.granted > 0) {
      if (this.#stock === 0) {
        this.#stockSlice = reply.slice;
        this.#stockAt = now;
      }
      // Mixed leases keep the older slice: handing them back there can only lose retries.
      this.#stock += reply.granted;
    }
    this.#balance = reply.balance;
  }
}

/**
 * Creates a {@link FleetBudget}: a `RetryBudget` for `retry({ budget })` shared across the fleet.
 *
 * @example
 * ```ts
 * const budget = fleetBudget({ store, name: 'payments', budget: { ratio: 0.1 } });
 * const policy = retry({ maxAttempts: 3, budget });
 * ```
 */
export function fleetBudget(options: FleetBudgetOptions): FleetBudget {
  return new FleetBudget(options);
}
