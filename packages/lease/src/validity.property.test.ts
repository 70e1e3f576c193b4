import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLease } from './lease.js';
import type { LeaseAcquireResult, LeaseStore } from './lease-store.js';
import { isLeaseGrant } from './lease-store.js';
import { memoryLeaseStore } from './memory-store.js';
import { DriftingClock } from './testing/clocks.js';

// The lease's central promise (Chubby §2.8, Redlock's validity time): whatever the request delays
// and however slow the client's clock (down to maxDrift), the client's local validity ends no
// later than the store's lease. Time on `clock` is the store's (true) time; the client reads a
// DriftingClock running at `rate` × true time.

type Step =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'renew' }
  | { readonly kind: 'jump'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 1, max: 400 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('renew' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      ms: fc.integer({ min: 1, max: 3000 }),
    }),
  },
);

describe('local validity (property)', () => {
  it('never exceeds the store lease, with clock drift up to maxDrift and random request delays', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          ttl: fc.integer({ min: 200, max: 3000 }),
          maxDrift: fc.constantFrom(0, 0.001, 0.01, 0.1),
          // rate = 1 − maxDrift·slowness (slow clocks, the dangerous side) or a fast clock.
          slowness: fc.double({ min: 0, max: 1, noNaN: true }),
          fast: fc.boolean(),
          safetyMargin: fc.integer({ min: 0, max: 50 }),
          delays: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 80 }),
          steps: fc.array(step, { minLength: 1, maxLength: 40 }),
        }),
        async ({ ttl, maxDrift, slowness, fast, safetyMargin, delays, steps }) => {
          const clock = new VirtualClock();
          const rate = fast ? 1 + slowness * 0.05 : 1 - maxDrift * slowness;
          const client = new DriftingClock(clock, rate);
          const inner = memoryLeaseStore({ clock });
          let storeEnd = Number.NEGATIVE_INFINITY; // true time at which the store's lease ends
          let d = 0;
          const delay = (): number => delays[d++ % delays.length]!;
          const travel = (ms: number) => (ms > 0 ? clock.sleep(ms) : Promise.resolve());
          const store: LeaseStore = {
            async acquire(resource, owner, t): Promise<LeaseAcquireResult> {
              await travel(delay());
              const result = await inner.acquire(resource, owner, t);
              if (isLeaseGrant(result)) storeEnd = clock.now() + result.ttl;
              await travel(delay());
              return result;
            },
            async renew(resource, owner, token, t) {
              await travel(delay());
              const ok = await inner.renew(resource, owner, token, t);
              if (ok) storeEnd = clock.now() + t;
              await travel(delay());
              return ok;
            },
            async release(resource, owner, token) {
              return inner.release(resource, owner, token);
            },
          };
          if (safetyMargin >= ttl * (1 - maxDrift)) return;
          const lease = createLease({
            store,
            resource: 'r',
            ttl,
            maxDrift,
            safetyMargin,
            clock: client,
            storeTimeout: Number.POSITIVE_INFINITY,
          });
          const acquiring = lease.acquire().catch(() => undefined);
          await clock.advance(700);
          const held = await acquiring;
          if (held === undefined) return; // the grant came too late to be valid: nothing held
          const check = (): void => {
            const left = held.remaining();
            if (left > 0) {
              // In true time, the local validity ends at now + left / rate.
              expect(clock.now() + left / rate).toBeLessThanOrEqual(storeEnd + 1e-6);
            }
          };
          check();
          checked++;
          for (const s of steps) {
            if (s.kind === 'renew') held.renew().catch(() => {});
            else if (s.kind === 'advance') await clock.advance(s.ms);
            else await clock.jump(s.ms);
            check();
          }
          await held.release();
          await clock.advance(1000);
        },
      ),
      { numRuns: 300 },
    );
    // Most runs hold a lease (the rest got their grant too late to be valid, which is correct).
    expect(checked).toBeGreaterThan(150);
  });
});
