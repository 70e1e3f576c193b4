import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { leaseOfToken } from '../execution-token.js';
import { createIdempotency, type Idempotency } from '../idempotency.js';
import { describeStoreConformance, realTime } from '../testing.js';
import { realStores } from './real-stores.cases.js';

// "All shared expiry is computed by the store's clock": with this process's Date.now() two hours
// ahead of or behind the truth, locks and records must still expire exactly on the store's
// (Redis PX / PostgreSQL now()) schedule, neither early nor two hours late.

const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const utf8 = (text: string) => new TextEncoder().encode(text);
const TWO_HOURS = 2 * 3_600_000;
const LOCK = 700;
const RECORD = 900;

const stores = await realStores('clock', 4);

function request(key: string) {
  return {
    method: 'POST',
    path: '/orders',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body: utf8('{"item":1}'),
  };
}

async function execute(idempotency: Idempotency, key: string): Promise<string> {
  const result = await idempotency.begin(request(key));
  if (result.kind === 'execute') {
    await idempotency.complete(result.token!, {
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: utf8('{}'),
    });
    return 'executed';
  }
  return result.kind === 'replay' ? 'replayed' : String(result.problem.code);
}

for (const skew of [+TWO_HOURS, -TWO_HOURS]) {
  const label = `Date.now ${skew > 0 ? '+' : '-'}2 h`;
  for (const [name, available, make] of stores) {
    describe.skipIf(!available)(`${name} with ${label}`, () => {
      beforeEach(() => {
        const realNow = Date.now.bind(Date);
        vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
      });
      afterEach(() => {
        vi.restoreAllMocks();
      });

      it('locks and records expire on the store’s schedule', async () => {
        const idempotency = createIdempotency({
          store: make(),
          scope: () => `clock-${run}`,
          lockTtl: LOCK,
          recordTtl: RECORD,
          storeTimeout: 5_000,
        });
        const key = `skew-${skew}`;
        const first = await idempotency.begin(request(key));
        expect(first.kind).toBe('execute');
        const lockedAt = performance.now();
        // Still locked now: a +2 h app clock must not see the lock as long expired.
        expect(await execute(idempotency, key)).toBe('CONFLICT');
        const store = make();
        const storeKey = await idempotency.storeKey(key, `clock-${run}`);
        const record = await store.get(storeKey);
        expect(record?.status).toBe('IN_PROGRESS');
        expect(record!.expiresIn).toBeGreaterThan(0);
        expect(record!.expiresIn).toBeLessThanOrEqual(LOCK); // not 2 h more, not 2 h less
        // The owner "crashes" (never completes); after LOCK ms of real time the lock is gone,
        // not two hours later: a retry takes over and executes.
        if (first.kind === 'execute' && first.token) leaseOfToken(first.token).stopRenewal();
        await realTime(LOCK + 150 - (performance.now() - lockedAt));
        expect(await execute(idempotency, key)).toBe('executed');
        const completedAt = performance.now();
        expect(await execute(idempotency, key)).toBe('replayed');
        const completed = await store.get(storeKey);
        expect(completed!.expiresIn).toBeLessThanOrEqual(RECORD);
        expect(completed!.expiresIn).toBeGreaterThan(0);
        await realTime(RECORD + 150 - (performance.now() - completedAt));
        expect(await store.get(storeKey)).toBeUndefined();
        expect(await execute(idempotency, key)).toBe('executed');
      }, 15_000);
    });
  }
}

// The full conformance suite (its expiry cases sleep for real) with the app clock 2 h ahead.
describe('conformance with Date.now +2 h', () => {
  beforeAll(() => {
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + TWO_HOURS);
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });
  for (const [name, available, make] of stores) {
    if (!available) continue;
    describeStoreConformance(`${name} (Date.now +2 h)`, make, {
      describe,
      it,
      ttl: 250,
      advance: realTime,
    });
  }
});
