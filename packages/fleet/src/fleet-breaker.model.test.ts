import { BrokenCircuitError, consecutiveFailures } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FleetBreaker, fleetBreaker } from './fleet-breaker.js';
import { memoryFleetStore } from './memory-store.js';

type Outcome = 'success' | 'failure' | 'hang';
type Op = { kind: 'call'; instance: number; outcome: Outcome } | { kind: 'advance'; ms: number };

const op = (instances: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('call' as const),
        instance: fc.nat(instances - 1),
        outcome: fc.constantFrom<Outcome>('success', 'failure', 'failure', 'hang'),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(700) }) },
  );

async function settle(clock: VirtualClock, ms = 0): Promise<void> {
  await clock.advance(ms);
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Runs one call; `undefined` when it was rejected. Hanging calls never settle. */
async function call(breaker: FleetBreaker, outcome: Outcome, onRun: () => void): Promise<boolean> {
  const fn = () => {
    onRun();
    if (outcome === 'hang') return new Promise<never>(() => {});
    return outcome === 'success' ? Promise.resolve(1) : Promise.reject(new Error('boom'));
  };
  const pending = breaker.execute(fn);
  if (outcome === 'hang') {
    // Admission is synchronous: a rejection has already settled.
    const rejected = await Promise.race([
      pending.then(
        () => false,
        (error) => error instanceof BrokenCircuitError,
      ),
      Promise.resolve(false)
        .then(() => Promise.resolve(false))
        .then(() => false),
    ]);
    return !rejected;
  }
  try {
    await pending;
    return true;
  } catch (error) {
    return !(error instanceof BrokenCircuitError);
  }
}

/**
 * The naive reference: a circuit breaker written the obvious way (closed → n failures in a row →
 * open for B ms → one probe; a probe that has not settled after B is abandoned).
 */
class Reference {
  state: 'closed' | 'open' | 'half-open' = 'closed';
  run = 0;
  openedAt = 0;
  probeAt = Number.NaN;
  constructor(
    readonly n: number,
    readonly breakMs: number,
  ) {}

  call(outcome: Outcome, now: number): boolean {
    if (this.state === 'open') {
      if (now - this.openedAt < this.breakMs) return false;
      this.state = 'half-open';
      this.probeAt = Number.NaN;
    }
    if (this.state === 'half-open') {
      if (!Number.isNaN(this.probeAt) && now - this.probeAt < this.breakMs) return false;
      this.probeAt = now;
      if (outcome === 'success') {
        this.state = 'closed';
        this.run = 0;
      } else if (outcome === 'failure') {
        this.state = 'open';
        this.openedAt = now;
      }
      return true;
    }
    if (outcome === 'failure' && ++this.run >= this.n) {
      this.state = 'open';
      this.openedAt = now;
    } else if (outcome === 'success') {
      this.run = 0;
    }
    return true;
  }

  read(now: number): string {
    if (this.state === 'open' && now - this.openedAt >= this.breakMs) return 'half-open';
    return this.state;
  }
}

describe('fleetBreaker model tests (fast-check)', () => {
  it('on local state (store down) it is the naive breaker, call for call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op(1), { minLength: 1, maxLength: 80 }), async (ops) => {
        const clock = new VirtualClock();
        const store = memoryFleetStore({ clock, failing: () => true });
        const breaker = fleetBreaker({
          store,
          name: 'm',
          trip: consecutiveFailures(3),
          breakDuration: 500,
          sync: 100,
          clock,
        });
        await settle(clock);
        expect(breaker.local).toBe(true);
        const reference = new Reference(3, 500);
        for (const o of ops) {
          if (o.kind === 'advance') {
            await settle(clock, o.ms);
          } else {
            const admitted = await call(breaker, o.outcome, () => {});
            expect(admitted).toBe(reference.call(o.outcome, clock.now()));
          }
          expect(breaker.state).toBe(reference.read(clock.now()));
        }
        breaker.dispose();
      }),
      { numRuns: 200 },
    );
  });

  it('on a shared store: never two live probes in the fleet, and only while the circuit is not closed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op(3), { minLength: 1, maxLength: 120 }), async (ops) => {
        const clock = new VirtualClock();
        const store = memoryFleetStore({ clock });
        const breakMs = 500;
        const breakers = Array.from({ length: 3 }, (_, i) =>
          fleetBreaker({
            store,
            name: 'm',
            trip: consecutiveFailures(3),
            breakDuration: breakMs,
            sync: 100,
            clock,
            instance: `i${i}`,
          }),
        );
        await settle(clock);
        // Probes that have not settled (hanging ones), with their start.
        const live: number[] = [];
        for (const o of ops) {
          if (o.kind === 'advance') {
            await settle(clock, o.ms);
            continue;
          }
          const b = breakers[o.instance]!;
          const before = b.state;
          let ran = false;
          await call(b, o.outcome, () => {
            ran = true;
          });
          await settle(clock);
          if (ran && before !== 'closed') {
            const now = clock.now();
            // A probe may start only when no other is live (a hung one is given up after B).
            expect(live.filter((at) => now - at < breakMs)).toEqual([]);
            if (o.outcome === 'hang') live.push(now);
          }
        }
        for (const b of breakers) b.dispose();
      }),
      { numRuns: 150 },
    );
  });
});
