import type { ClaimRequest, ClaimResult, Store, StoredResponse } from './store.js';

/**
 * The synchronous side of an in-process store (the memory store): the same operations with the
 * same semantics, answered without a promise. The server core calls these instead of the
 * store's `claim`, `complete` and `release` while those are still the store's own methods, so
 * an in-process store costs no promise, no store-timeout bookkeeping and no microtask hop per
 * call (a call that cannot wait on I/O cannot stall, so `storeTimeout` has nothing to bound).
 * A store whose methods were replaced or wrapped (a spy, a fault-injecting test) goes through
 * its methods as any other store does.
 * @internal
 */
export interface SyncStore {
  /** The store's own asynchronous methods, which the ones below answer for. */
  readonly claim: Store['claim'];
  readonly complete: Store['complete'];
  readonly release: Store['release'];
  claimNow(key: string, request: ClaimRequest): ClaimResult;
  completeNow(key: string, owner: string, response: StoredResponse, recordTtl: number): boolean;
  releaseNow(key: string, owner: string): boolean;
}

const syncStores = new WeakMap<Store, SyncStore>();

/** Declares `sync` the synchronous side of `store`. @internal */
export function registerSyncStore(store: Store, sync: SyncStore): void {
  syncStores.set(store, sync);
}

/** The synchronous side of `store`, if it is an in-process store that has one. @internal */
export function syncStoreOf(store: Store): SyncStore | undefined {
  return syncStores.get(store);
}
