import { BrokenCircuitError, consecutiveFailures, failureRate } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import { type TelemetryRecord, telemetry } from '@faultline/core';
import { fromDelays } from '@faultline/retry';
import { describe, expect, it } from 'vitest';
import { type FleetBreaker, fleetBreaker } from './fleet-breaker.js';
import type { FleetBreakerOptions } from './fleet-breaker-options.js';
import { memoryFleetStore } from './memory-store.js';

async function settle(clock: VirtualClock, ms = 0): Promise<void> {
  await clock.advance(ms);
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

/** Runs `fn` through `breaker`: 'ok', 'failed' or 'rejected'. */
async function call(breaker: FleetBreaker, fn: () => Promise<unknown>): Promise<string> {
  try {
    await breaker.execute(fn);
    return 'ok';
  } catch (error) {
    return error instanceof BrokenCircuitError ? 'rejected' : 'failed';
  }
}

/** Three failing calls through `breaker`: enough to trip `fleet()`'s `consecutiveFailures(3)`. */
async function failThrice(breaker: FleetBreaker): Promise<void> {
  for (let k = 0; k < 3; k++) await call(breaker, boom);
}

function fleet(
  n: number,
  extra: Partial<FleetBreakerOptions> = {},
  down: () => boolean = () => false,
) {
  const clock = new VirtualClock();
  const store = memoryFleetStore({ clock, failing: down });
  /** The options of every instance of this fleet (a fresh trip each, unless `extra` has one). */
  const options = (): FleetBreakerOptions => ({
    store,
    name: 'downstream',
    trip: consecutiveFailures(3),
    breakDuration: 1000,
    sync: 100,
    clock,
    ...extra,
  });
  const breakers = Array.from({ length: n }, (_, i) =>
    fleetBreaker({ ...options(), instance: `i${i}` }),
  );
  return {
    clock,
    store,
    breakers,
    options,
    close: () => {
      for (const b of breakers) b.dispose();
    },
  };
}

/** `fleet(...)` once its instances have joined and the first one has failed three times. */
async function trippedFleet(...args: Parameters<typeof fleet>) {
  const tripped = fleet(...args);
  await settle(tripped.clock);
  await failThrice(tripped.breakers[0]!);
  return tripped;
}

describe('fleetBreaker', () => {
  it('one instance trips: the fleet opens, every instance rejects within one sync', async () => {
    const { clock, breakers, close } = fleet(4);
    await settle(clock);
    const opened: number[] = [];
    for (const [i, b] of breakers.entries()) b.onOpen(() => opened.push(i));
    for (let k = 0; k < 3; k++) expect(await call(breakers[0]!, boom)).toBe('failed');
    await settle(clock); // the trip asks the store at once
    expect(breakers[0]!.state).toBe('open');
    expect(opened).toEqual([0]);
    expect(breakers[1]!.state).toBe('closed');
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['open', 'open', 'open', 'open']);
    expect(await call(breakers[3]!, ok)).toBe('rejected');
    close();
  });

  it('half-open: exactly one probe per break in the whole fleet', async () => {
    const { clock, breakers, close } = fleet(4);
    await settle(clock);
    let probes = 0;
    const failingProbe = () => {
      probes++;
      return boom();
    };
    await failThrice(breakers[0]!);
    await settle(clock, 100);
    // Ten breaks: every instance calls every 10 ms throughout.
    for (let t = 0; t < 10 * 1000 + 500; t += 10) {
      for (const b of breakers) await call(b, failingProbe);
      await settle(clock, 10);
    }
    expect(probes).toBe(10);
    close();
  });

  it('a successful probe closes the circuit for everyone', async () => {
    const { clock, breakers, close } = fleet(3);
    await settle(clock);
    const closed: string[] = [];
    for (const b of breakers) b.onClose((e) => closed.push(e.reason));
    await failThrice(breakers[1]!);
    await settle(clock, 1100);
    expect(breakers[0]!.state).toBe('half-open');
    expect(await call(breakers[0]!, ok)).toBe('rejected'); // asks for the permit
    await settle(clock);
    expect(await call(breakers[0]!, ok)).toBe('ok'); // the probe
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed', 'closed']);
    expect(closed).toHaveLength(3);
    close();
  });

  it('a probe holder that dies does not wedge the fleet: the permit expires after a break', async () => {
    const { clock, breakers, close } = await trippedFleet(2);
    await settle(clock, 1100);
    await call(breakers[0]!, ok);
    await settle(clock);
    // Instance 0 takes the permit with a call that never ends, then dies.
    void breakers[0]!.execute(() => new Promise(() => {}));
    breakers[0]!.dispose();
    await settle(clock);
    expect(await call(breakers[1]!, ok)).toBe('rejected');
    await settle(clock, 500);
    expect(await call(breakers[1]!, ok)).toBe('rejected'); // permit still held
    await settle(clock, 500);
    expect(await call(breakers[1]!, ok)).toBe('rejected'); // asks: the permit has expired
    await settle(clock);
    expect(await call(breakers[1]!, ok)).toBe('ok');
    await settle(clock);
    expect(breakers[1]!.state).toBe('closed');
    close();
  });

  it('quorum 2: one sick instance cannot open the others', async () => {
    const { clock, breakers, close } = fleet(4, { quorum: 2 });
    await settle(clock);
    for (let t = 0; t < 2000; t += 10) {
      await call(breakers[0]!, boom);
      for (const b of breakers.slice(1)) expect(await call(b, ok)).toBe('ok');
      await settle(clock, 10);
    }
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed', 'closed', 'closed']);
    // A second sick instance makes the quorum.
    await call(breakers[1]!, boom);
    await settle(clock, 100); // opened by the second instance's step…
    await settle(clock, 100); // …and seen by all within one sync
    expect(breakers.map((b) => b.state)).toEqual(['open', 'open', 'open', 'open']);
    close();
  });

  it('failureRate: the fleet sums the windows (no instance alone reaches minimumThroughput)', async () => {
    const { clock, breakers, close } = fleet(4, {
      trip: failureRate({ threshold: 0.5, minimumThroughput: 20, window: 10_000 }),
    });
    await settle(clock);
    for (let k = 0; k < 6; k++) for (const b of breakers) await call(b, boom);
    await settle(clock, 100); // the last instance's step sees 24 calls…
    expect(breakers[3]!.state).toBe('open');
    await settle(clock, 100); // …and the others follow within one sync
    expect(breakers.map((b) => b.state)).toEqual(['open', 'open', 'open', 'open']);
    close();
  });

  it('store down: local decisions (local trip, local probe); rejoins the shared state', async () => {
    let down = false;
    const { clock, breakers, close } = fleet(2, {}, () => down);
    const failures: string[] = [];
    const rejoined: number[] = [];
    breakers[0]!.onStoreFailure((e) => failures.push(e.operation));
    breakers[0]!.onRejoin((e) => rejoined.push(e.downtime));
    await settle(clock);
    down = true;
    await settle(clock, 100);
    expect(breakers[0]!.local).toBe(true);
    await failThrice(breakers[0]!);
    expect(breakers[0]!.state).toBe('open'); // opened locally, at once
    expect(breakers[1]!.state).toBe('closed');
    await settle(clock, 1000);
    expect(await call(breakers[0]!, ok)).toBe('ok'); // a local probe
    expect(breakers[0]!.state).toBe('closed');
    down = false;
    await settle(clock, 100);
    expect(breakers[0]!.local).toBe(false);
    expect(rejoined).toHaveLength(1);
    expect(failures.length).toBeGreaterThan(0);
    close();
  });

  it('tryAcquire(): permits for calls it cannot wrap, the fleet probe included', async () => {
    const { clock, breakers, close } = fleet(2);
    await settle(clock);
    for (let k = 0; k < 3; k++) breakers[0]!.tryAcquire()!.failure(5);
    await settle(clock);
    expect(breakers[0]!.tryAcquire()).toBeUndefined();
    await settle(clock, 1100);
    expect(breakers[1]!.tryAcquire()).toBeUndefined(); // half-open: asks for the permit
    await settle(clock);
    const probe = breakers[1]!.tryAcquire()!;
    expect(probe).toBeDefined();
    expect(breakers[0]!.tryAcquire()).toBeUndefined(); // the fleet's one probe is elsewhere
    probe.ignore(); // counts nothing: the permit serves the next call
    const again = breakers[1]!.tryAcquire()!;
    expect(() => again.success(-1)).toThrow(RangeError);
    expect(() => again.success(Number.NaN)).toThrow(TypeError);
    again.success(1);
    again.failure(1); // a second report is ignored
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed']);
    close();
  });

  it("a probe whose report cannot reach the store decides locally; the store's view wins on rejoin", async () => {
    let down = false;
    const { clock, breakers, close } = await trippedFleet(1, {}, () => down);
    await settle(clock, 1100);
    await call(breakers[0]!, ok); // asks for the permit
    await settle(clock);
    down = true;
    const failures: string[] = [];
    breakers[0]!.onStoreFailure((e) => failures.push(e.operation));
    expect(await call(breakers[0]!, ok)).toBe('ok'); // the probe; its report fails
    await settle(clock);
    expect(failures).toEqual(['report']);
    expect(breakers[0]!.state).toBe('closed'); // decided locally
    down = false;
    await settle(clock, 100);
    // The store never heard of the success: still open (its break over), so this instance
    // follows it and probes again through the fleet.
    expect(breakers[0]!.local).toBe(false);
    expect(breakers[0]!.state).toBe('half-open');
    close();
  });

  it('a Backoff break duration grows with consecutive openings, fleet-wide', async () => {
    const { clock, breakers, close } = fleet(2, { breakDuration: fromDelays([1000, 2000, 4000]) });
    await settle(clock);
    const breaks: number[] = [];
    breakers[1]!.onOpen((e) => breaks.push(e.breakDuration));
    await failThrice(breakers[0]!);
    await settle(clock, 100);
    for (let t = 0; t < 12_000; t += 50) {
      await call(breakers[0]!, boom); // every probe fails
      await settle(clock, 50);
    }
    expect(breaks.slice(0, 5)).toEqual([1000, 2000, 4000, 4000, 4000]);
    expect(breakers[0]!.describe().options.breakDuration).toBe('backoff');
    close();
  });

  it('a stale reply (overtaken by a newer one) is not adopted', async () => {
    const clock = new VirtualClock();
    const store = memoryFleetStore({ clock });
    let hold = false;
    const held: Array<() => void> = [];
    const slow = {
      kind: 'slow',
      budget: store.budget.bind(store),
      breaker: async (name: string, r: Parameters<typeof store.breaker>[1]) => {
        const reply = await store.breaker(name, r);
        if (hold && r.op === 'sync') await new Promise<void>((resolve) => held.push(resolve));
        return reply;
      },
    };
    const breaker = fleetBreaker({
      store: slow,
      name: 's',
      trip: consecutiveFailures(3),
      breakDuration: 1000,
      sync: 100,
      storeTimeout: 10_000,
      clock,
    });
    await settle(clock);
    await failThrice(breaker);
    await settle(clock, 1100);
    await call(breaker, ok); // asks for the permit
    await settle(clock);
    hold = true;
    await settle(clock, 100); // a sync goes out: the store says open (break over); reply held
    expect(held).toHaveLength(1);
    expect(await call(breaker, ok)).toBe('ok'); // the probe; its report closes the circuit
    await settle(clock);
    expect(breaker.state).toBe('closed');
    held[0]!(); // the older "open" reply arrives last
    await settle(clock);
    expect(breaker.state).toBe('closed');
    breaker.dispose();
  });

  it('isolate(): the whole fleet rejects until the last holder releases; then closed', async () => {
    const { clock, breakers, close } = fleet(3);
    await settle(clock);
    const release = breakers[0]!.isolate();
    expect(breakers[0]!.state).toBe('isolated'); // at once here…
    const error = await breakers[0]!.execute(ok).catch((e: unknown) => e);
    expect((error as Error).name).toBe('IsolatedCircuitError');
    await settle(clock, 100); // …and everywhere within one sync
    expect(breakers.map((b) => b.state)).toEqual(['isolated', 'isolated', 'isolated']);
    const second = breakers[1]!.isolate();
    release();
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['isolated', 'isolated', 'isolated']);
    const reasons: string[] = [];
    breakers[2]!.onClose((e) => reasons.push(e.reason));
    second();
    await settle(clock, 100);
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed', 'closed']);
    expect(reasons).toEqual(['released']);
    close();
  });

  it('an isolation whose holder died lapses after 4 sync periods', async () => {
    const { clock, breakers, close } = fleet(2);
    await settle(clock);
    breakers[0]!.isolate();
    await settle(clock, 100);
    expect(breakers[1]!.state).toBe('isolated');
    breakers[0]!.dispose(); // the holder stops stepping (a crash)
    await settle(clock, 300);
    expect(breakers[1]!.state).toBe('isolated');
    await settle(clock, 300);
    expect(breakers[1]!.state).toBe('closed');
    close();
  });

  it('close() forces the fleet closed, isolation and open state included', async () => {
    const { clock, breakers, close } = await trippedFleet(2);
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['open', 'open']);
    breakers[1]!.close();
    expect(breakers[1]!.state).toBe('closed');
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed']);
    const release = breakers[0]!.isolate();
    await settle(clock, 100);
    breakers[0]!.close(); // voids its own handle too
    release();
    await settle(clock, 100);
    expect(breakers.map((b) => b.state)).toEqual(['closed', 'closed']);
    close();
  });

  it('state survives an instance restart (a new instance adopts the open circuit)', async () => {
    const { clock, options, close } = await trippedFleet(1);
    await settle(clock);
    close();
    const restarted = fleetBreaker(options());
    await settle(clock);
    expect(restarted.state).toBe('open');
    restarted.dispose();
  });

  it('publishes circuit telemetry and store-failure records', async () => {
    let down = false;
    const { clock, breakers, close } = fleet(1, {}, () => down);
    const records: TelemetryRecord[] = [];
    const unsubscribe = telemetry.subscribe((r) => records.push(r));
    await settle(clock);
    await failThrice(breakers[0]!);
    await settle(clock);
    await call(breakers[0]!, ok);
    down = true;
    await settle(clock, 100);
    unsubscribe();
    close();
    const events = records.flatMap((r) =>
      r.type === 'event' ? [`${r.event}:${r.policy.kind}:${r.policy.name}`] : [],
    );
    expect(events).toEqual([
      'circuit-opened:fleet-circuit-breaker:downstream',
      'circuit-rejected:fleet-circuit-breaker:downstream',
      'store-failure:fleet-circuit-breaker:downstream',
    ]);
  });
});
