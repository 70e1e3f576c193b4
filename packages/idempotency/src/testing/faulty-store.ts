import type { Store } from '../store.js';

/** A store operation name. */
export type StoreOperation = 'claim' | 'get' | 'complete' | 'renew' | 'release';

/** How a {@link FaultyStore} answers an operation. */
export type FaultMode =
  /** Passes the call to the inner store. */
  | 'ok'
  /** Rejects with an `Error('store unavailable')` (connection refused, reset...). */
  | 'reject'
  /** Never settles (a paused or partitioned server). */
  | 'hang';

/** A store that injects outages into another one: see {@link faultyStore}. */
export interface FaultyStore extends Store {
  /** Sets the mode of one operation, or of all of them. */
  fail(operation: StoreOperation | 'all', mode: FaultMode, times?: number): void;
  /** Back to `'ok'` for every operation. */
  heal(): void;
  /** Calls seen per operation (including failed ones). */
  readonly calls: Readonly<Record<StoreOperation, number>>;
}

const OPERATIONS: readonly StoreOperation[] = ['claim', 'get', 'complete', 'renew', 'release'];

/**
 * Wraps `inner` so that a test can make any operation reject or hang, for a number of calls or
 * until {@link FaultyStore.heal}: the store-outage rows of the behaviour table (16, 17).
 */
export function faultyStore(inner: Store): FaultyStore {
  const modes = new Map<StoreOperation, { mode: FaultMode; times: number }>();
  const calls: Record<StoreOperation, number> = {
    claim: 0,
    get: 0,
    complete: 0,
    renew: 0,
    release: 0,
  };
  const run = <T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> => {
    calls[operation]++;
    const fault = modes.get(operation);
    if (fault !== undefined && fault.mode !== 'ok' && fault.times > 0) {
      fault.times--;
      if (fault.mode === 'hang') return new Promise<T>(() => {});
      return Promise.reject(new Error(`store unavailable (${operation})`));
    }
    return call();
  };
  return {
    calls,
    fail(operation, mode, times = Number.POSITIVE_INFINITY) {
      for (const op of operation === 'all' ? OPERATIONS : [operation])
        modes.set(op, { mode, times });
    },
    heal() {
      modes.clear();
    },
    claim: (key, request) => run('claim', () => inner.claim(key, request)),
    get: (key) => run('get', () => inner.get(key)),
    complete: (key, owner, response, ttl) =>
      run('complete', () => inner.complete(key, owner, response, ttl)),
    renew: (key, owner, ttl) => run('renew', () => inner.renew(key, owner, ttl)),
    release: (key, owner) => run('release', () => inner.release(key, owner)),
    // Passed through untouched when the inner store has it (a clean-up, not an operation the
    // fault modes cover).
    ...(inner.abandon === undefined
      ? {}
      : { abandon: (key: string, owner: string, ttl: number) => inner.abandon!(key, owner, ttl) }),
  };
}
