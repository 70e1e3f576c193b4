import type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimitStore,
} from './rate-limit-algorithm.js';

/** One key's state under one algorithm. */
interface Entry {
  readonly state: unknown;
  /** When the state is back at rest (a full limit), so the entry can go. */
  expiresAt: number;
}

/** The in-process {@link RateLimitStore}: see {@link memoryRateLimitStore}. */
export interface MemoryRateLimitStore extends RateLimitStore {
  /** Keys currently held (entries at rest are dropped by a periodic sweep). */
  readonly size: number;
  consume(
    key: string,
    algorithm: RateLimitAlgorithm,
    permits: number,
    now: number,
  ): RateLimitDecision;
  /**
   * The success path of {@link consume}: takes the permits and returns `true` when they are
   * granted, builds nothing; on `false` ask `consume` for the decision (it agrees).
   */
  take(key: string, algorithm: RateLimitAlgorithm, permits: number, now: number): boolean;
}

// Sweep entries at rest every this many operations, or, when more keys were left by the last
// sweep, after as many operations as there were keys: O(1) amortised per call, and memory bounded
// by the keys active within a window.
const SWEEP_EVERY = 1024;

class MemoryStore implements MemoryRateLimitStore {
  readonly kind = 'memory';
  readonly #byAlgorithm = new Map<RateLimitAlgorithm, Map<string, Entry>>();
  // The last key used: a limiter without per-key limits hits it on every call.
  #lastAlgorithm: RateLimitAlgorithm | undefined;
  #lastKey: string | undefined;
  #lastEntry: Entry | undefined;
  #operations = 0;
  #nextSweep = SWEEP_EVERY;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  consume(
    key: string,
    algorithm: RateLimitAlgorithm,
    permits: number,
    now: number,
  ): RateLimitDecision {
    const entry = this.#lookup(key, algorithm, now);
    const decision = algorithm.consume(entry.state, now, permits);
    entry.expiresAt = now + decision.resetAfter;
    if (++this.#operations >= this.#nextSweep) this.#sweep(now);
    return decision;
  }

  take(key: string, algorithm: RateLimitAlgorithm, permits: number, now: number): boolean {
    const entry = this.#lookup(key, algorithm, now);
    if (!algorithm.tryTake(entry.state, now, permits)) return false;
    // At rest within one window (two for a sliding window's trailing segment): a bound, not
    // the exact reset, so that no decision is built.
    entry.expiresAt = now + 2 * algorithm.window;
    if (++this.#operations >= this.#nextSweep) this.#sweep(now);
    return true;
  }

  #lookup(key: string, algorithm: RateLimitAlgorithm, now: number): Entry {
    if (key === this.#lastKey && algorithm === this.#lastAlgorithm) return this.#lastEntry!;
    const entry = this.#entry(key, algorithm, now);
    this.#lastAlgorithm = algorithm;
    this.#lastKey = key;
    this.#lastEntry = entry;
    return entry;
  }

  #entry(key: string, algorithm: RateLimitAlgorithm, now: number): Entry {
    let entries = this.#byAlgorithm.get(algorithm);
    if (entries === undefined) {
      entries = new Map();
      this.#byAlgorithm.set(algorithm, entries);
    }
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = { state: algorithm.initialState(now), expiresAt: now };
      entries.set(key, entry);
      this.#size++;
    }
    return entry;
  }

  #sweep(now: number): void {
    this.#operations = 0;
    for (const [algorithm, entries] of this.#byAlgorithm) {
      for (const [key, entry] of entries) {
        if (entry.expiresAt > now) continue;
        entries.delete(key);
        this.#size--;
        if (entry === this.#lastEntry) this.#lastKey = undefined;
      }
      if (entries.size === 0) {
        this.#byAlgorithm.delete(algorithm);
        if (algorithm === this.#lastAlgorithm) this.#lastAlgorithm = undefined;
      }
    }
    this.#nextSweep = Math.max(SWEEP_EVERY, this.#size);
  }
}

/**
 * Keeps rate-limit state in this process (the default store of {@link rateLimiter}). Decisions
 * are synchronous, so a limiter on it adds no promise to a call. Each (algorithm, key) pair has
 * its own state; limiters that share the store *and* the algorithm object share a limit per key.
 * Keys whose limit is full again are dropped by a periodic sweep, so memory follows the keys
 * active within one window. For a limit shared by several processes use `redisRateLimitStore`.
 */
export function memoryRateLimitStore(): MemoryRateLimitStore {
  return new MemoryStore();
}

/** Whether `store` is a {@link memoryRateLimitStore} of this copy of the package. */
export function isMemoryStore(store: RateLimitStore): store is MemoryRateLimitStore {
  return store instanceof MemoryStore;
}
