import { type Clock, systemClock } from '@faultline/clock';
import { checkNumber, checkOptions, formatValue } from '@faultline/core';
import { StoreFullError } from '../errors.js';
import type { ClaimRequest, ClaimResult, Store, StoredRecord, StoredResponse } from '../store.js';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most records kept at once (IN_PROGRESS + COMPLETED). When full, the least recently used
   * COMPLETED record is evicted; IN_PROGRESS records are never evicted, so a claim when every
   * slot holds a live IN_PROGRESS record fails with `StoreFullError` (the server then applies its
   * `onStoreError` policy). Default `10_000`; an integer in [1, 2^31).
   */
  readonly maxEntries?: number;
  /** Monotonic clock for every expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * How often expired records are swept (ms). The sweep timer exists only while the store holds
   * records, and never keeps the process alive. Default `60_000`; in [1, 2^31).
   */
  readonly sweepInterval?: number;
}

/** The embedded store: one process only. */
export interface MemoryStore extends Store {
  /** Records currently held (including expired ones not yet swept). */
  readonly size: number;
  /** Removes expired records now; returns how many were removed. */
  sweep(): number;
  /** Cancels the sweep timer and drops every record. */
  close(): void;
}

interface Entry {
  readonly key: string;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'UNREADABLE';
  fingerprint: string;
  owner: string;
  /** Clock time at which the lock (IN_PROGRESS) or the record (COMPLETED) expires. */
  expiresAt: number;
  response: StoredResponse | undefined;
  /** LRU neighbours while the entry sits in {@link CompletedRecords}. */
  older: Entry | undefined;
  newer: Entry | undefined;
}

/**
 * COMPLETED (and unreadable) records: a `Map` for lookup plus an intrusive doubly linked list in
 * recency order, so a hit moves one entry in O(1) and eviction takes the oldest in O(1).
 *
 * Why not the `Map`'s own insertion order (`delete` + `set` on a hit, `keys().next()` to evict):
 * on V8 (Node 20) re-inserting a just-deleted key costs time linear in the map's size (~30 µs
 * at 10 000 entries), and `keys().next()` walks over every deleted slot left at the front of the
 * table until the next rehash (~5 µs per eviction at 10 000 entries). Both sat on every request.
 */
class CompletedRecords {
  readonly #map = new Map<string, Entry>();
  #oldest: Entry | undefined;
  #newest: Entry | undefined;

  get size(): number {
    return this.#map.size;
  }

  get(key: string): Entry | undefined {
    return this.#map.get(key);
  }

  /** Inserts (or replaces) `key` as the most recently used record. */
  set(key: string, entry: Entry): void {
    const existing = this.#map.get(key);
    if (existing !== undefined) this.#unlink(existing);
    this.#map.set(key, entry);
    this.#append(entry);
  }

  delete(key: string): boolean {
    const entry = this.#map.get(key);
    if (entry === undefined) return false;
    this.#map.delete(key);
    this.#unlink(entry);
    return true;
  }

