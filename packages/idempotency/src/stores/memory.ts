import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock, optionalNumber } from '@faultline/core';
import { LinkedList, ListNode } from '@faultline/core/internal';
import { ByteSlabs } from '../bytes.js';
import { StoreFullError } from '../errors.js';
import type {
  ClaimRequest,
  ClaimResult,
  Store,
  StoredHeader,
  StoredRecord,
  StoredResponse,
} from '../store.js';
import { registerSyncStore } from '../sync-store.js';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most live records kept at once (IN_PROGRESS + COMPLETED). A live record is never dropped to
   * make room: when the store is full, expired records are removed, and if none has expired a
   * new key is refused with `StoreFullError` (the server answers 503 `STORE_UNAVAILABLE`, or
   * runs unprotected with `onStoreError: 'fail-open'`, and logs it). Size it for your traffic
   * times `recordTtl`. Default `10_000`; an integer in [1, 2^31).
   */
  readonly maxEntries?: number;
  /**
   * Most live records one scope (principal) may hold, so that one client sending fresh keys
   * cannot fill the store for everyone else: its further keys are refused while other scopes
   * still get room. Default `maxEntries` (no per-scope bound); an integer in [1, maxEntries].
   */
  readonly maxEntriesPerScope?: number;
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

/** One record; also a node of the completion-ordered list while it is COMPLETED. */
class Entry extends ListNode {
  readonly key: string;
  /** The claim's scope (principal), for the per-scope bound. */
  readonly scope: string;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'UNREADABLE';
  fingerprint: string;
  owner: string;
  /** Clock time at which the lock (IN_PROGRESS) or the record (COMPLETED) expires. */
  expiresAt: number;
  // The stored response of a COMPLETED record, held inline: a store of fresh keys holds a record
  // per request for `recordTtl`, and each object per record is more for the GC to copy out of
  // the young generation and to mark again at every major GC. A response object and a view of
  // its body cost 6 µs of server CPU per request more than these fields (Express, fresh keys,
  // 7 000 req/s offered: 130.3 against 124.3 µs, `bench:http:peers --rate`, 8 paired rounds).
  // They hold a response exactly when `status` is 'COMPLETED'.
  responseStatus = 0;
  responseHeaders: readonly StoredHeader[] = NO_HEADERS;
  /**
   * The body: `bodyLength` bytes of `bodyArray` from `bodyOffset` (a slab shared with other
   * records, or an array of its own for a large body).
   */
  bodyArray: Uint8Array = EMPTY_BODY;
  bodyOffset = 0;
  bodyLength = 0;
  bodyOmitted = false;

  constructor(
    key: string,
    scope: string,
    status: Entry['status'],
    fingerprint: string,
    owner: string,
    expiresAt: number,
  ) {
    super();
    this.key = key;
    this.scope = scope;
    this.status = status;
    this.fingerprint = fingerprint;
    this.owner = owner;
    this.expiresAt = expiresAt;
  }
}

const NO_HEADERS: readonly StoredHeader[] = Object.freeze([]);
const EMPTY_BODY = new Uint8Array(0);

/** The response a completed entry holds, as a new object (a replay's, not the store's). */
function storedResponse(entry: Entry): StoredResponse {
  const offset = entry.bodyOffset;
  return {
    status: entry.responseStatus,
    headers: entry.responseHeaders,
    body: entry.bodyArray.subarray(offset, offset + entry.bodyLength),
    bodyOmitted: entry.bodyOmitted,
  };
}

/**
 * COMPLETED (and unreadable) records: a `Map` for lookup plus core's intrusive linked list in
 * completion order. With one `recordTtl` (the usual case) completion order is expiry order, so
 * the expired records are the oldest ones and removing them costs O(1) each.
 *
 * Why not the `Map`'s own insertion order (`keys().next()` for the oldest): on V8 (Node 20) it
 * walks over every deleted slot left at the front of the table until the next rehash, which put
 * microseconds per removal on the request path at 10 000 entries.
 */
class CompletedRecords {
  readonly #map = new Map<string, Entry>();
  #order = new LinkedList<Entry>();

  get size(): number {
    return this.#map.size;
  }

  get(key: string): Entry | undefined {
    return this.#map.get(key);
  }

  /** Inserts (or replaces) `key` as the newest record. */
  set(key: string, entry: Entry): void {
    const existing = this.#map.get(key);
    if (existing !== undefined) this.#order.remove(existing);
    this.#map.set(key, entry);
    this.#order.push(entry);
  }

