import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { isLeaseGrant } from './lease-store.js';
import { memoryLeaseStore } from './memory-store.js';
import { checkLeaseStoreConformance } from './testing/store-conformance.js';

describe('memoryLeaseStore', () => {
  it('grants, refuses while live with the remaining lease, and grants again after expiry', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    const first = await store.acquire('r', 'a', 1000);
    expect(first).toEqual({ token: 1n, ttl: 1000 });
    await clock.advance(400);
    expect(await store.acquire('r', 'b', 1000)).toEqual({ held: true, retryAfter: 600 });
    expect(await store.acquire('r', 'a', 1000)).toEqual({ held: true, retryAfter: 600 });
    await clock.advance(600);
    const second = await store.acquire('r', 'b', 1000);
    expect(isLeaseGrant(second) && second.token).toBe(2n);
  });

  it('renews and releases only for the owner with its token; never revives an expired lease', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    await store.acquire('r', 'a', 1000);
    expect(await store.renew('r', 'b', 1n, 1000)).toBe(false);
    expect(await store.renew('r', 'a', 2n, 1000)).toBe(false);
    await clock.advance(900);
    expect(await store.renew('r', 'a', 1n, 1000)).toBe(true);
    await clock.advance(900);
    expect(await store.acquire('r', 'b', 1000)).toEqual({ held: true, retryAfter: 100 });
    expect(await store.release('r', 'b', 1n)).toBe(false);
    await clock.advance(100);
    expect(await store.renew('r', 'a', 1n, 1000)).toBe(false);
    expect(await store.release('r', 'a', 1n)).toBe(false);
    expect(await store.acquire('r', 'b', 1000)).toEqual({ token: 2n, ttl: 1000 });
    expect(await store.release('r', 'b', 2n)).toBe(true);
    expect(await store.release('r', 'b', 2n)).toBe(false);
    expect(await store.acquire('r', 'a', 1000)).toEqual({ token: 3n, ttl: 1000 });
  });

  it('keeps one counter per resource', async () => {
    const store = memoryLeaseStore({ clock: new VirtualClock() });
    expect(await store.acquire('x', 'a', 10)).toEqual({ token: 1n, ttl: 10 });
    expect(await store.acquire('y', 'a', 10)).toEqual({ token: 1n, ttl: 10 });
  });

  it('validates its options', () => {
    expect(() => memoryLeaseStore(5 as never)).toThrow(TypeError);
    expect(() => memoryLeaseStore({ clock: {} as never })).toThrow(
      /memoryLeaseStore: option "clock" must be a Clock/,
    );
  });

  it('conforms to the LeaseStore contract (tokens strictly increase, owner-only renew/release)', async () => {
    const clock = new VirtualClock();
    await checkLeaseStoreConformance({
      store: memoryLeaseStore({ clock }),
      ttl: 1000,
      elapse: (ms) => clock.advance(ms),
      numRuns: 300,
    });
  });

  it('the conformance check catches a store that lets a non-owner renew', async () => {
    const clock = new VirtualClock();
    const inner = memoryLeaseStore({ clock });
    const broken = {
      acquire: inner.acquire.bind(inner),
      release: inner.release.bind(inner),
      renew: async () => true,
    };
    await expect(
      checkLeaseStoreConformance({ store: broken, ttl: 1000, elapse: (ms) => clock.advance(ms) }),
    ).rejects.toThrow(/renew/);
  });

  it('the conformance check catches a store whose tokens restart after a release', async () => {
    const clock = new VirtualClock();
    const inner = memoryLeaseStore({ clock });
    let resets = 0;
    const broken = {
      acquire: async (resource: string, owner: string, ttl: number) => {
        const result = await inner.acquire(`${resource}#${resets}`, owner, ttl);
        return result;
      },
      renew: (resource: string, owner: string, token: bigint, ttl: number) =>
        inner.renew(`${resource}#${resets}`, owner, token, ttl),
      release: async (resource: string, owner: string, token: bigint) => {
        const ok = await inner.release(`${resource}#${resets}`, owner, token);
        if (ok) resets++;
        return ok;
      },
    };
    await expect(
      checkLeaseStoreConformance({ store: broken, ttl: 1000, elapse: (ms) => clock.advance(ms) }),
    ).rejects.toThrow(/not above the highest/);
  });
});