  /** Marks `entry` (already held) as the most recently used. */
  touch(entry: Entry): void {
    if (this.#newest === entry) return;
    this.#unlink(entry);
    this.#append(entry);
  }

  /** The least recently used key. */
  oldestKey(): string | undefined {
    return this.#oldest?.key;
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
  }

  #append(entry: Entry): void {
    entry.older = this.#newest;
    entry.newer = undefined;
    if (this.#newest === undefined) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
  }

  #unlink(entry: Entry): void {
    if (entry.older === undefined) this.#oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.#newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }
}

interface Internals {
  readonly inProgress: Map<string, Entry>;
  readonly completed: CompletedRecords;
}

/** Test hook: lets `@faultline/idempotency/testing` plant an unreadable record. */
const internals = new WeakMap<MemoryStore, Internals>();

/** @internal Makes the record under `key` unreadable (for tests of row 21). */
export function corruptMemoryRecord(store: MemoryStore, key: string): void {
  const state = internals.get(store);
  if (state === undefined) throw new TypeError('corruptMemoryRecord: not a memoryStore');
  const existing = state.inProgress.get(key) ?? state.completed.get(key);
  state.inProgress.delete(key);
  // Unreadable records sit in the completed map: they are evictable garbage, never a live lock.
  state.completed.set(key, {
    key,
    status: 'UNREADABLE',
    fingerprint: '',
    owner: '',
    expiresAt: existing?.expiresAt ?? Number.POSITIVE_INFINITY,
    response: undefined,
    older: undefined,
    newer: undefined,
  });
}

const OWNER = 'memoryStore';

function copyResponse(response: StoredResponse): StoredResponse {
  // Callers may reuse their buffers; the store keeps its own copy so replays stay byte-identical.
  return {
    status: response.status,
    headers: response.headers.map(([name, value]) => [name, value] as const),
    // A copy, not response.body.slice(): on a Node Buffer that is only another view.
    body: new Uint8Array(response.body),
    bodyOmitted: response.bodyOmitted,
  };
}

/**
 * The embedded default store: a `Map` in this process. `claim` checks and sets synchronously
 * (no `await` in between), so concurrent requests in one process can never both execute. All
 * expiry uses the monotonic `clock`. Not shared between processes: use the Redis or PostgreSQL
 * store when more than one instance serves the same keys.
 */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  const owner = OWNER;
  const opts = checkOptions<MemoryStoreOptions>(owner, options);
  const maxEntries =
    opts.maxEntries === undefined
      ? 10_000
      : checkNumber(owner, 'maxEntries', opts.maxEntries, {
          min: 1,
          max: 2 ** 31,
          maxExclusive: true,
          integer: true,
        });
  const sweepInterval =
    opts.sweepInterval === undefined
      ? 60_000
      : checkNumber(owner, 'sweepInterval', opts.sweepInterval, {
          min: 1,
          max: 2 ** 31,
          maxExclusive: true,
        });
  let clock: Clock = systemClock;
  if (opts.clock !== undefined) {
    const candidate = opts.clock as Partial<Clock> | null;
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      typeof candidate.now !== 'function' ||
      typeof candidate.setTimer !== 'function'
    ) {
      throw new TypeError(
        `${owner}: option "clock" must be a Clock (now(), setTimer()), received ${formatValue(opts.clock)}`,
      );
    }
    clock = opts.clock;
  }

  // `completed` keeps its records in recency order (the LRU list), and
  // IN_PROGRESS entries live apart so eviction never has to skip over them.
  const inProgress = new Map<string, Entry>();
  const completed = new CompletedRecords();
  let cancelSweep: (() => void) | undefined;

  const size = (): number => inProgress.size + completed.size;

  const scheduleSweep = (): void => {
    if (cancelSweep !== undefined) return;
    cancelSweep = clock.setTimer(
      sweepInterval,
      () => {
        cancelSweep = undefined;
        sweep();
        if (size() > 0) scheduleSweep();
      },
      { unref: true },
    );
  };

  const sweep = (): number => {
    const now = clock.now();
    let removed = 0;
    for (const [key, entry] of inProgress) {
      if (entry.expiresAt <= now) {
        inProgress.delete(key);
        removed++;
      }
    }
    for (const key of completed.keys()) {
      if (completed.get(key)!.expiresAt <= now) {
        completed.delete(key);
        removed++;
      }
    }
    return removed;
  };

  /** The live entry for `key`, deleting it when expired. Unreadable entries are returned. */
  const live = (key: string, now: number): Entry | undefined => {
    const entry = inProgress.get(key) ?? completed.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      inProgress.delete(key);
      completed.delete(key);
      return undefined;
    }
    return entry;
  };

  // Two literals rather than a spread: this runs on every replay and conflict.
  const toRecord = (entry: Entry, now: number): StoredRecord =>
    entry.response === undefined
      ? {
          status: entry.status as 'IN_PROGRESS' | 'COMPLETED',
          fingerprint: entry.fingerprint,
          expiresIn: entry.expiresAt - now,
        }
      : {
          status: entry.status as 'IN_PROGRESS' | 'COMPLETED',
          fingerprint: entry.fingerprint,
          expiresIn: entry.expiresAt - now,
          response: entry.response,
        };

  /**
   * Makes room for one more entry, evicting LRU COMPLETED records only (O(1) each). Only when no
   * COMPLETED record is left does it sweep for expired IN_PROGRESS ones (O(n), rare).
   */
  const makeRoom = (): void => {
    while (size() >= maxEntries) {
      const oldest = completed.oldestKey();
      if (oldest !== undefined) {
        completed.delete(oldest);
        continue;
      }
      if (sweep() === 0) {
        throw new StoreFullError(
          `memoryStore: all ${maxEntries} entries are IN_PROGRESS; cannot claim another key`,
        );
      }
    }
  };

  const store: MemoryStore = {
    get size() {
      return size();
    },
    sweep,
    close() {
      cancelSweep?.();
      cancelSweep = undefined;
      inProgress.clear();
      completed.clear();
    },

    // Each method body runs synchronously to completion: `async` only wraps the result, so the
    // check-and-set cannot interleave with another request in this process.
    async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
      const now = clock.now();
      const existed = inProgress.get(key) ?? completed.get(key);
      const current = live(key, now);
      let previous: 'none' | 'expired' | 'unreadable' = existed === undefined ? 'none' : 'expired';
      if (current !== undefined) {
        if (current.status !== 'UNREADABLE') {
          if (current.status === 'COMPLETED') {
            // A hit: most recently used.
            completed.touch(current);
          }
          return { claimed: false, record: toRecord(current, now) };
        }
        completed.delete(key);
        previous = 'unreadable';
      }
      makeRoom();
      inProgress.set(key, {
        key,
        status: 'IN_PROGRESS',
        fingerprint: request.fingerprint,
        owner: request.owner,
        expiresAt: now + request.lockTtl,
        response: undefined,
        older: undefined,
        newer: undefined,
      });
      scheduleSweep();
      return { claimed: true, previous };
    },

    async get(key: string): Promise<StoredRecord | undefined> {
      const now = clock.now();
      const entry = live(key, now);
      if (entry === undefined) return undefined;
      if (entry.status === 'UNREADABLE') {
        completed.delete(key);
        return undefined;
      }
      return toRecord(entry, now);
    },

    async complete(
      key: string,
      ownerToken: string,
      response: StoredResponse,
      recordTtl: number,
    ): Promise<boolean> {
      const now = clock.now();
      const entry = inProgress.get(key);
      if (entry === undefined || entry.owner !== ownerToken || entry.expiresAt <= now) {
        // Already completed by this owner: a retried write whose first attempt landed.
        const done = completed.get(key);
        return (
          done !== undefined &&
          done.status === 'COMPLETED' &&
          done.owner === ownerToken &&
          done.expiresAt > now
        );
      }
      inProgress.delete(key);
      entry.status = 'COMPLETED';
      entry.response = copyResponse(response);
      entry.expiresAt = now + recordTtl;
      completed.set(key, entry);
      return true;
    },

    async renew(key: string, ownerToken: string, lockTtl: number): Promise<boolean> {
      const now = clock.now();
      const entry = inProgress.get(key);
      if (entry === undefined || entry.owner !== ownerToken || entry.expiresAt <= now) {
        return false;
      }
      entry.expiresAt = now + lockTtl;
      return true;
    },

    async release(key: string, ownerToken: string): Promise<boolean> {
      const entry = inProgress.get(key);
      if (entry === undefined || entry.owner !== ownerToken) return false;
      inProgress.delete(key);
      return true;
    },
  };
  internals.set(store, { inProgress, completed });
  return store;
}