  /**
   * Inserts `key`, known to be absent, as the newest record: one lookup fewer than {@link set}
   * on a map that holds every record (a completion: a key is never in both maps at once).
   */
  insert(key: string, entry: Entry): void {
    this.#map.set(key, entry);
    this.#order.push(entry);
  }

  delete(key: string): Entry | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    this.#map.delete(key);
    this.#order.remove(entry);
    return entry;
  }

  /** The oldest record. */
  oldest(): Entry | undefined {
    return this.#order.head;
  }

  values(): IterableIterator<Entry> {
    return this.#map.values();
  }

  clear(): void {
    this.#map.clear();
    // The dropped entries keep stale links to each other only: garbage together.
    this.#order = new LinkedList<Entry>();
  }
}

interface Internals {
  readonly inProgress: Map<string, Entry>;
  readonly completed: CompletedRecords;
  readonly added: (entry: Entry) => void;
  readonly removed: (entry: Entry) => void;
  readonly floor: (expiresAt: number) => void;
}

/** Test hook: lets `@faultline/idempotency/testing` plant an unreadable record. */
const internals = new WeakMap<MemoryStore, Internals>();

/** @internal Makes the record under `key` unreadable (for tests of row 21). */
export function corruptMemoryRecord(store: MemoryStore, key: string): void {
  const state = internals.get(store);
  if (state === undefined) throw new TypeError('corruptMemoryRecord: not a memoryStore');
  const existing = state.inProgress.get(key) ?? state.completed.get(key);
  if (existing !== undefined) {
    state.inProgress.delete(key);
    state.completed.delete(key);
    state.removed(existing);
  }
  // Unreadable records sit in the completed map: garbage that a claim replaces, never a lock.
  const entry = new Entry(
    key,
    existing?.scope ?? '',
    'UNREADABLE',
    '',
    '',
    existing?.expiresAt ?? Number.POSITIVE_INFINITY,
  );
  state.completed.set(key, entry);
  state.added(entry);
  state.floor(entry.expiresAt);
}

/** The factory, as error messages name it. */
const FACTORY = 'memoryStore';

/** Header lists with more entries than this are copied, never interned. */
const MAX_INTERNED_HEADERS = 16;
/** Most distinct header lists interned per store. */
const MAX_INTERNED_LISTS = 1_024;

/**
 * Frozen, shared copies of the stored header lists: the responses of one endpoint nearly always
 * carry the same few headers (a content type, an `x-` header), so thousands of records share one
 * list instead of an array of pairs each. Bounded: past {@link MAX_INTERNED_LISTS} distinct
 * lists (or for long lists) a record gets a frozen copy of its own.
 */
class HeaderLists {
  readonly #lists = new Map<string, readonly StoredHeader[]>();
  #last: readonly StoredHeader[] = Object.freeze([]);

