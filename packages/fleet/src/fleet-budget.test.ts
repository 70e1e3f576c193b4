import { VirtualClock } from '@faultline/clock';
import { type Outcome, type TelemetryRecord, telemetry } from '@faultline/core';
import { ratioBudget } from '@faultline/retry';
import { describe, expect, it } from 'vitest';
import { fleetBudget } from './fleet-budget.js';
import { memoryFleetStore } from './memory-store.js';

const failure: Outcome<unknown> = { ok: false, error: new Error('boom') };

/** Lets the store's promise callbacks run (the memory store answers in a microtask). */
async function settle(clock: VirtualClock, ms = 0): Promise<void> {
  await clock.advance(ms);
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('fleetBudget (ratio, Finagle semantics fleet-wide)', () => {
  it('four instances share one reserve: the fleet retries like one budget, not four', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    const options = {
      store,
      name: 'downstream',
      budget: { ratio: 0.1, minRetriesPerSecond: 10, ttl: 1000 },
      clock,
    };
    const fleet = Array.from({ length: 4 }, () => fleetBudget(options));
    const local = Array.from({ length: 4 }, () => ratioBudget({ ...options.budget, clock }));
    await settle(clock, 0);
    let fleetRetries = 0;
    let localRetries = 0;
    let calls = 0;
    // 2 s, every instance: 5 failing calls per 10 ms, each asking for up to 2 retries.
    for (let t = 0; t < 2000; t += 10) {
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 5; k++) {
          calls++;
          const ticket = fleet[i]!.begin();
          for (let a = 0; a < 2 && ticket.tryRetry(failure); a++) fleetRetries++;
          const own = local[i]!.begin();
          for (let a = 0; a < 2 && own.tryRetry(failure); a++) localRetries++;
        }
      }
      await settle(clock, 10);
    }
    for (const b of fleet) b.dispose();
    // Finagle's bound over the run: ratio·calls plus the reserve (10/s · 1 s) once per ttl.
    const bound = 0.1 * calls + 10 * 2;
    expect(fleetRetries).toBeLessThanOrEqual(bound);
    expect(fleetRetries).toBeGreaterThanOrEqual(0.9 * bound);
    // Four local budgets each have their own reserve.
    expect(localRetries).toBeGreaterThanOrEqual(0.1 * calls + 4 * 10 * 2 - 10);
  });

  it('leases in batches: one store step serves `batch` retries', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    let steps = 0;
    const counted = {
      kind: 'counted',
      budget: (name: string, r: Parameters<typeof store.budget>[1]) => {
        steps++;
        return store.budget(name, r);
      },
      breaker: store.breaker.bind(store),
    };
    const budget = fleetBudget({
      store: counted,
      name: 'b',
      budget: { ratio: 0.5, minRetriesPerSecond: 100, ttl: 1000 },
      batch: 10,
      clock,
    });
    await settle(clock);
    expect(budget.leased).toBe(1); // the standing retry
    expect(budget.begin().tryRetry(failure)).toBe(true);
    expect(budget.begin().tryRetry(failure)).toBe(false); // nothing leased: asks the store now
    await settle(clock);
    expect(budget.leased).toBe(10);
    const before = steps;
    for (let i = 0; i < 10; i++) expect(budget.begin().tryRetry(failure)).toBe(true);
    expect(steps).toBe(before); // no round trip for the batch
    budget.dispose();
  });

  it('falls back to a local budget when the store fails, and rejoins when it answers', async () => {
    const clock = new VirtualClock();
    let down = false;
    const store = memoryFleetStore({ clock, failing: () => down });
    const budget = fleetBudget({
      store,
      name: 'b',
      budget: { ratio: 0, minRetriesPerSecond: 3, ttl: 1000 },
      clock,
    });
    const failures: unknown[] = [];
    const rejoins: number[] = [];
    budget.onStoreFailure((event) => failures.push(event.operation));
    budget.onRejoin((event) => rejoins.push(event.downtime));
    const records: TelemetryRecord[] = [];
    const unsubscribe = telemetry.subscribe((record) => records.push(record));
    await settle(clock);
    down = true;
    await settle(clock, 250);
    expect(budget.local).toBe(true);
    expect(failures).toEqual(['sync']);
    // Local: the local reserve of 3.
    let granted = 0;
    for (let i = 0; i < 10; i++) if (budget.begin().tryRetry(failure)) granted++;
    expect(granted).toBe(3);
    down = false;
    await settle(clock, 250);
    expect(budget.local).toBe(false);
    expect(rejoins).toEqual([250]);
    unsubscribe();
    budget.dispose();
    const events = records.flatMap((r) => (r.type === 'event' ? [r.event] : []));
    expect(events).toEqual(['store-failure', 'store-recovered']);
  });

  it('a lease is handed back before the slice that paid for it expires', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    // A reserve of exactly one retry: whoever holds it, nobody else can have it.
    const options = {
      store,
      name: 'b',
      budget: { ratio: 0, minRetriesPerSecond: 1, ttl: 1000 },
      sync: 100,
      clock,
    };
    const a = fleetBudget(options);
    await settle(clock);
    expect(a.leased).toBe(1);
    const b = fleetBudget(options);
    await settle(clock);
    expect(b.leased).toBe(0);
    // At half the window, a hands its idle lease back (and leases again): the fleet never has
    // more than the one retry out, and it never outlives the slice that paid for it.
    for (let t = 0; t < 3000; t += 100) {
      await settle(clock, 100);
      expect(a.leased + b.leased).toBeLessThanOrEqual(1);
    }
    expect(a.begin().tryRetry(failure) || b.begin().tryRetry(failure)).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('a slow store counts as failing after storeTimeout', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    const hanging = {
      kind: 'hanging',
      budget: () => new Promise<never>(() => {}),
      breaker: store.breaker.bind(store),
    };
    const budget = fleetBudget({ store: hanging, name: 'b', storeTimeout: 50, clock });
    const errors: unknown[] = [];
    budget.onStoreFailure((event) => errors.push(event.error));
    await settle(clock, 49);
    expect(errors).toHaveLength(0);
    await settle(clock, 1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).name).toBe('FleetStoreTimeoutError');
    budget.dispose();
  });

  it('token budgets (gRFC A6) share one bucket', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    const options = { store, name: 't', budget: { maxTokens: 10, tokenRatio: 0.1 }, clock };
    const a = fleetBudget(options);
    const b = fleetBudget(options);
    await settle(clock);
    let granted = 0;
    for (let round = 0; round < 5; round++) {
      for (const budget of [a, b]) {
        for (let i = 0; i < 5; i++) if (budget.begin().tryRetry(failure)) granted++;
      }
      await settle(clock, 250);
    }
    // From 10 tokens with threshold 5: four retries fleet-wide (9, 8, 7, 6), as one bucket.
    expect(granted).toBe(4);
    a.dispose();
    b.dispose();
  });

  it('the sync timer stops on dispose()', async () => {
    const clock = new VirtualClock();
    const budget = fleetBudget({ store: memoryFleetStore({ clock }), name: 'b', clock });
    expect(clock.pendingTimers).toBe(1);
    budget.dispose();
    expect(clock.pendingTimers).toBe(0);
  });
});
