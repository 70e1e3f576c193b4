import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HeldLease } from './held-lease.js';
import { createLease, type Lease } from './lease.js';
import { isLeaseGrant, type LeaseStore } from './lease-store.js';
import { memoryLeaseStore } from './memory-store.js';
import { ControlledStore } from './testing/controlled-store.js';

// The safety property leases exist for: at no moment do two holders both believe they hold the
// lease (both `valid`), whatever the interleaving of acquires, renewals, releases, keep-alives,
// request delays, store outages and process pauses; and the one that does holds the newest token.

type Op =
  | { readonly kind: 'acquire' | 'renew' | 'release' | 'keepAlive'; readonly who: number }
  | { readonly kind: 'advance' | 'jump'; readonly ms: number }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'outage'; readonly down: boolean };

const who = fc.integer({ min: 0, max: 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'acquire' as const,
        'renew' as const,
        'release' as const,
        'keepAlive' as const,
      ),
      who,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      ms: fc.integer({ min: 1, max: 1500 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delay' as const),
      ms: fc.integer({ min: 0, max: 200 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('outage' as const), down: fc.boolean() }) },
);

describe('mutual exclusion of local validity (property)', () => {
  it('at most one holder is valid at any step, and it holds the newest token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const clock = new VirtualClock();
        const inner = memoryLeaseStore({ clock });
        // When the store's lease of each token ends (set when the store applies a grant/renewal).
        const storeEnd = new Map<bigint, number>();
        const recording: LeaseStore = {
          async acquire(resource, owner, ttl) {
            const result = await inner.acquire(resource, owner, ttl);
            if (isLeaseGrant(result)) storeEnd.set(result.token, clock.now() + result.ttl);
            return result;
          },
          async renew(resource, owner, token, ttl) {
            const ok = await inner.renew(resource, owner, token, ttl);
            if (ok) storeEnd.set(token, clock.now() + ttl);
            return ok;
          },
          async release(resource, owner, token) {
            const ok = await inner.release(resource, owner, token);
            if (ok) storeEnd.set(token, clock.now());
            return ok;
          },
        };
        const store = new ControlledStore(recording, clock);
        const leases: Lease[] = [0, 1, 2].map((i) =>
          createLease({ store, resource: 'r', ttl: 1000, clock, owner: `c${i}`, safetyMargin: 10 }),
        );
        const held: (HeldLease | undefined)[] = [undefined, undefined, undefined];
        let newest = 0n;
        const check = (): void => {
          const valid = held.filter((h) => h?.valid === true);
          expect(valid.length).toBeLessThanOrEqual(1);
          if (valid.length === 1) {
            const h = valid[0]!;
            expect(h.token).toBe(newest);
            // And its local validity ends no later than the store's lease of its token.
            expect(clock.now() + h.remaining()).toBeLessThanOrEqual(storeEnd.get(h.token)!);
          }
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'acquire':
              leases[o.who]!.acquire().then(
                (h) => {
                  held[o.who] = h;
                  if (h.token > newest) newest = h.token;
                },
                () => {},
              );
              break;
            case 'renew':
              held[o.who]?.renew().catch(() => {});
              break;
            case 'release':
              held[o.who]?.release().catch(() => {});
              break;
            case 'keepAlive':
              held[o.who]?.keepAlive();
              break;
            case 'advance':
              await clock.advance(o.ms);
              break;
            case 'jump':
              await clock.jump(o.ms);
              break;
            case 'delay':
              store.requestDelay = o.ms;
              store.responseDelay = o.ms;
              break;
            case 'outage':
              store.failure = o.down ? new Error('store down') : undefined;
              break;
          }
          check();
        }
        for (const h of held) h?.release().catch(() => {});
        store.requestDelay = 0;
        store.responseDelay = 0;
        store.failure = undefined;
        await clock.advance(5000);
        expect(clock.pendingTimers).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