  intern(headers: readonly StoredHeader[]): readonly StoredHeader[] {
    const last = this.#last;
    if (sameHeaders(headers, last)) return last;
    if (headers.length > MAX_INTERNED_HEADERS) return freezeHeaders(headers);
    let id = '';
    for (const [name, value] of headers) id += `${name.length}:${name}${value.length}:${value}`;
    let list = this.#lists.get(id);
    if (list === undefined) {
      list = freezeHeaders(headers);
      if (this.#lists.size >= MAX_INTERNED_LISTS) return list;
      this.#lists.set(id, list);
    }
    this.#last = list;
    return list;
  }

  clear(): void {
    this.#lists.clear();
  }
}

function sameHeaders(a: readonly StoredHeader[], b: readonly StoredHeader[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

function freezeHeaders(headers: readonly StoredHeader[]): readonly StoredHeader[] {
  return Object.freeze(headers.map(([name, value]) => Object.freeze([name, value] as const)));
}

/**
 * The embedded default store: a `Map` in this process. `claim` checks and sets synchronously
 * (no `await` in between), so concurrent requests in one process can never both execute. All
 * expiry uses the monotonic `clock`. Bounded (`maxEntries`, optionally `maxEntriesPerScope`)
 * without ever dropping a live record: when full, a new key is refused. Not shared between
 * processes: use the Redis or PostgreSQL store when more than one instance serves the same keys.
 */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  const opts = checkOptions<MemoryStoreOptions>(FACTORY, options);
  const maxEntries = optionalNumber(FACTORY, 'maxEntries', opts.maxEntries, 10_000, {
    min: 1,
    max: 2 ** 31,
    maxExclusive: true,
    integer: true,
  });
  const maxPerScope = optionalNumber(
    FACTORY,
    'maxEntriesPerScope',
    opts.maxEntriesPerScope,
    maxEntries,
    {
      min: 1,
      max: maxEntries,
      integer: true,
    },
  );
  const sweepInterval = optionalNumber(FACTORY, 'sweepInterval', opts.sweepInterval, 60_000, {
    min: 1,
    max: 2 ** 31,
    maxExclusive: true,
  });
  const clock = optionalClock(FACTORY, 'clock', opts.clock, ['now', 'setTimer']);

  // IN_PROGRESS entries live apart from the completed list, so removing expired records from
  // its old end never has to skip over a lock.
  const inProgress = new Map<string, Entry>();
  const completed = new CompletedRecords();
  const headerLists = new HeaderLists();
  const bodies = new ByteSlabs();
  // Records held per scope, only tracked when there is a per-scope bound.
  const perScope = maxPerScope < maxEntries ? new Map<string, number>() : undefined;
  let cancelSweep: (() => void) | undefined;
  // Lower bounds on the earliest expiry among IN_PROGRESS and COMPLETED records (exact after a
  // sweep; renewals and removals only move the true minimum later). When `now` is below them
  // nothing can have expired, so a full store costs O(1) per refused claim, not a scan.
  let lockExpiryFloor = Number.POSITIVE_INFINITY;
  let recordExpiryFloor = Number.POSITIVE_INFINITY;

  const size = (): number => inProgress.size + completed.size;

  const added = (entry: Entry): void => {
    if (perScope !== undefined) perScope.set(entry.scope, (perScope.get(entry.scope) ?? 0) + 1);
  };
  const removed = (entry: Entry): void => {
    if (perScope === undefined) return;
    const left = (perScope.get(entry.scope) ?? 1) - 1;
    if (left === 0) perScope.delete(entry.scope);
    else perScope.set(entry.scope, left);
  };
  const drop = (entry: Entry): void => {
    if (entry.status === 'IN_PROGRESS') inProgress.delete(entry.key);
    else completed.delete(entry.key);
    removed(entry);
  };

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

  /**
   * Removes the expired entries of `entries`; returns how many, and hands the earliest expiry
   * left to `setFloor`.
   */
  const sweepExpired = (
    entries: { values(): Iterable<Entry> },
    now: number,
    setFloor: (floor: number) => void,
  ): number => {
    let count = 0;
    let floor = Number.POSITIVE_INFINITY;
    for (const entry of entries.values()) {
      if (entry.expiresAt <= now) {
        drop(entry);
        count++;
      } else if (entry.expiresAt < floor) {
        floor = entry.expiresAt;
      }
    }
    setFloor(floor);
    return count;
  };
  const setLockFloor = (floor: number): void => {
    lockExpiryFloor = floor;
  };
  const setRecordFloor = (floor: number): void => {
    recordExpiryFloor = floor;
  };

  /** Removes the expired locks; returns how many. */
  const sweepLocks = (now: number): number => sweepExpired(inProgress, now, setLockFloor);

  /** Removes the expired completed (and unreadable) records; returns how many. */
  const sweepRecords = (now: number): number => sweepExpired(completed, now, setRecordFloor);

  const sweep = (): number => {
    const now = clock.now();
    return sweepLocks(now) + sweepRecords(now);
  };

  const full = (scope: string): boolean => size() >= maxEntries || scopeFull(scope);

  /** The live entry for `key`, deleting it when expired. Unreadable entries are returned. */
  const live = (key: string, now: number): Entry | undefined => {
    const entry = inProgress.get(key) ?? completed.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      drop(entry);
      return undefined;
    }
    return entry;
  };

  // Two literals rather than a spread: this runs on every replay and conflict. Never called
  // for an UNREADABLE entry (a claim replaces it, a read reports none).
  const toRecord = (entry: Entry, now: number): StoredRecord =>
    entry.status === 'COMPLETED'
      ? {
          status: 'COMPLETED',
          fingerprint: entry.fingerprint,
          expiresIn: entry.expiresAt - now,
          response: storedResponse(entry),
        }
      : {
          status: 'IN_PROGRESS',
          fingerprint: entry.fingerprint,
          expiresIn: entry.expiresAt - now,
        };

  const scopeFull = (scope: string): boolean =>
    perScope !== undefined && (perScope.get(scope) ?? 0) >= maxPerScope;

  /**
   * Makes room for one more record of `scope` without dropping a live one, by removing expired
   * records: first from the old end of the completed list (completion order is expiry order
   * for one recordTtl: O(1) each), then, only if one may have expired, every expired lock and
   * record (mixed recordTtls, expired locks). No room left: StoreFullError.
   */
  const makeRoom = (scope: string, now: number): void => {
    if (!full(scope)) return;
    for (let oldest = completed.oldest(); oldest !== undefined; oldest = completed.oldest()) {
      if (oldest.expiresAt > now) break;
      drop(oldest);
      if (!full(scope)) return;
    }
    if (now >= lockExpiryFloor && sweepLocks(now) > 0 && !full(scope)) return;
    if (now >= recordExpiryFloor) sweepRecords(now);
    if (size() >= maxEntries) {
      throw new StoreFullError(
        `memoryStore: all ${maxEntries} entries hold live records (none has expired); a new key is refused rather than dropping one. Raise maxEntries or lower recordTtl`,
      );
    }
    if (scopeFull(scope)) {
      throw new StoreFullError(
        `memoryStore: one scope holds ${maxPerScope} live records (maxEntriesPerScope); its new keys are refused until some expire`,
      );
    }
  };

  // Each operation runs synchronously to completion, so the check-and-set cannot interleave
  // with another request in this process; the store's methods wrap them in a promise, and the
  // server core calls them directly (see `SyncStore`).
  const claimNow = (key: string, request: ClaimRequest): ClaimResult => {
    const now = clock.now();
    // One lookup: a live record answers; an expired or unreadable one is replaced.
    const existed = inProgress.get(key) ?? completed.get(key);
    let previous: 'none' | 'expired' | 'unreadable' = 'none';
    if (existed !== undefined) {
      if (existed.expiresAt <= now) {
        previous = 'expired';
      } else if (existed.status !== 'UNREADABLE') {
        return { claimed: false, record: toRecord(existed, now) };
      } else {
        previous = 'unreadable';
      }
      drop(existed);
    }
    const scope = request.scope ?? '';
    makeRoom(scope, now);
    const entry = new Entry(
      key,
      scope,
      'IN_PROGRESS',
      request.fingerprint,
      request.owner,
      now + request.lockTtl,
    );
    inProgress.set(key, entry);
    added(entry);
    if (entry.expiresAt < lockExpiryFloor) lockExpiryFloor = entry.expiresAt;
    scheduleSweep();
    return { claimed: true, previous };
  };

  const completeNow = (
    key: string,
    ownerToken: string,
    response: StoredResponse,
    recordTtl: number,
  ): boolean => {
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
    // Callers may reuse their buffers: the store keeps its own copy, so replays stay
    // byte-identical.
    entry.responseStatus = response.status;
    entry.responseHeaders = headerLists.intern(response.headers);
    entry.bodyOffset = bodies.copy(response.body);
    entry.bodyArray = bodies.array;
    entry.bodyLength = response.body.length;
    entry.bodyOmitted = response.bodyOmitted;
    entry.expiresAt = now + recordTtl;
    completed.insert(key, entry);
    if (entry.expiresAt < recordExpiryFloor) recordExpiryFloor = entry.expiresAt;
    return true;
  };

  const releaseNow = (key: string, ownerToken: string): boolean => {
    const entry = inProgress.get(key);
    if (entry === undefined || entry.owner !== ownerToken) return false;
    drop(entry);
    return true;
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
      perScope?.clear();
      headerLists.clear();
      lockExpiryFloor = Number.POSITIVE_INFINITY;
      recordExpiryFloor = Number.POSITIVE_INFINITY;
    },

    async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
      return claimNow(key, request);
    },

    async get(key: string): Promise<StoredRecord | undefined> {
      const now = clock.now();
      const entry = live(key, now);
      if (entry === undefined) return undefined;
      if (entry.status === 'UNREADABLE') {
        drop(entry);
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
      return completeNow(key, ownerToken, response, recordTtl);
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
      return releaseNow(key, ownerToken);
    },
  };
  registerSyncStore(store, {
    claim: store.claim,
    complete: store.complete,
    release: store.release,
    claimNow,
    completeNow,
    releaseNow,
  });
  internals.set(store, {
    inProgress,
    completed,
    added,
    removed,
    floor: (expiresAt) => {
      if (expiresAt < recordExpiryFloor) recordExpiryFloor = expiresAt;
    },
  });
  return store;
}
