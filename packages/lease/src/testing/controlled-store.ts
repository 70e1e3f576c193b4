/**
 * A {@link LeaseStore} wrapper whose calls can be delayed, failed or left hanging, on a clock, for
 * tests only. `delay` is split into the request's way to the store and the answer's way back
 * (`requestDelay`, `responseDelay`) so that tests can tell "sent" from "granted".
 */
import type { Clock } from '@faultline/clock';
import type { LeaseAcquireResult, LeaseStore } from '../lease-store.js';

export class ControlledStore implements LeaseStore {
  readonly inner: LeaseStore;
  readonly #clock: Clock;
  /** Ms before the request reaches the store. */
  requestDelay = 0;
  /** Ms before the store's answer reaches the caller. */
  responseDelay = 0;
  /** When set, every call rejects with it (after the delays). */
  failure: Error | undefined;
  /** When true, calls never answer. */
  hang = false;
  /** Calls made, by operation. */
  readonly calls = { acquire: 0, renew: 0, release: 0 };

  constructor(inner: LeaseStore, clock: Clock) {
    this.inner = inner;
    this.#clock = clock;
  }

  async #through<T>(operation: () => Promise<T>): Promise<T> {
    if (this.hang) return new Promise<T>(() => {});
    const failure = this.failure;
    if (this.requestDelay > 0) await this.#clock.sleep(this.requestDelay);
    if (failure !== undefined) throw failure;
    const result = await operation();
    if (this.responseDelay > 0) await this.#clock.sleep(this.responseDelay);
    return result;
  }

  acquire(resource: string, owner: string, ttl: number): Promise<LeaseAcquireResult> {
    this.calls.acquire++;
    return this.#through(() => this.inner.acquire(resource, owner, ttl));
  }

  renew(resource: string, owner: string, token: bigint, ttl: number): Promise<boolean> {
    this.calls.renew++;
    return this.#through(() => this.inner.renew(resource, owner, token, ttl));
  }

  release(resource: string, owner: string, token: bigint): Promise<boolean> {
    this.calls.release++;
    return this.#through(() => this.inner.release(resource, owner, token));
  }
}
