import { VirtualClock } from '@faultline/clock';
import { type TelemetryEventRecord, type TelemetryRecord, telemetry } from '@faultline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createLease } from './lease.js';
import {
  LeaseExpiredError,
  LeaseLostError,
  LeaseReleasedError,
  LeaseStoreTimeoutError,
  LeaseUnavailableError,
} from './lease-errors.js';
import type { LeaseLostEvent } from './lease-events.js';
import { memoryLeaseStore } from './memory-store.js';
import { ControlledStore } from './testing/controlled-store.js';

const TTL = 10_000;
const VALIDITY = TTL * 0.999 - 100; // defaults: maxDrift 0.001, safetyMargin 100

function setup(ttl = TTL) {
  const clock = new VirtualClock();
  const store = new ControlledStore(memoryLeaseStore({ clock }), clock);
  const make = (owner: string, extra: object = {}) =>
    createLease({ store, resource: 'job', ttl, clock, owner, random: () => 1, ...extra });
  return { clock, store, make };
}

let unsubscribe: (() => void) | undefined;
afterEach(() => {
  unsubscribe?.();
  unsubscribe = undefined;
});

describe('createLease: acquire and local validity', () => {
  it('grants a token and a local validity counted from the moment the request was sent', async () => {
    const { clock, store, make } = setup();
    store.requestDelay = 30;
    store.responseDelay = 20;
    const pending = make('a').acquire();
    await clock.advance(50);
    const held = await pending;
    expect(held.token).toBe(1n);
    expect(clock.now()).toBe(50);
    // The store's lease started at 30 (when it got the request): the local one is shorter still.
    expect(held.remaining()).toBe(VALIDITY - 50);
    expect(held.valid).toBe(true);
    expect(held.signal.aborted).toBe(false);
    store.requestDelay = 0;
    store.responseDelay = 0;
    await held.release();
  });

  it('aborts the signal with LeaseExpiredError when the local validity ends, before the store lease', async () => {
    const { clock, make } = setup();
    const lease = make('a');
    const lost: LeaseLostEvent[] = [];
    lease.onLost((event) => lost.push(event));
    const held = await lease.acquire();
    await clock.advance(VALIDITY - 1);
    expect(held.signal.aborted).toBe(false);
    expect(held.remaining()).toBe(1);
    await clock.advance(1);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LeaseExpiredError);
    expect(held.signal.reason).toMatchObject({ code: 'LEASE_EXPIRED', token: 1n });
    expect(held.remaining()).toBe(0);
    expect(lost).toEqual([
      { resource: 'job', token: 1n, reason: 'expired', error: held.signal.reason },
    ]);
    // The store still holds it for another 110 ms: nobody else can have it yet.
    await expect(make('b').acquire()).rejects.toBeInstanceOf(LeaseUnavailableError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a pause (VirtualClock.jump) past the validity aborts the signal as soon as time runs again', async () => {
    const { clock, make } = setup();
    const lease = make('a');
    const reasons: string[] = [];
    lease.onLost((event) => reasons.push(event.reason));
    const held = await lease.acquire();
    await clock.advance(1000);
    await clock.jump(TTL); // the process was stopped for 10 s
    expect(held.signal.aborted).toBe(true);
    expect((held.signal.reason as Error).message).toMatch(/a process pause outlasted/);
    expect(reasons).toEqual(['paused']);
  });

  it('reading remaining() or signal after a pause aborts at once, before any timer runs', async () => {
    let now = 0;
    const clock = {
      now: () => now,
      setTimer: () => () => {},
      sleep: async () => {},
    };
    const store = memoryLeaseStore({ clock });
    const held = await createLease({ store, resource: 'job', ttl: 1000, clock }).acquire();
    now = 5000; // the process resumes; no timer has run yet
    expect(held.signal.aborted).toBe(true);
    expect(held.remaining()).toBe(0);
  });

  it('rejects with LeaseUnavailableError and the holder retryAfter when held elsewhere (wait 0)', async () => {
    const { clock, store, make } = setup();
    await make('a').acquire();
    await clock.advance(4000);
    const lease = make('b');
    const unavailable: unknown[] = [];
    lease.onUnavailable((event) => unavailable.push(event));
    const error = await lease.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseUnavailableError);
    expect(error).toMatchObject({ code: 'LEASE_UNAVAILABLE', retryAfter: 6000, resource: 'job' });
    expect(String((error as Error).message)).toMatch(/held by another owner/);
    expect(store.calls.acquire).toBe(2);
    expect(unavailable).toEqual([{ resource: 'job', retryAfter: 6000, waited: 0 }]);
  });

  it('wait: polls every retryInterval and gets the lease soon after the holder releases', async () => {
    const { clock, store, make } = setup();
    const first = await make('a').acquire();
    const waiting = make('b', { retryInterval: 500 }).acquire({ wait: 60_000 });
    await clock.advance(1200);
    await first.release();
    await clock.advance(300);
    const held = await waiting;
    expect(held.token).toBe(2n);
    expect(clock.now()).toBe(1500); // tries at 0, 500, 1000, 1500
    expect(store.calls.acquire).toBe(5);
    await held.release();
  });

  it('wait: never sleeps past the holder retryAfter (gets an abandoned lease the moment it expires)', async () => {
    const { clock, make } = setup(1000);
    await make('a').acquire(); // never renewed: the holder crashed
    await clock.advance(800);
    const waiting = make('b', { retryInterval: 5000 }).acquire({ wait: 10_000 });
    await clock.advance(200);
    const held = await waiting;
    expect(held.token).toBe(2n);
    expect(clock.now()).toBe(1000);
    await held.release();
  });

  it('wait: rejects with LeaseUnavailableError once the wait is over, after a last try', async () => {
    const { clock, store, make } = setup();
    const holder = make('a');
    const first = await holder.acquire();
    first.keepAlive();
    const waiting = make('b', { retryInterval: 400 }).acquire({ wait: 1000 });
    const settled = waiting.catch((e: unknown) => e);
    await clock.advance(1000);
    const error = await settled;
    expect(error).toBeInstanceOf(LeaseUnavailableError);
    expect((error as Error).message).toMatch(/waited 1000 ms/);
    expect(store.calls.acquire).toBe(5); // 0, 400, 800, 1000 and the holder's
    await first.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('wait: the signal aborts the wait with its reason, leaving no timer and no listener', async () => {
    const { clock, make } = setup();
    const first = await make('a').acquire();
    const controller = new AbortController();
    const waiting = make('b').acquire({
      wait: Number.POSITIVE_INFINITY,
      signal: controller.signal,
    });
    const settled = waiting.catch((e: unknown) => e);
    await clock.advance(700);
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await settled).toBe(reason);
    await first.release();
    expect(clock.pendingTimers).toBe(0);
    // An aborted signal rejects at once, without a store call.
    await expect(make('c').acquire({ signal: controller.signal })).rejects.toBe(reason);
  });

  it('a signal aborted while the store answers releases the grant that arrives', async () => {
    const { clock, store, make } = setup();
    store.responseDelay = 100;
    const controller = new AbortController();
    const pending = make('a')
      .acquire({ signal: controller.signal })
      .catch((e: unknown) => e);
    await clock.advance(50);
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ message: 'stop' });
    await clock.advance(100);
    store.responseDelay = 0;
    // Released: the next owner gets it at once.
    const held = await make('b').acquire();
    expect(held.token).toBe(2n);
  });
});

