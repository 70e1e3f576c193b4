import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock } from '@faultline/core';
import type { LeaseAcquireResult, LeaseStore } from './lease-store.js';

/** Options of {@link memoryLeaseStore}. */
export interface MemoryLeaseStoreOptions {
  /**
   * The store's clock: every lease expires on it (monotonic). Default `systemClock`; a
   * `VirtualClock` in tests, the simulator's clock in simulations.
   */
  readonly clock?: Clock;
}

interface LiveLease {
  readonly owner: string;
  readonly token: bigint;
  expiresAt: number;
}

/**
 * A {@link LeaseStore} in this process's memory: for tests, the simulator and leases between the
 * tasks of one process. Expiry is read from `clock` when an operation runs (no timers). The token
 * counter of every resource ever leased is kept for the store's lifetime (it is what makes tokens
 * strictly increase), so the memory grows with the number of distinct resources, not with use.
 */
export function memoryLeaseStore(options?: MemoryLeaseStoreOptions): LeaseStore {
  return new MemoryLeaseStore(options);
}

class MemoryLeaseStore implements LeaseStore {
  readonly #clock: Clock;
  readonly #leases = new Map<string, LiveLease>();
  readonly #counters = new Map<string, bigint>();

  constructor(options?: MemoryLeaseStoreOptions) {
    const opts = checkOptions<MemoryLeaseStoreOptions>('memoryLeaseStore', options);
    this.#clock = optionalClock('memoryLeaseStore', 'clock', opts.clock, ['now']);
  }

  /** The live lease of `resource` (an expired one is dropped on the way). */
  #live(resource: string, now: number): LiveLease | undefined {
    const lease = this.#leases.get(resource);
    if (lease === undefined) return undefined;
    if (lease.expiresAt <= now) {
      this.#leases.delete(resource);
      return undefined;
    }
    return lease;
  }

  async acquire(resource: string, owner: string, ttl: number): Promise<LeaseAcquireResult> {
    const now = this.#clock.now();
    const live = this.#live(resource, now);
    if (live !== undefined) return { held: true, retryAfter: live.expiresAt - now };
    const token = (this.#counters.get(resource) ?? 0n) + 1n;
    this.#counters.set(resource, token);
    this.#leases.set(resource, { owner, token, expiresAt: now + ttl });
    return { token, ttl };
  }

  async renew(resource: string, owner: string, token: bigint, ttl: number): Promise<boolean> {
    const now = this.#clock.now();
    const live = this.#live(resource, now);
    if (live === undefined || live.owner !== owner || live.token !== token) return false;
    live.expiresAt = now + ttl;
    return true;
  }

  async release(resource: string, owner: string, token: bigint): Promise<boolean> {
    const live = this.#live(resource, this.#clock.now());
    if (live === undefined || live.owner !== owner || live.token !== token) return false;
    this.#leases.delete(resource);
    return true;
  }
}
