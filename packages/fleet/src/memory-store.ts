import type { Clock } from '@faultline/clock';
import { checkFunction, checkOptions, optionalClock } from '@faultline/core';
import type {
  BreakerReply,
  BreakerRequest,
  BudgetReply,
  BudgetRequest,
  FleetOpenReason,
  FleetStore,
} from './store.js';

/** Options of {@link memoryFleetStore}. */
export interface MemoryFleetStoreOptions {
  /** The store's clock (what `TIME` is to Redis). Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * Makes every operation reject (as an unreachable Redis would) while it returns `true`: for
   * tests of the fallback to local state. Default: never.
   */
  readonly failing?: () => boolean;
}

interface BudgetEntry {
  /** Ratio budgets: net milli-tokens per slice. Token budgets: slot 0 holds the count. */
  readonly slices: Map<number, number>;
  expiresAt: number;
}

interface InstanceCounts {
  calls: number;
  failures: number;
  slow: number;
  at: number;
}

interface BreakerEntry {
  open: boolean;
  breakId: number;
  until: number;
  attempt: number;
  duration: number;
  probe: number;
  probeUntil: number;
  seq: number;
  reason: FleetOpenReason;
  failures: number;
  failureRate: number;
  readonly instances: Map<string, InstanceCounts>;
  /** Instances holding the circuit isolated, and when they last said so. */
  readonly holders: Map<string, number>;
  expiresAt: number;
}

/** A {@link FleetStore} in memory: see {@link memoryFleetStore}. */
export class MemoryFleetStore implements FleetStore {
  readonly kind = 'memory';
  readonly #clock: Clock;
  readonly #failing: (() => boolean) | undefined;
  readonly #budgets = new Map<string, BudgetEntry>();
  readonly #breakers = new Map<string, BreakerEntry>();

  constructor(options?: MemoryFleetStoreOptions) {
    const owner = 'memoryFleetStore';
    const opts = checkOptions<MemoryFleetStoreOptions>(owner, options);
    this.#clock = optionalClock(owner, 'clock', opts.clock);
    this.#failing =
      opts.failing === undefined
        ? undefined
        : checkFunction<() => boolean>(owner, 'failing', opts.failing);
  }