describe('createLease: store failures', () => {
  it('a store that never answers: acquire rejects with LeaseStoreTimeoutError after storeTimeout', async () => {
    const { clock, store, make } = setup();
    store.hang = true;
    const lease = make('a', { storeTimeout: 2000 });
    const failures: string[] = [];
    lease.onStoreFailure((event) => failures.push(event.operation));
    const pending = lease.acquire().catch((e: unknown) => e);
    await clock.advance(1999);
    await clock.advance(1);
    const error = await pending;
    expect(error).toBeInstanceOf(LeaseStoreTimeoutError);
    expect(error).toMatchObject({ code: 'LEASE_STORE_TIMEOUT', operation: 'acquire' });
    expect((error as Error).message).toMatch(/within storeTimeout 2000 ms/);
    expect(failures).toEqual(['acquire']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('default storeTimeout is the local validity; a slow store grant that comes late is released', async () => {
    const { clock, store, make } = setup(1000);
    store.responseDelay = 2000; // the store grants at once, the answer takes 2 s
    const pending = make('a')
      .acquire()
      .catch((e: unknown) => e);
    await clock.advance(1000 * 0.999 - 100);
    expect(await pending).toBeInstanceOf(LeaseStoreTimeoutError);
    await clock.advance(2000);
    store.responseDelay = 0;
    expect((await make('b').acquire()).token).toBe(2n);
  });

  it('a failing store: acquire rejects with the store error, unchanged', async () => {
    const { store, make } = setup();
    const failure = new Error('ECONNREFUSED');
    store.failure = failure;
    await expect(make('a').acquire()).rejects.toBe(failure);
  });
});

describe('HeldLease: renew, release, keepAlive', () => {
  it('renew extends the validity from the moment the renewal was sent', async () => {
    const { clock, store, make } = setup();
    const held = await make('a').acquire();
    await clock.advance(3000);
    store.requestDelay = 40;
    const renewing = held.renew();
    await clock.advance(40);
    await renewing;
    expect(clock.now()).toBe(3040);
    expect(held.remaining()).toBe(3000 + VALIDITY - 3040);
    store.requestDelay = 0;
    await held.release();
  });

  it('a refused renewal aborts the signal with LeaseLostError and rejects with it', async () => {
    const { clock, store, make } = setup(1000);
    const lease = make('a', { safetyMargin: 0, maxDrift: 0 });
    const held = await lease.acquire();
    // The store lost it (for instance a Redis failover without persistence): another owner has it.
    await clock.advance(999);
    await store.inner.release('job', lease.owner, held.token);
    await store.inner.acquire('job', 'b', 1000);
    await expect(held.renew()).rejects.toBeInstanceOf(LeaseLostError);
    expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(held.signal.reason).toMatchObject({ code: 'LEASE_LOST' });
  });

  it('renew after the end rejects with the abort reason without calling the store', async () => {
    const { clock, store, make } = setup();
    const held = await make('a').acquire();
    await clock.advance(TTL);
    await expect(held.renew()).rejects.toBeInstanceOf(LeaseExpiredError);
    expect(store.calls.renew).toBe(0);
  });

  it('a renewal answered after the local validity ended does not revive the lease', async () => {
    const { clock, store, make } = setup(1000);
    const lease = make('a', { storeTimeout: Number.POSITIVE_INFINITY });
    const held = await lease.acquire();
    await clock.advance(800);
    store.responseDelay = 300;
    const renewing = held.renew().catch((e: unknown) => e);
    await clock.advance(300);
    expect(await renewing).toBeInstanceOf(LeaseExpiredError);
    expect(held.remaining()).toBe(0);
  });

  it('release aborts the signal with LeaseReleasedError, frees the store, and is idempotent', async () => {
    const { clock, store, make } = setup();
    const lease = make('a');
    const released: unknown[] = [];
    lease.onReleased((event) => released.push(event));
    const held = await lease.acquire();
    const first = held.release();
    expect(held.release()).toBe(first);
    expect(await first).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LeaseReleasedError);
    expect(held.remaining()).toBe(0);
    expect(store.calls.release).toBe(1);
    expect(released).toEqual([{ resource: 'job', token: 1n }]);
    expect(clock.pendingTimers).toBe(0);
    expect((await make('b').acquire()).token).toBe(2n);
  });

  it('release after the local validity ended still asks the store (false when it expired there too)', async () => {
    const { clock, make } = setup();
    const held = await make('a').acquire();
    await clock.advance(TTL + 1);
    expect(await held.release()).toBe(false);
  });

  it('keepAlive renews every ttl / 3 and holds the lease for as long as it runs', async () => {
    const { clock, store, make } = setup();
    const held = await make('a').acquire();
    const stop = held.keepAlive();
    await clock.advance(60_010);
    expect(held.signal.aborted).toBe(false);
    expect(store.calls.renew).toBe(18);
    stop();
    await clock.advance(VALIDITY);
    expect(held.signal.aborted).toBe(true);
  });

  it('keepAlive with a failing store: retries sooner, and the signal aborts at the end of local validity', async () => {
    const { clock, store, make } = setup();
    const held = await make('a').acquire();
    held.keepAlive({ every: 3000 });
    store.failure = new Error('down');
    await clock.advance(VALIDITY - 1);
    expect(held.signal.aborted).toBe(false);
    expect(store.calls.renew).toBeGreaterThanOrEqual(4);
    await clock.advance(1);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LeaseExpiredError);
    await clock.advance(TTL);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keepAlive with a store that hangs: the signal still aborts at the end of local validity', async () => {
    const { clock, store, make } = setup();
    const held = await make('a').acquire();
    held.keepAlive();
    store.hang = true;
    await clock.advance(VALIDITY);
    expect(held.signal.reason).toBeInstanceOf(LeaseExpiredError);
    await clock.advance(TTL);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keepAlive rejects an interval that would renew after the lease ended', async () => {
    const { make } = setup();
    const held = await make('a').acquire();
    expect(() => held.keepAlive({ every: VALIDITY })).toThrow(RangeError);
    expect(() => held.keepAlive({ every: VALIDITY })).toThrow(
      /HeldLease.keepAlive: option "every" must be less than the local validity 9890 ms/,
    );
    expect(() => held.keepAlive({ every: '1' as never })).toThrow(TypeError);
    expect(() => held.keepAlive({ every: 0 })).toThrow(RangeError);
    await held.release();
  });
});

describe('lease.run', () => {
  it('acquires, keeps alive while fn runs, releases, and returns what fn returns', async () => {
    const { clock, store, make } = setup();
    const lease = make('a');
    const result = lease.run(async (held) => {
      await clock.sleep(25_000);
      expect(held.signal.aborted).toBe(false);
      return held.token;
    });
    await clock.advance(25_000);
    expect(await result).toBe(1n);
    expect(store.calls.renew).toBe(7);
    expect(store.calls.release).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("passes fn's error through unchanged and still releases", async () => {
    const { clock, store, make } = setup();
    const failure = new Error('job failed');
    await expect(
      make('a').run(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(store.calls.release).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a release that fails is not thrown: the lease expires on the store', async () => {
    const { store, make } = setup();
    const value = await make('a').run(() => {
      store.failure = new Error('down');
      return 7;
    });
    expect(value).toBe(7);
  });

  it("the caller's signal gives up the wait: rejects with its reason, fn never called, nothing left", async () => {
    const { clock, make } = setup();
    const first = await make('a').acquire();
    const controller = new AbortController();
    let called = false;
    const pending = make('b')
      .run(
        () => {
          called = true;
        },
        { wait: 60_000, signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await clock.advance(1000);
    const reason = new Error('shutdown');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(called).toBe(false);
    await first.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with LeaseUnavailableError without calling fn when held elsewhere', async () => {
    const { make } = setup();
    await make('a').acquire();
    let called = false;
    await expect(
      make('b').run(() => {
        called = true;
      }),
    ).rejects.toBeInstanceOf(LeaseUnavailableError);
    expect(called).toBe(false);
  });
});

describe('telemetry', () => {
  it('publishes lease-acquired, lease-released, lease-unavailable, lease-expired, lease-lost, store-failure', async () => {
    const records: TelemetryRecord[] = [];
    unsubscribe = telemetry.subscribe((record) => records.push(record));
    const { clock, store, make } = setup(1000);
    const lease = make('a', { name: 'compactor' });
    const held = await lease.acquire();
    await make('b')
      .acquire()
      .catch(() => {});
    await held.release();
    const second = await lease.acquire();
    await clock.advance(1000);
    expect(second.signal.aborted).toBe(true);
    const third = await lease.acquire();
    await store.inner.release('job', lease.owner, third.token);
    await store.inner.acquire('job', 'b', 1000);
    await third.renew().catch(() => {});
    store.failure = new Error('down');
    await make('c')
      .acquire()
      .catch(() => {});
    const events = records
      .filter((r): r is TelemetryEventRecord => r.type === 'event')
      .map((r) => [
        r.event,
        r.policy.name,
        r.severity,
        r.attributes?.reason ?? r.attributes?.operation,
      ]);
    expect(events).toEqual([
      ['lease-acquired', 'compactor', 'information', undefined],
      ['lease-unavailable', 'lease', 'warning', undefined],
      ['lease-released', 'compactor', 'information', undefined],
      ['lease-acquired', 'compactor', 'information', undefined],
      ['lease-expired', 'compactor', 'error', 'expired'],
      ['lease-acquired', 'compactor', 'information', undefined],
      ['lease-lost', 'compactor', 'error', 'lost'],
      ['store-failure', 'lease', 'warning', 'acquire'],
    ]);
    // Never the resource or the owner: they are unbounded.
    expect(JSON.stringify(events)).not.toMatch(/job/);
  });
});
