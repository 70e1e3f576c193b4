import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreFullError } from '../errors.js';
import { createIdempotency } from '../idempotency.js';
import type { StoredResponse } from '../store.js';
import { corruptMemoryRecord, describeStoreConformance } from '../testing.js';
import { type MemoryStore, memoryStore } from './memory.js';

const virtual = new VirtualClock();
describeStoreConformance('memoryStore (VirtualClock)', () => memoryStore({ clock: virtual }), {
  describe,
  it,
  advance: (ms) => virtual.advance(ms),
  corrupt: (store, key) => corruptMemoryRecord(store as MemoryStore, key),
  cleanup: (store) => (store as MemoryStore).close(),
});

// The same suite on the real monotonic clock with a tiny TTL, as a server store runs it.
describeStoreConformance('memoryStore (system clock, 30 ms TTL)', () => memoryStore(), {
  describe,
  it,
  ttl: 30,
  advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  cleanup: (store) => (store as MemoryStore).close(),
});

const ok: StoredResponse = {
  status: 200,
  headers: [],
  body: new Uint8Array([1]),
  bodyOmitted: false,
};

describe('memoryStore', () => {
  const stores: MemoryStore[] = [];
  const make = (options: Parameters<typeof memoryStore>[0]): MemoryStore => {
    const store = memoryStore(options);
    stores.push(store);
    return store;
  };
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  it('item 7: when full it refuses a new key (StoreFullError) and never drops a live COMPLETED record', async () => {
    const clock = new VirtualClock();
    const store = make({ maxEntries: 3, clock });
    for (const key of ['a', 'b', 'c']) {
      await store.claim(key, { owner: key, fingerprint: 'f', lockTtl: 1000 });
      await store.complete(key, key, ok, 10_000);
    }
    await expect(store.claim('d', { owner: 'd', fingerprint: 'f', lockTtl: 1000 })).rejects.toThrow(
      StoreFullError,
    );
    for (const key of ['a', 'b', 'c']) expect((await store.get(key))?.status).toBe('COMPLETED');
    // recordTtl is respected: once the oldest expire, their room is reused.
    await clock.advance(10_000);
    expect((await store.claim('d', { owner: 'd', fingerprint: 'f', lockTtl: 1000 })).claimed).toBe(
      true,
    );
  });

  it('item 7: maxEntriesPerScope keeps one scope from filling the store for the others', async () => {
    const clock = new VirtualClock();
    const store = make({ maxEntries: 10, maxEntriesPerScope: 4, clock });
    const claim = (key: string, scope: string) =>
      store.claim(key, { owner: key, fingerprint: 'f', lockTtl: 1000, scope });
    for (let i = 0; i < 4; i++) expect((await claim(`b${i}`, 'bob')).claimed).toBe(true);
    await expect(claim('b4', 'bob')).rejects.toThrow(/maxEntriesPerScope/);
    for (let i = 0; i < 4; i++) expect((await claim(`a${i}`, 'alice')).claimed).toBe(true);
    // Completing or releasing frees the scope's room only when the record goes away.
    await store.release('b0', 'b0');
    expect((await claim('b4', 'bob')).claimed).toBe(true);
    expect(() => memoryStore({ maxEntries: 5, maxEntriesPerScope: 6 })).toThrow(RangeError);
  });

  it('item 7: one tenant sending 10 000 fresh keys neither evicts another tenant’s record nor charges its retry twice', async () => {
    const idem = createIdempotency({
      store: make({ clock: new VirtualClock() }),
      scope: (request) => request.headers['x-tenant'] as string,
      logger: false,
    });
    let charges = 0;
    const post = async (tenant: string, key: string) => {
      const result = await idem.begin({
        method: 'POST',
        path: '/pay',
        headers: { 'idempotency-key': key, 'x-tenant': tenant },
        body: '{}',
      });
      if (result.kind === 'execute' && result.token !== undefined) {
        charges++;
        await idem.complete(result.token, { status: 201, headers: [], body: new Uint8Array(0) });
      }
      return result.kind === 'reject' ? result.response.status : result.kind;
    };
    expect(await post('victim', 'pay-1')).toBe('execute');
    const statuses = new Map<unknown, number>();
    for (let i = 0; i < 10_000; i++) {
      const status = await post('attacker', `fresh-${i}`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(statuses.get(503)).toBe(1); // the one key that found the store full
    expect(await post('victim', 'pay-1')).toBe('replay');
    expect(charges).toBe(10_000);
  });

  it('keeps its own copy of a completed body, even when it is a Node Buffer the caller reuses', async () => {
    const store = make({ clock: new VirtualClock() });
    await store.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 1000 });
    const body = Buffer.from('hello');
    await store.complete('k', 'o', { ...ok, body }, 10_000);
    body[0] = 0x4a; // 'J'
    const record = await store.get('k');
    expect(new TextDecoder().decode(record?.response?.body)).toBe('hello');
  });

  it('never evicts IN_PROGRESS records; a claim with no room fails with StoreFullError', async () => {
    const store = make({ maxEntries: 2, clock: new VirtualClock() });
    await store.claim('a', { owner: 'a', fingerprint: 'f', lockTtl: 1000 });
    await store.claim('b', { owner: 'b', fingerprint: 'f', lockTtl: 1000 });
    await expect(store.claim('c', { owner: 'c', fingerprint: 'f', lockTtl: 1000 })).rejects.toThrow(
      StoreFullError,
    );
    expect((await store.get('a'))?.status).toBe('IN_PROGRESS');
    expect((await store.get('b'))?.status).toBe('IN_PROGRESS');
  });

  it('makes room from expired IN_PROGRESS records', async () => {
    const clock = new VirtualClock();
    const store = make({ maxEntries: 1, clock });
    await store.claim('a', { owner: 'a', fingerprint: 'f', lockTtl: 100 });
    await clock.advance(101);
    expect((await store.claim('b', { owner: 'b', fingerprint: 'f', lockTtl: 100 })).claimed).toBe(
      true,
    );
  });

  it('claims synchronously: the record exists before the promise settles', () => {
    const store = make({ clock: new VirtualClock() });
    void store.claim('k', { owner: 'a', fingerprint: 'f', lockTtl: 1000 });
    expect(store.size).toBe(1);
  });

  it('sweeps expired records on an unref’d timer that exists only while records exist', async () => {
    const clock = new VirtualClock();
    const store = make({ clock, sweepInterval: 1000 });
    expect(clock.pendingTimers).toBe(0);
    await store.claim('k', { owner: 'a', fingerprint: 'f', lockTtl: 500 });
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1000);
    expect(store.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    await store.claim('k', { owner: 'a', fingerprint: 'f', lockTtl: 500 });
    store.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('copies the stored body (later mutation of the caller’s buffer does not leak in)', async () => {
    const store = make({ clock: new VirtualClock() });
    const body = new Uint8Array([1, 2, 3]);
    await store.claim('k', { owner: 'a', fingerprint: 'f', lockTtl: 1000 });
    await store.complete('k', 'a', { ...ok, body }, 1000);
    body[0] = 9;
    expect(Array.from((await store.get('k'))?.response?.body ?? [])).toEqual([1, 2, 3]);
  });

  it('property: never drops a live record and never exceeds maxEntries', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('claim' as const), key: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('complete' as const), key: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('release' as const), key: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(op, { maxLength: 60 }),
        async (max, ops) => {
          const clock = new VirtualClock();
          const store = memoryStore({ maxEntries: max, clock, sweepInterval: 250 });
          // Model: keys we hold an unexpired IN_PROGRESS lock on, and live COMPLETED records,
          // with their expiry. A live record is never dropped.
          const held = new Map<number, number>();
          const done = new Map<number, number>();
          try {
            for (const step of ops) {
              if (step.kind === 'advance') {
                await clock.advance(step.ms);
                for (const [key, until] of held) if (until <= clock.now()) held.delete(key);
                for (const [key, until] of done) if (until <= clock.now()) done.delete(key);
              } else if (step.kind === 'claim') {
                const result = await store
                  .claim(`k${step.key}`, { owner: `o${step.key}`, fingerprint: 'f', lockTtl: 300 })
                  .catch((error: unknown) => {
                    expect(error).toBeInstanceOf(StoreFullError);
                    // Full is only allowed when every slot holds a live record.
                    expect(held.size + done.size).toBe(max);
                    return undefined;
                  });
                if (result?.claimed === true) held.set(step.key, clock.now() + 300);
              } else if (step.kind === 'complete') {
                if (await store.complete(`k${step.key}`, `o${step.key}`, ok, 200)) {
                  held.delete(step.key);
                  done.set(step.key, clock.now() + 200);
                }
              } else if (await store.release(`k${step.key}`, `o${step.key}`)) {
                held.delete(step.key);
              }
              expect(store.size).toBeLessThanOrEqual(max);
              for (const key of held.keys()) {
                expect((await store.get(`k${key}`))?.status).toBe('IN_PROGRESS');
              }
              for (const key of done.keys()) {
                expect((await store.get(`k${key}`))?.status).toBe('COMPLETED');
              }
            }
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('options', () => {
    it.each([
      ['maxEntries', '10', TypeError],
      ['maxEntries', 0, RangeError],
      ['maxEntries', 1.5, RangeError],
      ['maxEntriesPerScope', '1', TypeError],
      ['maxEntriesPerScope', 0, RangeError],
      ['sweepInterval', null, TypeError],
      ['sweepInterval', 0, RangeError],
      ['clock', 5, TypeError],
      ['clock', { now: () => 0 }, TypeError],
    ])('%s = %j throws %o', (option, value, Kind) => {
      expect(() => memoryStore({ [option]: value } as never)).toThrow(Kind);
      expect(() => memoryStore({ [option]: value } as never)).toThrow(/memoryStore: option/);
    });
    it('rejects a non-object options argument', () => {
      expect(() => memoryStore(5 as never)).toThrow(TypeError);
    });
  });
});