  /** Live keys (expired ones are dropped when read): for leak tests. */
  get size(): number {
    const now = this.#clock.now();
    let size = 0;
    for (const map of [this.#budgets, this.#breakers] as Map<string, { expiresAt: number }>[]) {
      for (const [key, entry] of map) {
        if (entry.expiresAt <= now) map.delete(key);
        else size++;
      }
    }
    return size;
  }

  budget(name: string, request: BudgetRequest): Promise<BudgetReply> {
    if (this.#failing?.()) return Promise.reject(new Error('memoryFleetStore: store is failing'));
    const now = this.#clock.now();
    let entry = this.#budgets.get(name);
    if (entry === undefined || entry.expiresAt <= now) {
      entry = { slices: new Map(), expiresAt: 0 };
      this.#budgets.set(name, entry);
    }
    return Promise.resolve(budgetStep(entry, request, now));
  }

  breaker(name: string, request: BreakerRequest): Promise<BreakerReply> {
    if (this.#failing?.()) return Promise.reject(new Error('memoryFleetStore: store is failing'));
    const now = this.#clock.now();
    let entry = this.#breakers.get(name);
    if (entry === undefined || entry.expiresAt <= now) {
      entry = {
        open: false,
        breakId: 0,
        until: 0,
        attempt: 0,
        duration: 0,
        probe: 0,
        probeUntil: 0,
        seq: 0,
        reason: 'failure-threshold',
        failures: 0,
        failureRate: 0,
        instances: new Map(),
        holders: new Map(),
        expiresAt: 0,
      };
      this.#breakers.set(name, entry);
    }
    return Promise.resolve(breakerStep(entry, request, now));
  }
}

/** The budget step, as the Redis script runs it (see `redis.ts`). */
function budgetStep(entry: BudgetEntry, r: BudgetRequest, now: number): BudgetReply {
  const slices = entry.slices;
  if (r.kind === 'token') {
    let tokens = slices.get(0) ?? r.max;
    tokens = Math.min(r.max, tokens + r.deposit + r.returned * 1000);
    // A failure denied for want of a lease while the bucket could still pay for a retry would
    // have been granted by one central bucket: it carries over to the next lease instead of
    // draining. Below that line every failure drains, as in gRFC A6.
    if (tokens - 1000 <= r.threshold) tokens = Math.max(0, tokens - r.drained * 1000);
    let granted = 0;
    while (granted < r.want && tokens - 1000 > r.threshold) {
      tokens -= 1000;
      granted++;
    }
    slices.set(0, tokens);
    entry.expiresAt = now + TOKEN_KEY_TTL;
    const balance = tokens > r.threshold ? Math.ceil((tokens - r.threshold) / 1000) - 1 : 0;
    return { granted, slice: 0, balance };
  }
  const sliceMs = Math.floor(r.ttl / r.slices);
  const current = Math.floor(now / sliceMs);
  const oldest = current - r.slices + 1;
  let sum = 0;
  for (const [slice, amount] of slices) {
    if (slice < oldest) slices.delete(slice);
    else sum += amount;
  }
  if (r.deposit > 0) {
    slices.set(current, (slices.get(current) ?? 0) + r.deposit);
    sum += r.deposit;
  }
  if (r.returned > 0 && r.returnSlice >= oldest && r.returnSlice <= current) {
    slices.set(r.returnSlice, (slices.get(r.returnSlice) ?? 0) + r.returned * r.withdrawal);
    sum += r.returned * r.withdrawal;
  }
  const count = r.reserve + sum;
  let granted = 0;
  if (r.want > 0 && count >= r.withdrawal) {
    granted = Math.min(r.want, Math.floor(count / r.withdrawal));
    slices.set(current, (slices.get(current) ?? 0) - granted * r.withdrawal);
  }
  entry.expiresAt = now + r.ttl + sliceMs;
  const left = count - granted * r.withdrawal;
  return { granted, slice: current, balance: left > 0 ? Math.floor(left / r.withdrawal) : 0 };
}

/** A token budget's key lives this long after its last use (then it starts full again). */
export const TOKEN_KEY_TTL = 600_000;

/** The breaker step, as the Redis script runs it (see `redis.ts`). */
function breakerStep(e: BreakerEntry, r: BreakerRequest, now: number): BreakerReply {
  let granted = 0;
  const open = (reason: FleetOpenReason, failures: number, failureRate: number): void => {
    e.open = true;
    e.breakId++;
    e.attempt++;
    e.duration = r.breaks[Math.min(e.attempt, r.breaks.length) - 1]!;
    e.until = now + e.duration;
    e.probe = 0;
    e.probeUntil = 0;
    e.reason = reason;
    e.failures = failures;
    e.failureRate = failureRate;
    e.instances.clear();
  };
  const close = (): void => {
    e.open = false;
    e.attempt = 0;
    e.probe = 0;
    e.probeUntil = 0;
    e.instances.clear();
  };
  // Isolation: held while any holder has stepped within `stale`; when the last one lets go (or
  // stops stepping) the circuit closes, as circuitBreaker's isolate() handle does.
  for (const [id, at] of e.holders) if (now - at > r.stale) e.holders.delete(id);
  const wasIsolated = e.holders.size > 0;
  if (r.holding) e.holders.set(r.instance, now);
  else e.holders.delete(r.instance);
  if (r.op === 'close') {
    e.holders.clear();
    close();
  } else if (wasIsolated && e.holders.size === 0) {
    close();
  }
  if (r.op === 'success' || r.op === 'failure') {
    if (e.open && r.token > 0 && e.probe === r.token) {
      if (r.op === 'success') {
        close();
      } else {
        open('probe-failed', e.failures, e.failureRate);
      }
    }
  } else if (r.op === 'probe') {
    if (e.open && now >= e.until && (e.probe === 0 || now >= e.probeUntil)) {
      e.seq++;
      e.probe = e.seq;
      e.probeUntil = now + e.duration;
      granted = e.seq;
    }
  }
  // Counts from an instance that has not seen the latest break belong to a window that is gone.
  if (!e.open && r.seen === e.breakId) {
    e.instances.set(r.instance, { calls: r.calls, failures: r.failures, slow: r.slow, at: now });
  }
  if (!e.open) {
    let calls = 0;
    let failures = 0;
    let slow = 0;
    let sick = 0;
    for (const [id, counts] of e.instances) {
      if (now - counts.at > r.stale) {
        e.instances.delete(id);
        continue;
      }
      calls += counts.calls;
      failures += counts.failures;
      slow += counts.slow;
      if (counts.failures > 0) sick++;
    }
    const rule = r.rule;
    if (
      calls > 0 &&
      calls >= rule.minCalls &&
      sick >= r.quorum &&
      (failures / calls >= rule.failureRatio || slow / calls >= rule.slowRatio)
    ) {
      open('failure-threshold', failures, failures / calls);
    }
  }
  e.expiresAt = now + breakerKeyTtl(r);
  return {
    open: e.open,
    isolated: e.holders.size > 0,
    breakId: e.breakId,
    remaining: e.open ? Math.max(0, e.until - now) : 0,
    attempt: e.attempt,
    breakDuration: e.open ? e.duration : 0,
    token: granted,
    permitRemaining: e.open && e.probe !== 0 ? Math.max(0, e.probeUntil - now) : 0,
    reason: e.reason,
    failures: e.failures,
    failureRate: e.failureRate,
  };
}

/** A breaker's key outlives its longest interval by a minute, then a dead fleet leaves nothing. */
export function breakerKeyTtl(r: BreakerRequest): number {
  return 2 * Math.max(...r.breaks, r.stale) + 60_000;
}

/**
 * A {@link FleetStore} in this process's memory, for tests and the simulator: the same steps as
 * the Redis store, on `clock`. Instances share state when they share the store object.
 */
export function memoryFleetStore(options?: MemoryFleetStoreOptions): MemoryFleetStore {
  return new MemoryFleetStore(options);
}
